"""Whether a question is answered one paragraph per report: by how far its evidence spreads.

A question every report of a library answers ("今年城镇新增就业目标是多少") should get each report's
answer, not ten paragraphs of whichever report ranks first; one that a single report answers ("六盘山
有什么进展") should get the most relevant paragraphs. The rule is a logistic regression over three
figures of the ranking, fitted by scripts/tune_per_report.py on questions made from a training library.
"""
from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import numpy as np

from .store import Index

PER_REPORT_FILE = Path(__file__).with_name("weights") / "per-report.json"


@cache
def _per_report_rule() -> dict:
    """The rule's depth, weights and bias (scripts/tune_per_report.py fitted them)."""
    return json.loads(PER_REPORT_FILE.read_text(encoding="utf-8"))


def spread(index: Index, order: list[int], lexical_scores: np.ndarray, depth: int,
           mask: np.ndarray | None = None) -> tuple[float, float, float]:
    """How far over the reports searched a question's evidence spreads: the distinct reports
    among the first `depth` chunks of the ranking (as a share of the most there could be), and
    the share of reports whose best BM25 score is at least half the best report's; and one over
    the number of reports searched (in a library of two, one report in two is already half).

    A question every report answers ("今年城镇新增就业目标") finds its words in most reports;
    one that a single report answers ("六盘山") finds them in that report alone."""
    docs = index.chunk_docs if mask is None else index.chunk_docs[mask]
    scores = lexical_scores if mask is None else lexical_scores[mask]
    searched = np.unique(docs)
    best = np.zeros(len(index.documents), np.float32)
    np.maximum.at(best, docs, scores)
    best = best[searched]
    lexical = float((best >= 0.5 * best.max()).mean()) if best.max() > 0 else 1.0
    reports = {int(index.chunk_docs[i]) for i in order[:depth]}
    return len(reports) / max(1, min(depth, len(searched))), lexical, 1 / max(1, len(searched))


def per_report_depth() -> int:
    """How many of the ranking's first chunks `answers_per_report` reads."""
    return int(_per_report_rule()["depth"])


def answers_per_report(index: Index, order: list[int], lexical_scores: np.ndarray,
                       mask: np.ndarray | None = None) -> bool:
    """Whether a question that names no report should get one paragraph per report (of `order`, the
    ranking, only the first `per_report_depth()` chunks are read)."""
    rule = _per_report_rule()
    features = spread(index, order, lexical_scores, rule["depth"], mask)
    return float(np.dot(rule["weights"], features) + rule["bias"]) >= 0
