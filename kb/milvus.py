"""The dense side of an index in Milvus — a milvus-lite file or a Milvus server — behind the same
interface as FAISS (kb/vectors.py), so that search and the ranker do not know which one answers.

A first step of the Milvus store (issue 15): vectors are copied in from a built index and searched
there (HNSW, inner product on normalised vectors = cosine); documents, chunks and BM25 stay in the
folder index for now. Needs `pip install -e ".[milvus]"`.
"""
from __future__ import annotations

import os

import numpy as np

from .errors import KbError

BATCH = 2000
HNSW = {"M": 16, "efConstruction": 200}
EF = 128  # search breadth: FAISS's exact top 10 within a few ranks


def connect(location: str):
    """A client for `milvus:PATH` (a milvus-lite file) or `http(s)://HOST:PORT` (a Milvus server;
    its credentials from KB_MILVUS_TOKEN, never from the command line)."""
    try:
        from pymilvus import MilvusClient
    except ImportError:
        raise KbError("Milvus needs pymilvus: pip install -e \".[milvus]\"") from None
    if location.startswith("milvus:"):
        return MilvusClient(str(os.path.abspath(location.removeprefix("milvus:"))))
    if location.startswith(("http://", "https://")):
        return MilvusClient(location, token=os.environ.get("KB_MILVUS_TOKEN", ""))
    raise KbError(f"{location!r} is not a Milvus location (milvus:PATH or http://HOST:PORT)")


class MilvusVectors:
    def __init__(self, client, collection: str, dim: int):
        self.client, self.collection, self.dim = client, collection, dim
        self._count: int | None = None

    @property
    def count(self) -> int:
        if self._count is None:
            self._count = int(self.client.get_collection_stats(self.collection)["row_count"])
        return self._count

    def nearest(self, qv: np.ndarray, n: int, mask: np.ndarray | None = None) -> dict[int, float]:
        where = ""
        if mask is not None and not mask.all():
            inside = np.flatnonzero(mask)
            if not len(inside):
                return {}
            where = f"pos in [{','.join(map(str, inside.tolist()))}]"
        hits = self.client.search(self.collection, [qv[0].tolist()], limit=min(n, 16384), filter=where,
                                  output_fields=["pos"], search_params={"params": {"ef": max(EF, n)}})
        return {int(h["pos"]): float(h["distance"]) for h in hits[0]}

    def _vectors(self, ids) -> dict[int, np.ndarray]:
        out = {}
        ids = [int(i) for i in ids]
        for start in range(0, len(ids), BATCH):
            part = ids[start:start + BATCH]
            for row in self.client.query(self.collection, filter=f"pos in [{','.join(map(str, part))}]",
                                         output_fields=["pos", "vec"]):
                out[int(row["pos"])] = np.asarray(row["vec"], np.float32)
        return out

    def cosines(self, qv: np.ndarray, ids: np.ndarray, found: dict[int, float]) -> np.ndarray:
        vecs = self._vectors(ids)
        floor = min(found.values()) - 0.01 if found else 0.0
        return np.array([float(vecs[int(i)] @ qv[0]) if int(i) in vecs else found.get(int(i), floor)
                         for i in ids], np.float32)

    def all(self) -> np.ndarray:
        if not self.count:
            return np.zeros((0, self.dim), np.float32)
        vecs = self._vectors(range(self.count))
        return np.stack([vecs[i] for i in range(self.count)])


def copy_vectors(index, client, collection: str) -> MilvusVectors:
    """A collection holding `index`'s vectors by chunk position (replacing one of that name)."""
    from pymilvus import DataType

    vectors = index.vectors()
    dim = vectors.shape[1] if len(vectors) else index.manifest["model"]["dim"]
    if client.has_collection(collection):
        client.drop_collection(collection)
    schema = client.create_schema(auto_id=False)
    schema.add_field("pos", DataType.INT64, is_primary=True)
    schema.add_field("vec", DataType.FLOAT_VECTOR, dim=dim)
    params = client.prepare_index_params()
    params.add_index("vec", index_type="HNSW", metric_type="IP", params=HNSW)
    client.create_collection(collection, schema=schema, index_params=params)
    for start in range(0, len(vectors), BATCH):
        client.insert(collection, [{"pos": start + j, "vec": v.tolist()}
                                   for j, v in enumerate(vectors[start:start + BATCH])])
    client.flush(collection)
    client.load_collection(collection)
    return MilvusVectors(client, collection, dim)
