"""Issue 15's first questions, measured on milvus-lite: should BM25 run in Milvus (its jieba analyzer)
or as kb's own term weights sent to Milvus as sparse vectors; does Milvus's dense index (HNSW) give
FAISS's candidates; how long does each take?

    pip install pymilvus milvus-lite
    python scripts/milvus_check.py --index /tmp/idx-onnx ../shared/eval/seed_dev.jsonl

For a kb index and a question set, ranks the chunks by BM25 alone three ways and scores each as
`kb eval --mode lexical` does (one result per paragraph; a result is right when its paragraph holds
a gold string or is the gold document):
- kb: kb's own BM25 (bm25s over kb's tokens: numbers such as 6% and PM2.5 kept whole, traditional
  characters folded, title, region and section path with each chunk);
- milvus-jieba: Milvus's BM25 function over the same text kb gives BM25, cut by Milvus's jieba analyzer;
- milvus-sparse: kb's BM25 weights of each chunk stored as a sparse vector in Milvus, the question as
  the sparse vector of its kb terms, inner product (the same scores as kb's, computed by Milvus).
and dense alone, kb's FAISS index beside Milvus's HNSW index (M 16, ef 64) over the same vectors, with
how many of FAISS's first 10 chunks Milvus also returns; and kb's whole search (fusion, ranker, one
result per paragraph) on the folder index and on the same index copied into Milvus (kb/milvus.py).
Also times building the collection and answering.
"""
from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import click
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kb import store  # noqa: E402
from kb.chunking import lexical_text  # noqa: E402
from kb.evaluate import evaluate, read_questions  # noqa: E402
from kb.milvus import sparse_rows  # noqa: E402


class Hit:
    """What kb.evaluate reads of a result."""

    def __init__(self, rank, doc_id, text, citation):
        self.rank, self.doc_id, self.text, self.citation = rank, doc_id, text, citation


def paragraphs(index, chunk_ids, k):
    """Chunks in order to the first k paragraphs, as search groups them."""
    out, seen = [], set()
    for i in chunk_ids:
        c = index.chunks[i]
        if (c.doc_id, c.paragraph) in seen:
            continue
        seen.add((c.doc_id, c.paragraph))
        para = index.documents[c.doc_id].paragraphs[c.paragraph - 1]
        out.append(Hit(len(out) + 1, c.doc_id, para.text, f"{c.doc_id} {c.paragraph}"))
        if len(out) == k:
            break
    return out


def kb_bm25(index, depth):
    def fn(q, k, docs):
        scores, _ = index.lexical.scores(q)
        top = np.argsort(-scores)[:depth]
        return paragraphs(index, [int(i) for i in top if scores[i] > 0], k)
    return fn


@click.command()
@click.argument("questions", type=click.Path(exists=True, path_type=Path))
@click.option("--index", "index_dir", type=click.Path(exists=True, path_type=Path), required=True)
@click.option("--depth", default=50, show_default=True, help="Chunks fetched per question.")
@click.option("--limit", default=0, help="Only the first N questions (milvus-lite answers in about a second).")
def main(questions, index_dir, depth, limit):
    from pymilvus import DataType, Function, FunctionType, MilvusClient

    index = store.load(index_dir)
    qs = read_questions(questions)[:limit or None]
    out = {"kb": evaluate(qs, kb_bm25(index, depth))}
    folder = Path(tempfile.mkdtemp(prefix="kb-milvus-"))
    client = MilvusClient(str(folder / "bm25.db"))
    schema = client.create_schema(auto_id=False)
    schema.add_field("pos", DataType.INT64, is_primary=True)
    schema.add_field("text", DataType.VARCHAR, max_length=8192, enable_analyzer=True,
                     analyzer_params={"tokenizer": "jieba"})
    schema.add_field("bm25", DataType.SPARSE_FLOAT_VECTOR)
    schema.add_field("kb", DataType.SPARSE_FLOAT_VECTOR)
    schema.add_field("vec", DataType.FLOAT_VECTOR, dim=index.manifest["model"]["dim"])
    schema.add_function(Function(name="bm25", function_type=FunctionType.BM25, input_field_names=["text"],
                                 output_field_names=["bm25"]))
    params = client.prepare_index_params()
    params.add_index("bm25", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25")
    params.add_index("kb", index_type="SPARSE_INVERTED_INDEX", metric_type="IP")
    params.add_index("vec", index_type="HNSW", metric_type="IP", params={"M": 16, "efConstruction": 200})
    client.create_collection("chunks", schema=schema, index_params=params)
    started = time.perf_counter()
    weights = sparse_rows(index.lexical, len(index.chunks))
    vectors = index.vectors()
    rows = [{"pos": i, "text": lexical_text(index.documents[c.doc_id], c)[:8000], "kb": weights[i] or {0: 0.0},
             "vec": vectors[i].tolist()} for i, c in enumerate(index.chunks)]
    for s in range(0, len(rows), 1000):
        client.insert("chunks", rows[s:s + 1000])
    client.load_collection("chunks")
    built = time.perf_counter() - started
    vocab = index.lexical.retriever.vocab_dict
    timings = {}

    def milvus(field, query_of, metric):
        def fn(q, k, docs):
            data = query_of(q)
            if data is None:
                return []
            t = time.perf_counter()
            hits = client.search("chunks", data=[data], anns_field=field, limit=depth,
                                 search_params={"metric_type": metric})[0]
            timings[field] = timings.get(field, 0.0) + time.perf_counter() - t
            return paragraphs(index, [int(h.pk) for h in hits], k)
        return fn

    def kb_query(q):
        terms = {vocab[t]: 1.0 for t in index.lexical.query_words(q)[0] if t in vocab}
        return terms or None

    out["milvus-jieba"] = evaluate(qs, milvus("bm25", lambda q: q, "BM25"))
    out["milvus-sparse"] = evaluate(qs, milvus("kb", kb_query, "IP"))
    from kb.embedding import load_embedder

    embedder = load_embedder(index.model_name)
    qv = {q.q: np.ascontiguousarray(embedder.encode_queries([q.q]), np.float32) for q in qs}
    overlap = []

    def faiss_dense(q, k, docs):
        t = time.perf_counter()
        _, ids = index.dense.faiss.search(qv[q], depth)
        timings["faiss"] = timings.get("faiss", 0.0) + time.perf_counter() - t
        return paragraphs(index, [int(i) for i in ids[0] if i >= 0], k)

    def milvus_dense(q, k, docs):
        t = time.perf_counter()
        hits = client.search("chunks", data=[qv[q][0].tolist()], anns_field="vec", limit=depth,
                             search_params={"metric_type": "IP", "params": {"ef": 64}})[0]
        timings["vec"] = timings.get("vec", 0.0) + time.perf_counter() - t
        got = [int(h.pk) for h in hits]
        _, ids = index.dense.faiss.search(qv[q], 10)
        overlap.append(len(set(got[:10]) & set(int(i) for i in ids[0])) / 10)
        return paragraphs(index, got, k)

    out["faiss-dense"] = evaluate(qs, faiss_dense)
    out["milvus-hnsw"] = evaluate(qs, milvus_dense)
    client.close()
    # kb's whole pipeline (fusion, ranker, grouping…) with the index in Milvus (kb/milvus.py)
    from kb.build import copy_index
    from kb.search import search
    from kb.store import open_store

    location = f"milvus:{folder / 'kb.db'}"
    copy_index(index_dir, location)
    in_milvus = open_store(location).load()
    for name, which in (("kb-folder", index), ("kb-milvus", in_milvus)):
        t = time.perf_counter()
        out[name] = evaluate(qs, lambda q, k, docs, which=which: search(which, embedder, q, k))
        timings[name] = time.perf_counter() - t
    click.echo(f"{questions.name} over {index_dir} ({len(index.chunks)} chunks; Milvus collection built in "
               f"{built:.1f} s)")
    for name, res in out.items():
        ms = timings.get({"milvus-jieba": "bm25", "milvus-sparse": "kb", "faiss-dense": "faiss", "milvus-hnsw": "vec",
                          "kb-folder": "kb-folder", "kb-milvus": "kb-milvus"}.get(name, ""), None)
        took = f", {1000 * ms / len(qs):.1f} ms a question" if ms is not None else ""
        click.echo(f"  {name:14s} R@1 {res['recall@1']:.3f}  R@5 {res['recall@5']:.3f}  "
                   f"MRR@10 {res['mrr@10']:.3f}{took}")
    click.echo(f"  Milvus HNSW returns {np.mean(overlap):.3f} of FAISS's first 10 chunks")


if __name__ == "__main__":
    main()
