"""Measure chunk window sizes (and section context) on a question set.

    python scripts/tune_chunks.py ../shared/eval/seed_dev.jsonl --sizes 120,200,300,0

Builds a throwaway index per setting (size 0 = whole paragraphs) and prints the
scores of each, so the default in kb/chunking.py is chosen by measurement.
"""
import json
import sys
import tempfile
from pathlib import Path

import click

from kb import store
from kb.build import build
from kb.chunking import ChunkSettings
from kb.embedding import load_embedder
from kb.evaluate import evaluate, read_questions
from kb.search import search


@click.command()
@click.argument("questions", type=click.Path(exists=True, path_type=Path))
@click.option("--docs", default="reports", type=click.Path(path_type=Path))
@click.option("--sizes", default="120,200,300,0")
@click.option("--overlaps", default="1")
@click.option("--contexts", default="1,0")
def main(questions, docs, sizes, overlaps, contexts):
    qs = read_questions(questions)
    embedder = load_embedder()
    rows = []
    for context in [c == "1" for c in contexts.split(",")]:
        for size in [int(s) for s in sizes.split(",")]:
            for overlap in [int(o) for o in overlaps.split(",")]:
                settings = ChunkSettings(max_chars=size or 100_000, overlap=overlap, context=context)
                with tempfile.TemporaryDirectory() as tmp:
                    stats = build(docs, Path(tmp), settings=settings, embedder=embedder)
                    index = store.load(Path(tmp))
                    rep = evaluate(qs, lambda q, k, _docs: search(index, embedder, q, k))
                row = {"max_chars": size, "overlap": overlap, "context": context,
                       "chunks": stats.chunks, **{m: rep[m] for m in ("recall@1", "recall@5", "mrr@10")}}
                rows.append(row)
                print(json.dumps(row), file=sys.stderr)
    print(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
