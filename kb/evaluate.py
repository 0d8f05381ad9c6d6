"""Question sets to retrieval scores: Recall@1, Recall@5 and MRR@10, overall and per type.

Two formats: the seed format (`q`, `gold` substrings: a result is relevant when
the text the user sees contains one) and the CMRC format (`q`, `gold_ids`: the
ids of the relevant documents). A question may also carry `doc` (an id or a list):
it was asked of those reports, as a user who picks a report in a library does, and
is searched within them.
"""
from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from .errors import KbError


@dataclass(frozen=True)
class Question:
    qid: str
    q: str
    gold: tuple[str, ...] = ()
    gold_ids: tuple[str, ...] = ()
    type: str = "all"
    docs: tuple[str, ...] = ()  # search within these documents only

    def relevant(self, result) -> bool:
        if self.gold_ids:
            return result.doc_id in self.gold_ids
        return any(g in result.text for g in self.gold)


def read_questions(path: Path) -> list[Question]:
    questions = []
    try:
        lines = Path(path).read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise KbError(f"cannot read question file {path}: {exc}") from exc
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            q = row["q"]
        except (ValueError, KeyError, TypeError):
            raise KbError(f"{path}, line {n}: expected JSON with \"q\" and \"gold\" or \"gold_ids\"") from None
        if not str(q).strip():
            continue
        docs = row.get("doc") or ()
        questions.append(Question(str(row.get("id", n)), q, tuple(row.get("gold", ())),
                                  tuple(row.get("gold_ids", ())), row.get("type", "all"),
                                  (docs,) if isinstance(docs, str) else tuple(docs)))
    if not questions:
        raise KbError(f"no questions in {path}")
    return questions


def _scores(ranks: list[int | None]) -> dict:
    n = len(ranks)
    return {
        "n": n,
        "recall@1": round(sum(1 for r in ranks if r == 1) / n, 4),
        "recall@5": round(sum(1 for r in ranks if r and r <= 5) / n, 4),
        "mrr@10": round(sum(1 / r for r in ranks if r and r <= 10) / n, 4),
    }


def evaluate(questions: list[Question], search_fn, k: int = 10) -> dict:
    """Score `search_fn(query, k, docs) -> results` (`docs`: the question's documents, or
    empty for the whole index); also returns the misses for inspection."""
    ranks: list[int | None] = []
    by_type: dict[str, list[int | None]] = defaultdict(list)
    misses = []
    for question in questions:
        results = search_fn(question.q, k, question.docs)
        rank = next((r.rank for r in results if question.relevant(r)), None)
        ranks.append(rank)
        by_type[question.type].append(rank)
        if rank != 1:
            top = results[0] if results else None
            misses.append({"id": question.qid, "q": question.q, "rank": rank,
                           "gold": list(question.gold or question.gold_ids),
                           "first": {"citation": top.citation, "text": top.text[:160]} if top else None})
    out = _scores(ranks)
    out["by_type"] = {t: _scores(r) for t, r in sorted(by_type.items())}
    out["misses"] = misses
    return out
