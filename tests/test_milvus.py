"""The dense side in Milvus (milvus-lite, the real engine) answers as FAISS does through the same seam."""
import dataclasses

import numpy as np
import pytest

pytest.importorskip("pymilvus", reason="pip install -e \".[milvus]\"")

from kb.milvus import connect, copy_vectors  # noqa: E402
from kb.search import search  # noqa: E402

QUESTIONS = ["今年地区生产总值增长目标是多少", "停车难怎么解决", "沈阳鸡架得了什么奖", "What is the GDP growth target?",
             "去年城镇新增就业多少人", "老旧小区改造", "2023年固定资产投资增长多少", "人形机器人"]


@pytest.fixture(scope="module")
def in_milvus(loaded_index, tmp_path_factory):
    client = connect(f"milvus:{tmp_path_factory.mktemp('milvus') / 'kb.db'}")
    dense = copy_vectors(loaded_index, client, "kb_vectors")
    index = dataclasses.replace(loaded_index)
    index.__dict__["dense"] = dense
    yield index
    client.close()


def test_the_same_vectors_and_neighbours(loaded_index, in_milvus, embedder):
    assert in_milvus.dense.count == loaded_index.dense.count == len(loaded_index.chunks)
    assert np.allclose(in_milvus.dense.all(), loaded_index.dense.all(), atol=1e-6)
    overlap = []
    for q in QUESTIONS:
        qv = np.ascontiguousarray(embedder.encode_queries([q]), np.float32)
        faiss_top = list(loaded_index.dense.nearest(qv, 10))
        milvus_top = list(in_milvus.dense.nearest(qv, 10))
        overlap.append(len(set(faiss_top) & set(milvus_top)))
        mask = loaded_index.doc_mask({"shenyang-2024"}) & (np.arange(len(loaded_index.chunks)) % 2 == 0)
        assert set(in_milvus.dense.nearest(qv, 10, mask)) <= set(np.flatnonzero(mask).tolist())
    assert min(overlap) >= 9 and sum(overlap) >= 10 * len(QUESTIONS) - 2


def test_search_through_milvus_gives_the_same_answers(loaded_index, in_milvus, embedder):
    for q in QUESTIONS:
        here = search(loaded_index, embedder, q, 5)
        there = search(in_milvus, embedder, q, 5)
        assert [r.chunk_id for r in there[:3]] == [r.chunk_id for r in here[:3]], q
        assert there[0].citation == here[0].citation and there[0].url == here[0].url
