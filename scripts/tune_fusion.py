"""Compare retrieval modes and fusion settings on a question set, over one built index.

    python scripts/tune_fusion.py ../shared/eval/seed_dev.jsonl --index /tmp/idx
"""
import json
from pathlib import Path

import click

from kb import store
from kb.embedding import load_embedder
from kb.evaluate import evaluate, read_questions
from kb.search import Fusion, search


@click.command()
@click.argument("questions", type=click.Path(exists=True, path_type=Path))
@click.option("--index", "index_dir", default="index", type=click.Path(path_type=Path))
@click.option("--weights", default="0.3,0.4,0.5,0.6,0.7")
def main(questions, index_dir, weights):
    qs = read_questions(questions)
    index = store.load(index_dir)
    embedder = load_embedder(index.model_name)
    runs = [("dense", Fusion()), ("lexical", Fusion())]
    for w in [float(x) for x in weights.split(",")]:
        runs += [("hybrid", Fusion("blend", w)), ("hybrid", Fusion("rrf", w))]
    for mode, fusion in runs:
        rep = evaluate(qs, lambda q, k, _docs: search(index, embedder, q, k, fusion=fusion, mode=mode))
        label = mode if mode != "hybrid" else f"{fusion.method} w={fusion.dense_weight}"
        print(json.dumps({"run": label, **{m: rep[m] for m in ("recall@1", "recall@5", "mrr@10")}}))


if __name__ == "__main__":
    main()
