"""The dense side of an index behind one small interface: how many vectors, the chunks nearest a
question within a mask, and a question's cosine with given chunks.

Search and the ranker ask `index.dense`, never FAISS itself: the folder index answers with FAISS
here, and another store (a vector database such as Milvus) answers the same questions in its own way.
Chunks are named by their position in the index (as in the masks and the BM25 arrays).
"""
from __future__ import annotations

import numpy as np


class FaissVectors:
    def __init__(self, faiss_index, dim: int):
        self.faiss = faiss_index
        self.dim = dim

    @property
    def count(self) -> int:
        return int(self.faiss.ntotal)

    def nearest(self, qv: np.ndarray, n: int, mask: np.ndarray | None = None) -> dict[int, float]:
        """The `n` chunks (within `mask`) of highest inner product with the (normalised) question."""
        import faiss

        # One OpenMP thread for a search of one question (the setting is the calling thread's own, so
        # builds keep every thread): on two cores FAISS's scan for one question took twice as long on two
        # threads as on one (46,286 vectors, all 119 reports: 7.7 ms against 3.3 ms; 19 ms right after an
        # embedding whose threads still spun; docs/quality.md)
        faiss.omp_set_num_threads(1)
        if mask is None:
            scores, ids = self.faiss.search(qv, n)
        else:
            sel = faiss.IDSelectorBatch(np.flatnonzero(mask).astype(np.int64))
            params = (faiss.SearchParametersIVF(sel=sel, nprobe=self.faiss.nprobe)
                      if isinstance(self.faiss, faiss.IndexIVF) else faiss.SearchParameters(sel=sel))
            scores, ids = self.faiss.search(qv, n, params=params)
        return {int(i): float(s) for s, i in zip(scores[0], ids[0]) if i >= 0}

    def cosines(self, qv: np.ndarray, ids: np.ndarray, found: dict[int, float]) -> np.ndarray:
        """The question's cosine with each of `ids`; a chunk the dense search did not find (BM25 did)
        gets its exact cosine where FAISS can give its vector back, else just under `found`'s lowest."""
        try:
            return self.faiss.reconstruct_batch(ids) @ qv[0]
        except RuntimeError:  # an IVF index without a direct map
            floor = min(found.values()) - 0.01 if found else 0.0
            return np.array([found.get(int(i), floor) for i in ids], np.float32)

    def take(self, ids) -> np.ndarray:
        """The stored vectors of chunks `ids` (what the next build reuses)."""
        import faiss

        ids = np.asarray(ids, np.int64)
        if not len(ids):
            return np.zeros((0, self.dim), np.float32)
        if isinstance(self.faiss, faiss.IndexIVF):
            self.faiss.make_direct_map()
        return self.faiss.reconstruct_batch(ids)

    def all(self) -> np.ndarray:
        """Every stored vector in position order, for reuse by the next build."""
        import faiss

        if not self.count:
            return np.zeros((0, self.dim), np.float32)
        if isinstance(self.faiss, faiss.IndexIVF):
            self.faiss.make_direct_map()
        return self.faiss.reconstruct_n(0, self.faiss.ntotal)
