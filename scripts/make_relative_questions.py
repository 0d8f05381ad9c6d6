"""Training-side questions that say 今年 or 去年 and name no year or place, over an index of yearly reports.

A reader of the national archive, or of a library of two years' reports, who asks "今年国内生产总值增长目标
是多少" means the newest report's plan, and "去年国内生产总值增长了多少" its review. For each indicator the
newest reports give with a figure (the indicators `train_ranker.py` draws its archive questions from, and
地区生产总值), three forms of each question are written; the gold is every sentence of the newest reports'
plan (or review) that gives the indicator's figure. The reports are the training corpora's
(`train_ranker.py prepare`: idx-gov, the national reports 2008-2025 and the provinces' 2025; idx-archive, the
national reports 1954-2025), never an evaluation set; `kb eval OUT --index IDX` scores them.

    python scripts/make_relative_questions.py --index /tmp/rk/idx-archive --out /tmp/relative-archive.jsonl
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from kb import store  # noqa: E402
from train_ranker import INDICATORS, indicator_sentences  # noqa: E402

TARGET_FORMS = ("今年{i}增长目标是多少", "今年{i}预期增长多少", "今年{i}的目标")
OUTCOME_FORMS = ("去年{i}实际增长了多少", "去年{i}增长了多少", "去年{i}完成情况")


@click.command()
@click.option("--index", "index_dir", type=click.Path(exists=True, path_type=Path), required=True)
@click.option("--out", type=click.Path(path_type=Path), required=True)
def main(index_dir: Path, out: Path):
    index = store.load(index_dir)
    newest = max(d.year for d in index.documents.values() if d.year)
    gold: dict[tuple[str, str], list[str]] = {}
    for doc in index.documents.values():
        if doc.year == newest:
            for _, kind, indicator, sentence in indicator_sentences(doc, INDICATORS + ("地区生产总值",)):
                gold.setdefault((kind, indicator), []).append(sentence.strip()[:40])
    n = 0
    with open(out, "w", encoding="utf-8") as fh:
        for (kind, indicator), phrases in sorted(gold.items()):
            for form in TARGET_FORMS if kind == "target" else OUTCOME_FORMS:
                fh.write(json.dumps({"id": f"{kind}-{indicator}-{n}", "q": form.format(i=indicator),
                                     "gold": phrases, "type": kind}, ensure_ascii=False) + "\n")
                n += 1
    click.echo(f"{n} questions about {len(gold)} indicators of the {newest} reports → {out}")


if __name__ == "__main__":
    main()
