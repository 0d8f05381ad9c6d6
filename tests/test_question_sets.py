"""The question sets kb is measured on (scripts/questions/) still fit the bundled report: each gold
answer is in it once, so that a right paragraph is a paragraph and a score means what it says."""
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
REPORT = (ROOT / "reports" / "shenyang-2024.txt").read_text(encoding="utf-8")
SETS = sorted((ROOT / "scripts" / "questions").glob("shenyang-*.jsonl"))


def test_the_bundled_reports_sets_are_there():
    assert {p.name for p in SETS} >= {"shenyang-heldout-zh.jsonl", "shenyang-heldout-zh2.jsonl",
                                      "shenyang-english-heldout.jsonl", "shenyang-english-heldout2.jsonl",
                                      "shenyang-english-heldout3.jsonl", "shenyang-heldout-zh3.jsonl",
                                      "shenyang-english-heldout4.jsonl", "shenyang-heldout-zh4.jsonl",
                                      "shenyang-english-heldout5.jsonl", "shenyang-heldout-zh5.jsonl",
                                      "shenyang-english-heldout6.jsonl", "shenyang-heldout-zh6.jsonl",
                                      "shenyang-english-heldout7.jsonl"}


@pytest.mark.parametrize("path", SETS, ids=lambda p: p.name)
def test_every_gold_answer_is_in_the_bundled_report_once(path):
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert rows and len({r["id"] for r in rows}) == len(rows)
    for row in rows:
        assert row["q"].strip()
        assert row["gold"] and all(REPORT.count(g) == 1 for g in row["gold"]), (row["id"], row["gold"])
