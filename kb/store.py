"""The index on disk: the one module that knows its layout.

    index/
      CURRENT                 name of the live version (replaced atomically)
      versions/v-<time>-<id>/ manifest.json, documents.json, chunks.jsonl, vectors.faiss,
                              bm25/ (bm25s's arrays and vocabulary), tokens.jsonl (BM25 terms
                              by text hash, reused by the next build)

A build writes a whole new version folder and only then points CURRENT at it,
so a crash mid-build leaves the last good index and a reader never sees a
half-written one. Everything is JSON or FAISS's own format: nothing is unpickled.
"""
from __future__ import annotations

import fcntl
import json
import os
import shutil
import time
import uuid
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from functools import cached_property
from pathlib import Path

import numpy as np

from .chunking import Chunk
from .documents import Document, Paragraph
from .errors import IndexMismatch, KbError
from .lexical import LexicalIndex
from .provision import default_model_name, is_default_model

FORMAT_VERSION = 2  # 2: bm25/ added beside the vectors
KEEP_VERSIONS = 2  # the live one and the one before it, for readers still switching


class IndexMissing(KbError):
    """No index has been built in this folder yet."""


class IndexCorrupt(KbError):
    """The index files cannot be read."""


@dataclass
class Index:
    """A loaded index: everything search and the web app need, in memory."""

    root: Path | str  # the folder, or the Milvus location (kb/milvus.py)
    version: str
    manifest: dict
    documents: dict[str, Document]
    chunks: list[Chunk]
    dense: object  # the dense side: kb.vectors.FaissVectors, or kb.milvus.MilvusVectors
    lexical: object  # kb.lexical.LexicalIndex, or kb.milvus.MilvusLexical
    visible: np.ndarray | None = None  # in a reader's view (`readable`): the chunks of its documents

    def readable(self, doc_ids) -> "Index":
        """The index as a reader who may see only `doc_ids` has it: `documents` holds only those, and
        every search (`scope.chunk_mask`) only their chunks. The vectors and BM25 arrays are shared."""
        if self.visible is None and set(self.documents) <= set(doc_ids):
            return self
        view = replace(self, documents={k: d for k, d in self.documents.items() if k in doc_ids}, visible=None)
        view.visible = self.doc_mask(view.documents)
        for name in ("chunk_about", "chunk_parts", "chunk_positions"):  # the same in any view
            view.__dict__[name] = getattr(self, name)
        return view

    @property
    def chunk_count(self) -> int:
        """Chunks the reader of this view may see (all of them in the whole index)."""
        return len(self.chunks) if self.visible is None else int(self.visible.sum())

    @cached_property
    def chunk_docs(self) -> np.ndarray:
        """Ordinal (in `documents`) of each chunk's document, computed once per loaded index; a chunk
        of a document outside a reader's view has len(documents)."""
        order = {doc_id: i for i, doc_id in enumerate(self.documents)}
        return np.fromiter((order.get(c.doc_id, len(order)) for c in self.chunks), np.int32, len(self.chunks))

    def doc_mask(self, doc_ids) -> np.ndarray:
        """Boolean mask over chunks: those of the given documents (of this view)."""
        wanted = np.zeros(len(self.documents) + 1, dtype=bool)
        wanted[[i for i, d in enumerate(self.documents) if d in doc_ids]] = True
        return wanted[self.chunk_docs]

    @cached_property
    def speller(self):
        """Reads a character mistyped for another of its sound as the reports spell the word
        (kb/spelling.py), from the text of the chunks this view may see."""
        from .spelling import Speller

        seen = self.visible
        return Speller(self.lexical.words, self.lexical.frequency,
                       lambda: (c.text for i, c in enumerate(self.chunks) if seen is None or seen[i]))

    @cached_property
    def chunk_positions(self) -> dict[str, int]:
        """Chunk id → its position in `chunks` (and in the vectors), computed once per loaded index."""
        return {c.chunk_id: i for i, c in enumerate(self.chunks)}

    @cached_property
    def chunk_parts(self) -> np.ndarray:
        """Which part of its report each chunk is in: +1 the plan for the report's own year ("今年"),
        -1 the review of the year before ("去年"), 0 anything else: a five-year review or plan, a part
        about two years (1993年…回顾和1994年…方针), a report whose parts say no time."""
        years = np.array([d.year or 0 for d in self.documents.values()], np.int32)[self.chunk_docs]
        about = self.chunk_about
        single = (years > 0) & (about[:, 0] == about[:, 1])
        out = np.zeros(len(self.chunks), dtype=np.int8)
        out[single & (about[:, 0] == years)] = 1
        out[single & (about[:, 0] == years - 1)] = -1
        return out

    @cached_property
    def chunk_about(self) -> np.ndarray:
        """The years each chunk's part of its report speaks about (kb/timeframe.py), as rows of
        (first, last); (0, 0) where its report has no year."""
        from .timeframe import paragraph_years

        per_paragraph = {(doc.doc_id, number): span or (0, 0)
                         for doc in self.documents.values() for number, span in paragraph_years(doc).items()}
        out = np.zeros((len(self.chunks), 2), dtype=np.int16)
        for i, c in enumerate(self.chunks):
            out[i] = per_paragraph[c.doc_id, c.paragraph]
        return out

    @property
    def model_name(self) -> str:
        return self.manifest["model"]["name"]

    def vectors(self) -> np.ndarray:
        return self.dense.all()


def _rebuild_hint(root: Path) -> str:
    return f"rebuild it with: kb build --index {root}"


def current_version(root: Path) -> str | None:
    try:
        name = (Path(root) / "CURRENT").read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise IndexCorrupt(f"cannot read the index at {root} ({exc}); {_rebuild_hint(root)}") from exc
    return name or None


def exists(root: Path) -> bool:
    return current_version(root) is not None


def read_manifest(root: Path) -> dict:
    version = current_version(root)
    if version is None:
        raise IndexMissing(f"no index in {root}; build one with: kb build --index {root}")
    path = Path(root) / "versions" / version / "manifest.json"
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(manifest, dict) or "model" not in manifest:
            raise ValueError("not a kb manifest")
    except (OSError, ValueError) as exc:
        raise IndexCorrupt(f"the index at {root} is damaged ({path.name}: {exc}); "
                           f"{_rebuild_hint(root)}") from exc
    return manifest


def check_compatible(manifest: dict, root: Path, model_name: str | None = None) -> None:
    if manifest.get("format") != FORMAT_VERSION:
        raise IndexMismatch(f"the index at {root} has format {manifest.get('format')}, this kb reads "
                            f"format {FORMAT_VERSION}; {_rebuild_hint(root)}")
    built = manifest["model"]["name"]
    if is_default_model(built) and built != default_model_name():
        raise IndexMismatch(f"the index at {root} was embedded with other weights of the bundled model "
                            f"({built!r}) than this kb has ({default_model_name()!r}); {_rebuild_hint(root)}")
    if model_name and model_name != built:
        raise IndexMismatch(f"the index at {root} was built with model {built!r}, not {model_name!r}; "
                            f"rebuild it with: kb build --index {root} --model {model_name!r}, "
                            f"or search with --model {built!r}")


def _doc_to_json(doc: Document) -> dict:
    d = asdict(doc)
    d["paragraphs"] = [[p.number, p.text, list(p.section), p.heading] + ([list(p.pages)] if p.pages else [])
                       for p in doc.paragraphs]
    return d


def _doc_from_json(d: dict) -> Document:
    paras = tuple(Paragraph(n, t, tuple(s), h, tuple(pages[0]) if pages else None)
                  for n, t, s, h, *pages in d["paragraphs"])
    return Document(d["doc_id"], d["title"], d["path"], d["checksum"], paras, d.get("year"), d.get("region"))


def load(root: Path, model_name: str | None = None, for_build: bool = False) -> Index:
    """Load the live version; a damaged one raises IndexCorrupt naming the index and the fix.

    `for_build`: what a new build reuses (chunks, vectors, documents), from an index of any
    earlier format; its BM25 arrays are rebuilt anyway and are not read (`lexical` is None).
    """
    import faiss

    root = Path(root)
    manifest = read_manifest(root)
    if not for_build:
        check_compatible(manifest, root, model_name)
    version = current_version(root)
    folder = root / "versions" / version
    try:
        docs = json.loads((folder / "documents.json").read_text(encoding="utf-8"))
        documents = {d["doc_id"]: _doc_from_json(d) for d in docs}
        chunks = []
        with open(folder / "chunks.jsonl", encoding="utf-8") as fh:
            for line in fh:
                chunks.append(Chunk(**json.loads(line)))
        index = faiss.read_index(str(folder / "vectors.faiss"))
        lexical = None if for_build else LexicalIndex.load(folder / "bm25")
    except (OSError, ValueError, KeyError, TypeError, RuntimeError) as exc:
        raise IndexCorrupt(f"the index at {root} is damaged ({exc}".splitlines()[0]
                           + f"); {_rebuild_hint(root)}") from exc
    if index.ntotal != len(chunks) or index.d != manifest["model"]["dim"]:
        raise IndexCorrupt(f"the index at {root} is damaged (vectors and chunks disagree); "
                           f"{_rebuild_hint(root)}")
    from .vectors import FaissVectors

    return Index(root, version, manifest, documents, chunks, FaissVectors(index, manifest["model"]["dim"]), lexical)


EXACT_LIMIT = 200_000  # up to here exact search answers in ~30 ms on 2 cores; beyond, IVF


def make_faiss(vectors: np.ndarray, exact_limit: int = EXACT_LIMIT):
    """Inner product on normalised vectors, which is cosine similarity.

    Exact (flat) search while it is fast enough; beyond `exact_limit` vectors an
    inverted-file index with sqrt(n) lists, probed widely enough that recall@10
    against exact search stays above 0.95 (scripts/bench.py measures it).
    """
    import faiss

    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    n, dim = vectors.shape
    if n <= exact_limit:
        index = faiss.IndexFlatIP(dim)
        if n:
            index.add(vectors)
        return index
    nlist = int(np.sqrt(n))
    quantizer = faiss.IndexFlatIP(dim)
    index = faiss.IndexIVFFlat(quantizer, dim, nlist, faiss.METRIC_INNER_PRODUCT)
    rng = np.random.default_rng(0)
    sample = vectors[rng.choice(n, size=min(n, 64 * nlist), replace=False)]
    index.train(sample)
    index.add(vectors)
    index.nprobe = max(16, nlist // 32)
    return index


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write(path: Path, text: str) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())


@contextmanager
def build_lock(root: Path):
    """One build at a time per index folder; a second waits for the first."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def read_tokens(index: Index) -> dict[str, list[str]]:
    """BM25 terms of the index's chunks by hash of their text, so the next build
    tokenizes only new text (absent or unreadable: tokenize everything again)."""
    path = index.root / "versions" / index.version / "tokens.jsonl"
    try:
        with open(path, encoding="utf-8") as fh:
            return {key: tokens for key, tokens in map(json.loads, fh)}
    except (OSError, ValueError, TypeError):
        return {}


def write(root: Path, manifest: dict, documents: list[Document], chunks: list[Chunk],
          vectors: np.ndarray, lexical: LexicalIndex, tokens: dict[str, list[str]] | None = None) -> str:
    """Write a new version and switch CURRENT to it; returns the version name."""
    import faiss

    root = Path(root)
    versions = root / "versions"
    versions.mkdir(parents=True, exist_ok=True)
    name = time.strftime("v-%Y%m%dT%H%M%S-", time.gmtime()) + uuid.uuid4().hex[:8]
    tmp = versions / f".tmp-{name}"
    tmp.mkdir()
    try:
        manifest = {**manifest, "format": FORMAT_VERSION}
        _write(tmp / "documents.json",
               json.dumps([_doc_to_json(d) for d in documents], ensure_ascii=False))
        _write(tmp / "chunks.jsonl",
               "".join(json.dumps(asdict(c), ensure_ascii=False) + "\n" for c in chunks))
        faiss.write_index(make_faiss(vectors), str(tmp / "vectors.faiss"))
        lexical.save(tmp / "bm25")
        _write(tmp / "tokens.jsonl", "".join(json.dumps([k, t], ensure_ascii=False) + "\n"
                                             for k, t in (tokens or {}).items()))
        for path in [tmp / "vectors.faiss", *(tmp / "bm25").iterdir()]:
            with open(path, "rb+") as fh:
                os.fsync(fh.fileno())
        manifest["files"] = {path.relative_to(tmp).as_posix(): _sha256(path)
                             for path in sorted(tmp.rglob("*")) if path.is_file()}
        _write(tmp / "manifest.json", json.dumps(manifest, ensure_ascii=False, indent=1))
        _fsync_dir(tmp)
        os.rename(tmp, versions / name)
        _fsync_dir(versions)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    switch(root, name)
    _prune(versions, name)
    return name


def _sha256(path: Path) -> str:
    import hashlib

    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def check(root: Path) -> tuple[list[str], dict]:
    """What is wrong with the live version of the index at `root` (empty: nothing), and what it
    holds. Reads every file: the checksums the build recorded, the counts the manifest says (chunks,
    vectors, documents), the format and the model against this kb's."""
    import faiss

    root = Path(root)
    problems: list[str] = []
    try:
        manifest = read_manifest(root)
    except KbError as exc:
        return [str(exc)], {}
    folder = root / "versions" / current_version(root)
    info = {"version": folder.name, "model": manifest["model"]["name"], **manifest.get("counts", {})}
    try:
        check_compatible(manifest, root)
    except KbError as exc:
        problems.append(str(exc))
    recorded = manifest.get("files")
    if recorded is None:
        info["checksums"] = "none recorded (built before kb recorded them)"
    for name, digest in (recorded or {}).items():
        path = folder / name
        if not path.is_file():
            problems.append(f"{name} is missing")
        elif _sha256(path) != digest:
            problems.append(f"{name} does not match the checksum its build recorded")
    try:
        chunks = sum(1 for _ in open(folder / "chunks.jsonl", encoding="utf-8"))
        documents = len(json.loads((folder / "documents.json").read_text(encoding="utf-8")))
        vectors = faiss.read_index(str(folder / "vectors.faiss")).ntotal
    except (OSError, ValueError, RuntimeError) as exc:
        problems.append(f"cannot read the index's files ({exc})")
    else:
        problems += count_problems(manifest, chunks, documents, vectors, "vectors")
    if problems:
        problems.append(_rebuild_hint(root))
    return problems, info


def count_problems(manifest: dict, chunks: int, documents: int, stored: int, what: str) -> list[str]:
    """Where the chunk list, the `stored` vectors (or rows) and the documents disagree with each
    other or with the counts the build recorded in the manifest."""
    counts = manifest.get("counts", {})
    problems = []
    if not chunks == stored == counts.get("chunks", chunks):
        problems.append(f"{chunks} chunks, {stored} {what}, and the manifest says {counts.get('chunks')}")
    if documents != counts.get("documents", documents):
        problems.append(f"{documents} documents, and the manifest says {counts.get('documents')}")
    return problems


def _prune(versions: Path, live: str) -> None:
    """Drop old versions and leftovers of builds that died, keeping the newest few."""
    names = sorted((p.name for p in versions.iterdir() if p.name.startswith("v-")), reverse=True)
    keep = set(names[:KEEP_VERSIONS]) | {live}
    for p in versions.iterdir():
        if p.name not in keep:
            shutil.rmtree(p, ignore_errors=True)


def versions(root: Path) -> list[dict]:
    """The versions kept (newest first): the live one and the one before it, for `kb rollback`."""
    live = current_version(root)
    folder = Path(root) / "versions"
    names = sorted((p.name for p in folder.iterdir() if p.name.startswith("v-")), reverse=True) \
        if folder.is_dir() else []
    out = []
    for name in names:
        try:
            m = json.loads((folder / name / "manifest.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        out.append({"version": name, "live": name == live, "built_at": m.get("built_at"), **m.get("counts", {})})
    return out


def switch(root: Path, version: str) -> None:
    """Make a written version the live one, atomically (after a build; `kb rollback`)."""
    root = Path(root)
    if not (root / "versions" / version / "manifest.json").is_file():
        raise KbError(f"no version {version!r} in {root} (kb status lists the versions kept)")
    _write(root / "CURRENT.tmp", version + "\n")
    os.replace(root / "CURRENT.tmp", root / "CURRENT")
    _fsync_dir(root)


class FolderStore:
    """An index in a folder (FAISS, bm25s's arrays, JSON): the default store. The Milvus store
    (kb/milvus.py) answers the same calls, so building, searching and serving do not ask which."""

    def __init__(self, root: Path | str):
        self.root = Path(root)
        self.location = str(root)

    def exists(self) -> bool:
        return exists(self.root)

    def version(self) -> str | None:
        return current_version(self.root)

    def manifest(self) -> dict:
        return read_manifest(self.root)

    def load(self, model_name: str | None = None, for_build: bool = False) -> Index:
        return load(self.root, model_name, for_build)

    def lock(self):
        return build_lock(self.root)

    def tokens(self, index: Index) -> dict[str, list[str]]:
        return read_tokens(index)

    def write(self, manifest: dict, documents: list[Document], chunks: list[Chunk], vectors: np.ndarray,
              lexical: LexicalIndex, tokens: dict[str, list[str]] | None = None) -> str:
        return write(self.root, manifest, documents, chunks, vectors, lexical, tokens)

    def check(self) -> tuple[list[str], dict]:
        return check(self.root)

    def versions(self) -> list[dict]:
        return versions(self.root)

    def switch(self, version: str) -> None:
        switch(self.root, version)


def is_milvus(location) -> bool:
    return str(location).startswith(("milvus:", "http://", "https://"))


def open_store(location: Path | str):
    """The store at `location`: `milvus:FILE.db` (a milvus-lite file) or `http(s)://HOST:PORT` (a Milvus
    server) is kept in Milvus (kb/milvus.py); anything else is a folder. A store is returned as it is
    (a server builds into the store it serves from: a milvus-lite file opens in one client only)."""
    if hasattr(location, "versions"):
        return location
    if is_milvus(location):
        from .milvus import MilvusStore

        return MilvusStore(str(location))
    return FolderStore(location)


def load_index(location: Path | str, model_name: str | None = None) -> Index:
    """The live index at a folder or Milvus location."""
    return open_store(location).load(model_name)
