"""The index in Milvus: a milvus-lite file (`milvus:/path/kb.db`) or a Milvus server
(`http://HOST:PORT`, token from KB_MILVUS_TOKEN), behind the same calls as the folder store
(kb/store.py FolderStore), so that building, searching and serving do not know which one answers.

    alias  kb  ──►  kb__v20261130120000_1a2b3c4d           one row per chunk: pos (its position),
                                                           key, doc_id, paragraph, year, region,
                                                           section (its heading path), text,
                                                           vec (HNSW, inner product = cosine) and
                                                           terms (kb's BM25 weights, a sparse vector)
                    kb__v20261130120000_1a2b3c4d__catalog  the version's manifest, documents with
                                                           their paragraphs, chunk list, BM25
                                                           vocabulary and document frequencies,
                                                           cut terms (for the next build)

A build writes a whole new pair of collections and only then moves the alias (KB_COLLECTION, default
`kb`) onto it, so a search never sees a half-written index; the version before stays for `kb
rollback`. A replica (`kb serve`) reads the catalog (documents and chunk list, no vectors, no BM25
arrays) and asks Milvus for every candidate: the nearest vectors and the best BM25 scores within a
filter (documents, years, regions as a `doc_id in [...]` expression).

BM25 runs as kb's own term weights sent as sparse vectors (numbers such as 6% and PM2.5 whole,
traditional characters folded, the IDF of a term within the reports searched): the same scores as
the folder index. Milvus's own BM25 function with its jieba analyzer ranks 5–11 points lower
(scripts/milvus_check.py). Needs `pip install -e ".[milvus]"`.
"""
from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import re
import threading
import time
import uuid
import zlib
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path

import numpy as np

from .chunking import Chunk
from .errors import KbError, StoreUnavailable

BATCH = 1000
HNSW = {"M": 16, "efConstruction": 200}
EF = 128  # search breadth: FAISS's exact top 10 within a few ranks
MAX_LIMIT = 16384  # the most hits Milvus returns for one search
BM25_DEPTH = 2000  # BM25 hits asked for: every chunk that scores, up to this many (deeper ones count 0;
# asking Milvus for 16,384 costs 3x the time at any size, and search ranks a few hundred candidates)
PART = 60_000  # characters of a catalog row (Milvus's VARCHAR holds 65,535 bytes)
KEEP_VERSIONS = 2
NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,100}")


def _pymilvus():
    try:
        import pymilvus
    except ImportError:
        raise KbError("an index in Milvus needs pymilvus and milvus-lite: pip install -e \".[milvus]\"") from None
    logging.getLogger("pymilvus").setLevel(logging.CRITICAL)  # its errors become kb's one-line messages
    return pymilvus


def connect(location: str):
    """A client for `milvus:PATH.db` (a milvus-lite file) or `http(s)://HOST:PORT` (a Milvus server;
    its credentials from KB_MILVUS_TOKEN, never from the command line)."""
    pymilvus = _pymilvus()
    if location.startswith("milvus:"):
        path = os.path.abspath(location.removeprefix("milvus:"))
        if not path.endswith(".db"):
            raise KbError(f"a milvus-lite file's name ends in .db (milvus:{path}.db), not {location!r}")
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        try:
            return pymilvus.MilvusClient(path)
        except pymilvus.MilvusException as exc:
            raise StoreUnavailable(
                f"cannot open the milvus-lite file {path} ({exc.message}); a file serves one process at a "
                f"time: stop the other (a kb serve?), or serve it with `milvus-lite server --data-dir DIR` "
                f"and use --index http://127.0.0.1:19530") from None
    if location.startswith(("http://", "https://")):
        try:
            return pymilvus.MilvusClient(location, token=os.environ.get("KB_MILVUS_TOKEN", ""), timeout=10)
        except pymilvus.MilvusException as exc:
            raise StoreUnavailable(f"Milvus at {location} cannot be reached ({exc.message})") from None
    raise KbError(f"{location!r} is not a Milvus location (milvus:PATH.db or http://HOST:PORT)")


@contextmanager
def _talking(location: str):
    """Milvus's errors as kb's: unreachable → StoreUnavailable (the web app answers 503)."""
    pymilvus = _pymilvus()
    try:
        yield
    except pymilvus.MilvusException as exc:
        raise StoreUnavailable(f"Milvus at {location} failed: {exc.message}".splitlines()[0]) from None
    except (ConnectionError, OSError) as exc:
        raise StoreUnavailable(f"Milvus at {location} cannot be reached ({exc})") from None
    except Exception as exc:  # grpc's errors (the server went away) have no common base in pymilvus
        if type(exc).__module__.startswith(("grpc", "pymilvus")):
            raise StoreUnavailable(f"Milvus at {location} cannot be reached ({type(exc).__name__})") from None
        raise


def _literal(values) -> str:
    return "[" + ",".join(json.dumps(v, ensure_ascii=False) for v in values) + "]"


class ChunkFilter:
    """A mask over chunk positions as a Milvus filter expression: the documents it covers (what
    --doc/--year/--region and a reader's view select) where it is a union of whole documents, else
    the positions themselves."""

    def __init__(self, chunks: list[Chunk]):
        self.doc_ids = list(dict.fromkeys(c.doc_id for c in chunks))
        order = {d: i for i, d in enumerate(self.doc_ids)}
        self.chunk_docs = np.fromiter((order[c.doc_id] for c in chunks), np.int32, len(chunks))
        self.sizes = np.bincount(self.chunk_docs, minlength=len(self.doc_ids))

    def docs(self, mask: np.ndarray | None) -> np.ndarray | None:
        """Ordinals of the documents with chunks in `mask` (None: all)."""
        return None if mask is None else np.unique(self.chunk_docs[mask])

    def where(self, mask: np.ndarray | None) -> str:
        if mask is None or mask.all():
            return ""
        docs = self.docs(mask)
        if int(mask.sum()) == int(self.sizes[docs].sum()):
            return f"doc_id in {_literal(self.doc_ids[i] for i in docs)}"
        return f"pos in {_literal(np.flatnonzero(mask).tolist())}"


def dense_index(chunks: int) -> str:
    """The vector index a collection of `chunks` gets: exact (FLAT) while exact search is fast enough,
    as the folder index does (kb.store.EXACT_LIMIT), HNSW beyond; KB_MILVUS_INDEX=FLAT|HNSW decides.
    Exact search also keeps a search within a few reports exact: milvus-lite filters HNSW's hits after
    the graph search, so a report of 3% of the chunks got 52 of its 100 nearest (gov-2026 library)."""
    from .store import EXACT_LIMIT

    chosen = (os.environ.get("KB_MILVUS_INDEX") or "auto").upper()
    if chosen not in ("AUTO", "FLAT", "HNSW"):
        raise KbError(f"KB_MILVUS_INDEX is FLAT, HNSW or auto, not {chosen!r}")
    return chosen if chosen != "AUTO" else ("FLAT" if chunks <= EXACT_LIMIT else "HNSW")


class MilvusVectors:
    """The dense side in Milvus (kb/vectors.py's interface)."""

    def __init__(self, client, collection: str, dim: int, count: int, chunk_filter: ChunkFilter, location: str):
        self.client, self.collection, self.dim, self.count = client, collection, dim, count
        self.filter, self.location = chunk_filter, location
        self._last = threading.local()

    def ask(self, method: str, *args, **kwargs):
        """Search or query the collection; one that a restarted Milvus released is loaded again."""
        pymilvus = _pymilvus()
        with _talking(self.location):
            try:
                return getattr(self.client, method)(self.collection, *args, **kwargs)
            except pymilvus.MilvusException as exc:
                if "load" not in str(exc.message).lower():
                    raise
                self.client.load_collection(self.collection)
                return getattr(self.client, method)(self.collection, *args, **kwargs)

    def nearest(self, qv: np.ndarray, n: int, mask: np.ndarray | None = None) -> dict[int, float]:
        if mask is not None and not mask.any():
            return {}
        # HNSW filtered after the graph search (milvus-lite) needs a breadth of n over the share searched
        share = 1.0 if mask is None else max(float(mask.mean()), 1e-6)
        ef = int(min(MAX_LIMIT, max(EF, n) / share))
        hits = self.ask("search", [qv[0].tolist()], anns_field="vec", limit=min(n, MAX_LIMIT),
                        filter=self.filter.where(mask), output_fields=["pos"],
                        search_params={"metric_type": "IP", "params": {"ef": ef}})
        return {int(h["pos"]): float(h["distance"]) for h in hits[0]}

    def rows(self, ids, field: str) -> dict[int, object]:
        """`field` of the chunks at positions `ids`. The ranker asks for the vectors and then the terms
        of the same candidates: both come in one answer, kept for the next call of this thread."""
        ids = tuple(int(i) for i in ids)
        last = getattr(self._last, "rows", None)
        if last is not None and last[0] == ids:
            return {i: row[field] for i, row in last[1].items()}
        few = len(ids) <= BATCH  # a search's candidates, not a build reading vectors back
        fields = ["pos", "vec", "terms"] if few else ["pos", field]
        found = {}
        for start in range(0, len(ids), BATCH):
            part = list(ids[start:start + BATCH])
            for row in self.ask("query", filter=f"pos in {_literal(part)}", output_fields=fields):
                found[int(row["pos"])] = row
        if few:
            self._last.rows = (ids, found)
        return {i: row[field] for i, row in found.items()}

    def take(self, ids) -> np.ndarray:
        ids = [int(i) for i in ids]
        vecs = self.rows(ids, "vec")
        if not ids:
            return np.zeros((0, self.dim), np.float32)
        return np.stack([np.asarray(vecs[i], np.float32) for i in ids])

    def cosines(self, qv: np.ndarray, ids: np.ndarray, found: dict[int, float]) -> np.ndarray:
        return self.take(ids) @ qv[0]

    def all(self) -> np.ndarray:
        return self.take(range(self.count))


class MilvusLexical:
    """BM25 in Milvus (kb/lexical.py's interface): each chunk's kb BM25 weights are a sparse vector;
    a question is the sparse vector of its terms, each weighted by its IDF within the reports searched
    over its IDF in the whole index, so the inner product Milvus computes is the folder index's score.
    The replica keeps only the vocabulary and each term's count of chunks per document (for that IDF)."""

    def __init__(self, vectors: MilvusVectors, vocab: dict[str, int], df_indptr, df_docs, df_counts):
        self.vectors, self.vocab = vectors, vocab
        self.df_indptr, self.df_docs, self.df_counts = df_indptr, df_docs, df_counts
        self.df_all = np.bincount(np.repeat(np.arange(len(df_indptr) - 1), np.diff(df_indptr)), weights=df_counts,
                                  minlength=len(df_indptr) - 1).astype(np.int64)

    def words(self):
        return self.vocab.keys()

    def frequency(self, word: str) -> int:
        """In how many chunks `word` is (0: the reports do not use it)."""
        from .lexical import fold

        term = self.vocab.get(fold(word))
        return 0 if term is None else int(self.df_all[term])

    def _weights(self, query: str, mask: np.ndarray | None) -> tuple[dict[int, float], float, float, int]:
        """The question's terms {id: IDF within mask}, their total, the weight of words the index lacks
        there, and how many chunks at most can score (a bound for how many hits to ask for)."""
        from .lexical import LexicalIndex, _idf

        words, counted, never_met = LexicalIndex.query_words(query)
        n = self.vectors.count
        docs = self.vectors.filter.docs(mask)
        n_in = n if mask is None else int(mask.sum())
        weights, bound, found = {}, 0, 0
        for t in words:  # as LexicalIndex._postings counts them
            term = self.vocab.get(t)
            if term is None:
                continue
            lo, hi = int(self.df_indptr[term]), int(self.df_indptr[term + 1])
            df = int(self.df_counts[lo:hi].sum()) if docs is None \
                else int(self.df_counts[lo:hi][np.isin(self.df_docs[lo:hi], docs)].sum())
            if df:
                weights[term] = _idf(n_in, df)
                bound += df
                found += t in counted
        unknown = _idf(n_in, 0) * (len(counted) - found + never_met)
        return weights, sum(weights.values()), unknown, bound

    def scores(self, query: str, mask: np.ndarray | None = None) -> tuple[np.ndarray, float]:
        from .lexical import _idf

        weights, known, unknown, bound = self._weights(query, mask)
        out = np.zeros(self.vectors.count, dtype=np.float32)
        if weights:
            n = self.vectors.count
            data = {t: w / _idf(n, int(self.df_all[t])) for t, w in weights.items()}
            hits = self.vectors.ask("search", [data], anns_field="terms", limit=min(bound, BM25_DEPTH),
                                    filter=self.vectors.filter.where(mask), output_fields=["pos"],
                                    search_params={"metric_type": "IP"})
            for h in hits[0]:
                out[int(h["pos"])] = h["distance"]
        total = known + unknown
        return out, known / total if total else 0.0

    def matched(self, query: str, rows: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
        weights, known, unknown, _ = self._weights(query, mask)
        out = np.zeros(len(rows), dtype=np.float32)
        if weights:
            terms = self.vectors.rows(rows, "terms")
            for j, i in enumerate(rows):
                has = terms.get(int(i)) or {}
                out[j] = sum(w for t, w in weights.items() if t in has)
        total = known + unknown
        return out / total if total else out


def sparse_rows(lexical, n: int) -> list[dict[int, float]]:
    """Each chunk's BM25 weights {term id: weight} from bm25s's arrays (kept term by term)."""
    stored = lexical.retriever.scores
    indptr, indices, data = (np.asarray(stored[k]) for k in ("indptr", "indices", "data"))
    terms = np.repeat(np.arange(len(indptr) - 1), np.diff(indptr))
    order = np.argsort(indices, kind="stable")
    starts = np.searchsorted(indices[order], np.arange(n + 1))
    t, d = terms[order].tolist(), data[order].tolist()
    return [dict(zip(t[starts[i]:starts[i + 1]], d[starts[i]:starts[i + 1]])) for i in range(n)]


def term_frequencies(lexical, chunk_docs: np.ndarray, documents: int) -> dict:
    """The vocabulary, and for each term the documents it is in with how many of their chunks have it."""
    stored = lexical.retriever.scores
    indptr, indices = np.asarray(stored["indptr"]), np.asarray(stored["indices"])
    terms = np.repeat(np.arange(len(indptr) - 1, dtype=np.int64), np.diff(indptr))
    pairs, counts = np.unique(terms * max(documents, 1) + chunk_docs[indices], return_counts=True)
    by_term = pairs // max(documents, 1)
    vocab = sorted(lexical.retriever.vocab_dict.items(), key=lambda kv: kv[1])
    return {"vocab": [t for t, _ in vocab],
            "indptr": np.searchsorted(by_term, np.arange(len(indptr))).tolist(),
            "docs": (pairs % max(documents, 1)).tolist(), "counts": counts.tolist()}


def _pack(value) -> list[str]:
    text = base64.b64encode(zlib.compress(json.dumps(value, ensure_ascii=False).encode("utf-8"), 6)).decode()
    return [text[i:i + PART] for i in range(0, len(text), PART)] or [""]


def _unpack(parts: list[str]):
    return json.loads(zlib.decompress(base64.b64decode("".join(parts))).decode("utf-8"))


class MilvusStore:
    """An index in Milvus (see the module's docstring); the same calls as kb.store.FolderStore."""

    def __init__(self, location: str):
        self.location = location
        self.alias = os.environ.get("KB_COLLECTION") or "kb"
        if not NAME.fullmatch(self.alias):
            raise KbError(f"KB_COLLECTION must be letters, digits and _ (starting with a letter), "
                          f"not {self.alias!r}")
        self._client = None
        self._loaded: set[str] = set()

    def __str__(self) -> str:
        return self.location

    @property
    def client(self):
        if self._client is None:
            self._client = connect(self.location)
        return self._client

    def close(self) -> None:
        """Let go of Milvus; a milvus-lite file is then free for another process to open."""
        if self._client is not None:
            self._client.close()
            self._client = None
        if self.location.startswith("milvus:"):
            from milvus_lite.server_manager import server_manager_instance

            server_manager_instance.release_server(os.path.abspath(self.location.removeprefix("milvus:")))

    def _collection(self, version: str) -> str:
        return f"{self.alias}__{version}"

    def _catalog(self, version: str) -> str:
        return f"{self.alias}__{version}__catalog"

    def version(self) -> str | None:
        with _talking(self.location):
            if self.alias not in self.client.list_aliases().get("aliases", []):
                return None
            name = self.client.describe_alias(self.alias)["collection_name"]
        return name.removeprefix(f"{self.alias}__")

    def exists(self) -> bool:
        return self.version() is not None

    def _live(self) -> str:
        from .store import IndexMissing

        version = self.version()
        if version is None:
            raise IndexMissing(f"no index in {self.location} (alias {self.alias}); build one with: "
                               f"kb build --index {self.location}")
        return version

    def _ready(self, collection: str) -> str:
        """`collection`, loaded (Milvus searches only loaded collections; a restarted milvus-lite has
        released them)."""
        if collection not in self._loaded:
            with _talking(self.location):
                self.client.load_collection(collection)
            self._loaded.add(collection)
        return collection

    def _read(self, version: str, name: str):
        self._ready(self._catalog(version))
        with _talking(self.location):
            parts = self.client.query(self._catalog(version), filter=f"name == {json.dumps(name)}",
                                      output_fields=["id", "part"], limit=MAX_LIMIT)
            parts.sort(key=lambda r: r["part"])
            rows = []
            for start in range(0, len(parts), 50):  # ~3 MB an answer
                ids = [r["id"] for r in parts[start:start + 50]]
                rows += self.client.query(self._catalog(version), filter=f"id in {_literal(ids)}",
                                          output_fields=["part", "data"])
        if not rows:
            from .store import IndexCorrupt

            raise IndexCorrupt(f"the index in {self.location} lacks its {name} (version {version}); "
                               f"rebuild it with: kb build --index {self.location}")
        return _unpack([r["data"] for r in sorted(rows, key=lambda r: r["part"])])

    def manifest(self, version: str | None = None) -> dict:
        return self._read(version or self._live(), "manifest")

    def load(self, model_name: str | None = None, for_build: bool = False):
        from .store import Index, _doc_from_json, check_compatible

        version = self._live()
        manifest = self.manifest(version)
        if not for_build:
            check_compatible(manifest, self.location, model_name)
        documents = {d["doc_id"]: _doc_from_json(d) for d in self._read(version, "documents")}
        chunks = [Chunk(**c) for c in self._read(version, "chunks")]
        vectors = MilvusVectors(self.client, self._ready(self._collection(version)), manifest["model"]["dim"],
                                len(chunks), ChunkFilter(chunks), self.location)
        lexical = None
        if not for_build:
            terms = self._read(version, "terms")
            lexical = MilvusLexical(vectors, {t: i for i, t in enumerate(terms["vocab"])},
                                    np.asarray(terms["indptr"], np.int64), np.asarray(terms["docs"], np.int32),
                                    np.asarray(terms["counts"], np.int64))
        return Index(self.location, version, manifest, documents, chunks, vectors, lexical)

    def tokens(self, index) -> dict[str, list[str]]:
        try:
            return dict(self._read(index.version, "tokens"))
        except KbError:
            return {}

    @contextmanager
    def lock(self):
        """One build at a time from this machine (a lock file in kb's cache, by location)."""
        import fcntl

        from .provision import user_cache

        folder = user_cache() / "locks"
        folder.mkdir(parents=True, exist_ok=True)
        name = hashlib.sha1(f"{self.location} {self.alias}".encode()).hexdigest()[:16]
        with open(folder / name, "w") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def write(self, manifest: dict, documents, chunks: list[Chunk], vectors: np.ndarray, lexical,
              tokens: dict[str, list[str]] | None = None) -> str:
        """Write a new version (catalog, then chunks) and only then move the alias onto it."""
        from .store import FORMAT_VERSION, _doc_to_json

        pymilvus = _pymilvus()
        DataType = pymilvus.DataType
        version = time.strftime("v%Y%m%d%H%M%S_", time.gmtime()) + uuid.uuid4().hex[:8]
        collection, catalog = self._collection(version), self._catalog(version)
        manifest = {**manifest, "format": FORMAT_VERSION, "store": "milvus"}
        dim = manifest["model"]["dim"]
        client = self.client
        try:
            with _talking(self.location):
                schema = client.create_schema(auto_id=False)
                schema.add_field("id", DataType.INT64, is_primary=True)
                schema.add_field("name", DataType.VARCHAR, max_length=64)
                schema.add_field("part", DataType.INT64)
                schema.add_field("data", DataType.VARCHAR, max_length=65535)
                schema.add_field("unused", DataType.FLOAT_VECTOR, dim=2)  # Milvus wants a vector field
                params = client.prepare_index_params()
                params.add_index("unused", index_type="FLAT", metric_type="L2")
                client.create_collection(catalog, schema=schema, index_params=params)
                order = {d.doc_id: i for i, d in enumerate(documents)}
                chunk_docs = np.fromiter((order[c.doc_id] for c in chunks), np.int32, len(chunks))
                values = {"manifest": manifest, "documents": [_doc_to_json(d) for d in documents],
                          "chunks": [asdict(c) for c in chunks],
                          "terms": term_frequencies(lexical, chunk_docs, len(documents)),
                          "tokens": list((tokens or {}).items())}
                rows = [{"name": name, "part": p, "data": text, "unused": [0.0, 0.0]}
                        for name, value in values.items() for p, text in enumerate(_pack(value))]
                for i, row in enumerate(rows):
                    row["id"] = i
                for start in range(0, len(rows), 20):
                    client.insert(catalog, rows[start:start + 20])
                client.flush(catalog)
                client.load_collection(catalog)

                schema = client.create_schema(auto_id=False)
                schema.add_field("pos", DataType.INT64, is_primary=True)
                schema.add_field("key", DataType.VARCHAR, max_length=64)
                schema.add_field("doc_id", DataType.VARCHAR, max_length=1024)
                schema.add_field("paragraph", DataType.INT64)
                schema.add_field("year", DataType.INT64)
                schema.add_field("region", DataType.VARCHAR, max_length=64)
                schema.add_field("section", DataType.VARCHAR, max_length=8192)
                schema.add_field("text", DataType.VARCHAR, max_length=65535)
                schema.add_field("vec", DataType.FLOAT_VECTOR, dim=dim)
                schema.add_field("terms", DataType.SPARSE_FLOAT_VECTOR)
                params = client.prepare_index_params()
                kind = dense_index(len(chunks))
                params.add_index("vec", index_type=kind, metric_type="IP", params=HNSW if kind == "HNSW" else {})
                params.add_index("terms", index_type="SPARSE_INVERTED_INDEX", metric_type="IP")
                client.create_collection(collection, schema=schema, index_params=params)
                by_id = {d.doc_id: d for d in documents}
                weights = sparse_rows(lexical, len(chunks))
                nothing = {len(lexical.retriever.vocab_dict): 1.0}  # a term no question has: Milvus wants one
                for start in range(0, len(chunks), BATCH):
                    client.insert(collection, [
                        {"pos": i, "key": c.key, "doc_id": c.doc_id, "paragraph": c.paragraph,
                         "year": by_id[c.doc_id].year or 0, "region": by_id[c.doc_id].region or "",
                         "section": by_id[c.doc_id].paragraphs[c.paragraph - 1].section_path[:2000],
                         "text": c.text[:16000], "vec": vectors[i].tolist(), "terms": weights[i] or nothing}
                        for i, c in enumerate(chunks[start:start + BATCH], start)])
                client.flush(collection)
                client.load_collection(collection)
                if self.alias in client.list_aliases().get("aliases", []):
                    client.alter_alias(collection, self.alias)
                else:
                    client.create_alias(collection, self.alias)
        except BaseException:
            try:  # what this build wrote; where Milvus is gone, the next build's prune drops it
                for name in (collection, catalog):
                    if client.has_collection(name):
                        client.drop_collection(name)
            except Exception:
                pass
            raise
        self._prune(version)
        return version

    def _kept(self) -> list[str]:
        """Versions in Milvus under this alias, newest first."""
        with _talking(self.location):
            names = self.client.list_collections()
        prefix = f"{self.alias}__"
        return sorted((n.removeprefix(prefix) for n in names if n.startswith(prefix) and not n.endswith("__catalog")),
                      reverse=True)

    def _prune(self, live: str) -> None:
        """Drop versions beyond the newest few (and what failed builds left), never the live one."""
        kept = self._kept()
        keep = set(kept[:KEEP_VERSIONS]) | {live}
        with _talking(self.location):
            names = set(self.client.list_collections())
            for version in kept:
                if version not in keep:
                    self.client.drop_collection(self._collection(version))
            for name in names:
                if name.startswith(f"{self.alias}__") and name.endswith("__catalog") \
                        and name.removeprefix(f"{self.alias}__").removesuffix("__catalog") not in keep:
                    self.client.drop_collection(name)

    def versions(self) -> list[dict]:
        live = self.version()
        out = []
        for version in self._kept():
            try:
                m = self.manifest(version)
            except KbError:
                continue
            out.append({"version": version, "live": version == live, "built_at": m.get("built_at"),
                        **m.get("counts", {})})
        return out

    def switch(self, version: str) -> None:
        if version not in self._kept():
            raise KbError(f"no version {version!r} in {self.location} (kb status lists the versions kept)")
        with _talking(self.location):
            self.client.alter_alias(self._collection(version), self.alias)

    def check(self) -> tuple[list[str], dict]:
        from .store import check_compatible, count_problems

        try:
            version = self._live()
            manifest = self.manifest(version)
            documents = len(self._read(version, "documents"))
            chunks = len(self._read(version, "chunks"))
            with _talking(self.location):
                rows = int(self.client.get_collection_stats(self._collection(version))["row_count"])
        except KbError as exc:
            return [str(exc)], {}
        info = {"version": version, "model": manifest["model"]["name"], **manifest.get("counts", {}),
                "checksums": "none (Milvus keeps the data)"}
        problems = []
        try:
            check_compatible(manifest, self.location)
        except KbError as exc:
            problems.append(str(exc))
        problems += count_problems(manifest, chunks, documents, rows, "rows in Milvus")
        if problems:
            problems.append(f"rebuild it with: kb build --index {self.location}")
        return problems, info
