"""Every question set x every retriever, in one run: the table of docs/quality.md.

    python scripts/quality.py --work /tmp/kbq --out /tmp/table.md   # the table alone, for docs/quality.md

Builds (or reuses) an index of each corpus with the base weights of e5-small and with kb's
adapter, then scores each set with: dense alone, BM25 alone, the old hybrid (reciprocal rank
fusion with hand-set weights and the hand-typed English glossary), the adapter alone (its dense
ranking, and RRF over it), the learned ranker alone (over base-weight vectors), the adapter and the
ranker with the old glossary or with no English expansion instead of the learned lexicon, and all
learned parts together (also asked through the web app's JSON API, with kb's defaults), and those with
the opt-in cross-encoder reading the first three results again (`--rerank`).
Two cores: about 80 minutes from nothing (the indexes 25, the reranked column of CMRC and DRCD dev 25
each), about 60 once the indexes exist.
"""
from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import click

# The API column asks the web app, whose search takes its fusion from the environment: the learned
# ranker here (every other run names its fusion; the adapter is on in the adapter indexes' loop).
os.environ["KB_RANKER"] = "on"

import glossary_baseline  # noqa: E402

from kb import lexicon, store  # noqa: E402
from kb.build import build  # noqa: E402
from kb.embedding import load_embedder  # noqa: E402
from kb.evaluate import evaluate, read_questions  # noqa: E402
from kb.fusion import Fusion  # noqa: E402
from kb.search import make_filters, search  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
Q = ROOT / "scripts" / "questions"

# name: (corpus, questions, note)
SETS = {
    "seed_dev": ("shenyang", SHARED / "eval" / "seed_dev.jsonl", "44, never trained or tuned on"),
    "chinese-heldout": ("shenyang", Q / "shenyang-heldout-zh.jsonl",
                        "35 Chinese paraphrases, written in the sixth session before any change was scored on them"),
    "chinese-heldout2": ("shenyang", Q / "shenyang-heldout-zh2.jsonl",
                         "49 more in a reader's words, written in the eighth session before anything was scored on them"),
    "chinese-heldout3": ("shenyang", Q / "shenyang-heldout-zh3.jsonl",
                         "55 more in a reader's words, written in the fourteenth session before anything was scored on them"),
    "english-heldout": ("shenyang", [Q / "shenyang-english-heldout.jsonl", Q / "shenyang-english-heldout2.jsonl"],
                        "15 + 39 English, written before any training"),
    "english-heldout3": ("shenyang", Q / "shenyang-english-heldout3.jsonl",
                         "36 more English, written in the eighth session before anything was scored on them"),
    "english-heldout4": ("shenyang", Q / "shenyang-english-heldout4.jsonl",
                         "32 more English, written in the fourteenth session before anything was scored on them"),
    "chinese-heldout4": ("shenyang", Q / "shenyang-heldout-zh4.jsonl",
                         "42 more in a reader's words, written in the nineteenth session before anything was scored on them"),
    "english-heldout5": ("shenyang", Q / "shenyang-english-heldout5.jsonl",
                         "20 more English, written in the nineteenth session before anything was scored on them"),
    "chinese-heldout5": ("shenyang", Q / "shenyang-heldout-zh5.jsonl",
                         "45 more in a reader's words, written in the twenty-second session before anything was scored on them"),
    "english-heldout6": ("shenyang", Q / "shenyang-english-heldout6.jsonl",
                         "30 more English, written in the twenty-second session before anything was scored on them"),
    "english-glossary": ("shenyang", Q / "shenyang-english.jsonl", "22 English the glossary was grown on"),
    "gov-2026": ("gov-2026", Q / "gov-2026.jsonl", "93, 31 provincial reports + Shenyang"),
    "archive-national": ("archive", Q / "archive-national.jsonl", "57 naming a year, over the 57 national reports 1954-2025"),
    "cmrc-dev": ("cmrc-dev", SHARED / "corpora" / "cmrc2018" / "dev" / "queries.jsonl", "3,219"),
    "drcd-dev": ("drcd-dev", SHARED / "corpora" / "drcd" / "dev" / "queries.jsonl", "3,524, Traditional Chinese"),
}

# What an English question's words add to BM25: the learned lexicon (kb's), the old hand-typed
# glossary, or nothing
EXPANSIONS = {"lexicon": lexicon.expand, "glossary": glossary_baseline.expand, "none": lambda query: []}

# name: (adapter on?, mode, fusion, expansion, reranked?)
RUNS = {
    "dense (base weights)": (False, "dense", "rrf", "lexicon", False),
    "BM25 (learned lexicon)": (False, "lexical", "rrf", "lexicon", False),
    "old hybrid (RRF, base weights, glossary)": (False, "hybrid", "rrf", "glossary", False),
    "adapter: dense": (True, "dense", "rrf", "lexicon", False),
    "adapter: RRF, lexicon": (True, "hybrid", "rrf", "lexicon", False),
    "ranker (base weights), lexicon": (False, "hybrid", "learned", "lexicon", False),
    "adapter + ranker, glossary": (True, "hybrid", "learned", "glossary", False),
    "adapter + ranker, no expansion": (True, "hybrid", "learned", "none", False),
    "all learned: adapter + ranker + lexicon": (True, "hybrid", "learned", "lexicon", False),
    "all learned + cross-encoder (--rerank)": (True, "hybrid", "learned", "lexicon", True),
}


API_RUN = "all learned, via /api/search"


def api_search(index_dir: Path):
    """Questions asked of the web app's JSON API (Flask's test client), as a user's program would."""
    from types import SimpleNamespace

    from webapp import create_app

    client = create_app({"INDEX": str(index_dir), "DOCS": str(index_dir)}).test_client()

    def fn(q, k, docs):
        res = client.get("/api/search", query_string={"q": q, "k": k, "doc": list(docs)})
        return [SimpleNamespace(**r) for r in res.get_json()["results"]]

    return fn


def corpus_folder(name: str, work: Path) -> Path:
    if name == "shenyang":
        return ROOT / "reports"
    if name == "archive":
        lib = work / "archive"
        if not lib.exists():
            lib.mkdir()
            for f in sorted((SHARED / "corpora" / "gov-reports").glob("*-national.txt")):
                shutil.copy(f, lib)
        return lib
    if name == "gov-2026":
        lib = work / "lib-2026"
        if not lib.exists():
            shutil.copytree(SHARED / "corpora" / "gov-reports-2026", lib)
            shutil.copy(ROOT / "reports" / "shenyang-2024.txt", lib)  # its title gives year and region
        return lib
    split = name.split("-")[0]
    folder = "cmrc2018" if split == "cmrc" else "drcd"
    return SHARED / "corpora" / folder / "dev" / "corpus.jsonl"


def questions_of(spec) -> list:
    paths = spec if isinstance(spec, list) else [spec]
    return [q for p in paths for q in read_questions(p)]


@click.command()
@click.option("--work", type=click.Path(path_type=Path), default=Path("/tmp/kbq"), show_default=True)
@click.option("--out", type=click.Path(path_type=Path), default=None, help="write the Markdown table here")
@click.option("--only", default="", help="comma-separated set names")
@click.option("--build-only", is_flag=True, help="build the indexes, score nothing")
def main(work: Path, out: Path | None, only: str, build_only: bool):
    work.mkdir(parents=True, exist_ok=True)
    sets = {k: v for k, v in SETS.items() if not only or k in only.split(",")}
    results: dict[str, dict[str, dict]] = {s: {} for s in sets}
    for adapter in (False, True):
        os.environ["KB_ADAPTER"] = "on" if adapter else "off"
        for set_name, (corpus, qfile, _) in sets.items():
            index_dir = work / f"idx-{corpus}-{'adapter' if adapter else 'base'}"
            started = time.time()
            stats = build(corpus_folder(corpus, work), index_dir)
            if stats.embedded:
                print(f"built {index_dir.name}: {stats.chunks} chunks in {time.time() - started:.0f} s", flush=True)
            if build_only:
                continue
            index = store.load(index_dir)
            qs = questions_of(qfile)
            embedder = load_embedder(index.model_name)
            embedder.remembered = max(embedder.remembered, 2 * len(qs))  # each run asks them all again
            for run, (uses_adapter, mode, method, expansion, reread) in RUNS.items():
                if uses_adapter != adapter:
                    continue
                lexicon.expand = EXPANSIONS[expansion]
                fusion = Fusion(method=method)

                def fn(q, k, docs, mode=mode, fusion=fusion, reread=reread):
                    return search(index, embedder, q, k, fusion=fusion, mode=mode, rerank=reread,
                                  filters=make_filters(doc=list(docs)) if docs else make_filters())

                rep = evaluate(qs, fn)
                results[set_name][run] = {m: rep[m] for m in ("recall@1", "recall@5", "mrr@10")} | {"n": rep["n"]}
                print(json.dumps({"set": set_name, "run": run, **results[set_name][run]}), flush=True)
            lexicon.expand = EXPANSIONS["lexicon"]
            if adapter and corpus in ("shenyang", "gov-2026", "archive"):  # the report sets; CMRC/DRCD via search() only
                rep = evaluate(qs, api_search(index_dir))
                results[set_name][API_RUN] = {m: rep[m] for m in ("recall@1", "recall@5", "mrr@10")}
                print(json.dumps({"set": set_name, "run": API_RUN, **results[set_name][API_RUN]}), flush=True)
    runs = [*RUNS, API_RUN]
    lines = ["| set | " + " | ".join(runs) + " |", "| --- |" + " --- |" * len(runs)]
    for set_name, row in results.items():
        cells = [" / ".join(f"{row[r][m]:.3f}" for m in ("recall@1", "recall@5", "mrr@10")) if r in row else ""
                 for r in runs]
        lines.append(f"| {set_name} ({SETS[set_name][2]}) | " + " | ".join(cells) + " |")
    table = "\n".join(lines)
    print(table)
    if out:
        out.write_text(table + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
