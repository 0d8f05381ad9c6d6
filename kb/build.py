"""Reports folder to index, embedding only text the previous index has not seen.

Vectors are reused by content hash (`Chunk.key`), so editing one paragraph
re-embeds only that paragraph's chunks, and moving text around costs nothing.
"""
from __future__ import annotations

import hashlib
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from . import store
from .chunking import ChunkSettings, chunk_document, lexical_text
from .documents import SUFFIXES, Document, read_documents
from .errors import DocumentError, KbError
from .lexical import CUT_VERSION, LexicalIndex, full_dictionary, tokenize


@dataclass
class BuildStats:
    documents: int
    paragraphs: int
    chunks: int
    embedded: int
    reused: int
    removed: int
    seconds: float
    added_documents: list[str] = field(default_factory=list)
    changed_documents: list[str] = field(default_factory=list)
    removed_documents: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


def _previous(target, model: str, warn) -> store.Index | None:
    """The index to reuse vectors from, if it is readable and made with this model."""
    if not target.exists():
        return None
    try:
        prev = target.load(for_build=True)
    except KbError as exc:
        warn(f"the previous index cannot be reused ({exc}); building from scratch")
        return None
    if prev.manifest["model"]["name"] != model:
        warn(f"the previous index was built with {prev.manifest['model']['name']!r}; "
             f"re-embedding everything with {model!r}")
        return None
    return prev


def _remembered_skips(target, settings_now: dict) -> dict[str, str]:
    """Files the last build skipped, by checksum → why; forgotten when the limits changed."""
    try:
        manifest = target.manifest() if target.exists() else {}
    except KbError:
        return {}
    if manifest.get("limits") != settings_now:
        return {}
    return {s["key"]: s["reason"] for s in manifest.get("skipped_files", []) if "key" in s}


def build(docs: Path, index_dir: Path | str, model: str | None = None,
          settings: ChunkSettings = ChunkSettings(), warn=None, progress=None,
          embedder=None, device: str | None = None) -> BuildStats:
    """Build or update the index at `index_dir` (a folder, or a Milvus location: kb/milvus.py) from
    the reports in `docs`.

    `warn(msg)` receives skipped files and other notices; `progress(total)` is
    called once with the number of chunks to embed and returns a callable that
    is given each batch's size (or None for no progress display). `device` is where the model
    runs when this build loads it: cpu, cuda, or auto (the default: a GPU when there is one).
    """
    from .embedding import load_embedder, model_name

    warn = warn or (lambda msg: None)
    started = time.perf_counter()
    skipped: list[str] = []

    def note(msg):
        skipped.append(msg)
        warn(msg)

    from . import limits

    settings_now = {name: limits.limit(name) for name in limits.DEFAULTS}
    target = store.open_store(index_dir)
    known = _remembered_skips(target, settings_now)
    skipped_files: list[dict] = []

    def failed(path: Path, key: str, reason: str) -> None:
        skipped_files.append({"path": str(path), "key": key, "reason": reason})

    documents = read_documents(Path(docs), warn=note, known=known, failed=failed)
    if not documents:
        raise DocumentError(f"no readable reports ({' '.join(SUFFIXES)}) in {docs}")
    name = model_name(model)
    with target.lock():
        prev = _previous(target, name, warn)
        chunks = [c for d in documents for c in chunk_document(d, settings)]
        keys = [c.key for c in chunks]
        known: dict[str, np.ndarray] = {}
        if prev is not None:  # the vectors of the text that is still there
            wanted = set(keys)
            first = {}
            for i, c in enumerate(prev.chunks):
                if c.key in wanted:
                    first.setdefault(c.key, i)
            known = dict(zip(first, prev.dense.take(list(first.values()))))
        todo = list(dict.fromkeys(k for k in keys if k not in known))
        if todo or (prev is None and embedder is None):
            embedder = embedder or load_embedder(name, device=device or os.environ.get("KB_DEVICE") or "auto")
        dim = embedder.dim if embedder is not None else prev.manifest["model"]["dim"]
        if todo:
            text_of = {c.key: c.embed_text for c in chunks}
            step = progress(len(todo)) if progress else None
            new = embedder.encode_passages([text_of[k] for k in todo], progress=step)
            known.update(zip(todo, new))
        vectors = (np.stack([known[k] for k in keys]) if keys
                   else np.zeros((0, dim), np.float32))
        prev_docs = prev.documents if prev else {}
        manifest = {
            "model": {"name": name, "dim": dim},
            "chunking": asdict(settings),
            "documents": [{"doc_id": d.doc_id, "path": d.path, "title": d.title,
                           "checksum": d.checksum} for d in documents],
            "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "docs_dir": str(Path(docs).resolve()),
            "counts": {"documents": len(documents), "chunks": len(chunks)},
            # files that failed or were over a limit: not read again while unchanged (same limits)
            "skipped_files": skipped_files,
            "limits": settings_now,
            "cut": CUT_VERSION,  # how its text was cut into words (an older cut is cut again: kb.cli.open_index)
        }
        lexical, tokens = lexical_side(documents, chunks, target.tokens(prev) if prev is not None else {})
        target.write(manifest, documents, chunks, vectors, lexical, tokens)
    prev_keys = {c.key for c in prev.chunks} if prev else set()
    new_ids = {d.doc_id: d for d in documents}
    return BuildStats(
        documents=len(documents),
        paragraphs=sum(1 for d in documents for p in d.paragraphs if not p.heading),
        chunks=len(chunks),
        embedded=len(todo),
        reused=sum(1 for k in set(keys) if k in prev_keys),
        removed=len(prev_keys - set(keys)),
        seconds=round(time.perf_counter() - started, 3),
        added_documents=sorted(set(new_ids) - set(prev_docs)),
        changed_documents=sorted(i for i, d in new_ids.items()
                                 if i in prev_docs and prev_docs[i].checksum != d.checksum),
        removed_documents=sorted(set(prev_docs) - set(new_ids)),
        skipped=skipped,
    )


def lexical_side(documents: list[Document], chunks, cached: dict[str, list[str]]
                 ) -> tuple[LexicalIndex, dict[str, list[str]]]:
    """BM25 over the chunks, and their terms by hash of their text; text the last build cut
    (`cached`) is not cut again."""
    by_id = {d.doc_id: d for d in documents}
    tokens: dict[str, list[str]] = {}
    corpus = []
    texts = [lexical_text(by_id[c.doc_id], c) for c in chunks]
    # keyed by how text is cut too: terms a build before a change of that cut are not reused
    keys_of = [hashlib.sha1(f"{CUT_VERSION}\n{text}".encode("utf-8")).hexdigest() for text in texts]
    if sum(1 for k in set(keys_of) if k not in cached) > 50:
        full_dictionary()  # many texts to cut: jieba's in-memory dictionary pays for its load
    for text, key in zip(texts, keys_of):
        if key not in tokens:
            tokens[key] = cached[key] if key in cached else tokenize(text)
        corpus.append(tokens[key])
    return LexicalIndex.from_tokens(corpus), tokens


def copy_index(source, target) -> str:
    """The live version of one store written as a new version of another (a folder index into
    Milvus, or back; or of itself, its text cut into words again), nothing embedded again; returns
    the new version's name."""
    source, target = store.open_store(source), store.open_store(target)
    prev = source.load(for_build=True)
    documents = list(prev.documents.values())
    lexical, tokens = lexical_side(documents, prev.chunks, source.tokens(prev))
    with target.lock():
        return target.write({**prev.manifest, "cut": CUT_VERSION}, documents, prev.chunks, prev.dense.all(),
                            lexical, tokens)


def changed_since(index: store.Index | dict, docs: Path) -> dict[str, list[str]]:
    """Which reports in `docs` differ from what the index was built from."""
    manifest = index.manifest if isinstance(index, store.Index) else index
    built = {d["doc_id"]: d["checksum"] for d in manifest["documents"]}
    known = {s["key"]: s["reason"] for s in manifest.get("skipped_files", []) if "key" in s}
    now: dict[str, Document] = {d.doc_id: d for d in read_documents(Path(docs), known=known)}
    return {
        "added": sorted(set(now) - set(built)),
        "changed": sorted(i for i in now if i in built and now[i].checksum != built[i]),
        "removed": sorted(set(built) - set(now)),
    }
