"""How often `kb compare` gives each report's figure right, on a question set with gold figures.

    kb build --docs ../shared/corpora/gov-reports-2026 --index /tmp/idx-2026
    python scripts/compare_eval.py scripts/questions/compare-2026.jsonl --index /tmp/idx-2026

A line of the set: {"q", "gold": {doc_id: {"figure": as written, or "" when the report names the
indicator's target without a figure}}}. A row is right when its figure is the gold one (％ read as %);
a report with gold but no row counts as wrong. Gold was written from the reports' texts by hand,
never from kb's output.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kb import store  # noqa: E402
from kb.compare import compare  # noqa: E402
from kb.embedding import load_embedder  # noqa: E402


@click.command()
@click.argument("questions", type=click.Path(exists=True, path_type=Path))
@click.option("--index", "index_dir", type=click.Path(path_type=Path), default="index", show_default=True)
@click.option("--misses", is_flag=True, help="List the rows that are wrong.")
def main(questions, index_dir, misses):
    index = store.load(index_dir)
    embedder = load_embedder(index.model_name)
    right = total = 0
    for line in questions.read_text(encoding="utf-8").splitlines():
        item = json.loads(line)
        rows = {r.doc_id: r for r in compare(index, embedder, item["q"])}
        ok = 0
        for doc_id, gold in item["gold"].items():
            row = rows.get(doc_id)
            got = row.figure.replace("％", "%") if row else None
            if got == gold["figure"]:
                ok += 1
            elif misses:
                click.echo(f"  {doc_id}: got {got!r}, gold {gold['figure']!r} ({gold.get('clause', '')}); "
                           f"row: {row.sentence[:60] if row else '-'}")
        click.echo(f"{item['q']}: {ok}/{len(item['gold'])} = {ok / len(item['gold']):.3f}")
        right, total = right + ok, total + len(item["gold"])
    click.echo(f"all: {right}/{total} = {right / total:.3f}")


if __name__ == "__main__":
    main()
