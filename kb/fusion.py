"""How the dense and BM25 rankings of one query are combined into one."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from .provision import switched_off


@dataclass(frozen=True)
class Fusion:
    """How dense and BM25 scores are combined (chosen with scripts/tune_fusion.py on seed_dev)."""

    # "learned" (the default; KB_RANKER=off for "rrf"): the linear ranker of kb/ranker.py, trained
    # by scripts/train_ranker.py (RRF when its weights are missing); "rrf": weighted reciprocal
    # rank fusion with the weights below (set on seed_dev and CMRC trial); "blend": min-max
    # normalised scores. Measured against each other in docs/quality.md.
    method: str = field(default_factory=lambda: "rrf" if switched_off("KB_RANKER") else "learned")
    dense_weight: float = 0.4
    # An English question over Chinese reports: the cross-lingual dense match is weak, while BM25
    # matches the lexicon's report terms (kb/lexicon.py). R@1 by weight 0.1 / 0.2 / 0.3, measured with the
    # hand-typed glossary that came before it (scripts/glossary_baseline.py; scripts/questions/):
    # gov-2026 English 1.00 / .90 / .87, shenyang-english .86 / .77 / .59 (both tuned the glossary),
    # shenyang-english-heldout (written after it) .47 / .53 / .53. Chinese questions are unaffected.
    english_dense_weight: float = 0.2
    rrf_k: int = 60
    candidates: int = 100  # chunks taken from each retriever before fusing


DEFAULT_FUSION = Fusion()


def _normalise(scores: dict[int, float]) -> dict[int, float]:
    if not scores:
        return {}
    lo, hi = min(scores.values()), max(scores.values())
    span = hi - lo
    return {i: (s - lo) / span if span > 0 else 1.0 for i, s in scores.items()}


def _ranks(scores: dict[int, float]) -> dict[int, int]:
    return {i: r for r, i in enumerate(sorted(scores, key=scores.get, reverse=True), 1)}


def is_english(query: str) -> bool:
    return len(re.findall(r"[A-Za-z]", query)) > len(query) / 3


def fuse(dense: dict[int, float], lexical: dict[int, float], fusion: Fusion,
         coverage: float = 1.0, query: str = "") -> dict[int, float]:
    """Combined score per chunk; a chunk found by one retriever only gets 0 from the other.
    BM25's weight shrinks with `coverage`, the share of query terms the index knows."""
    dense_weight = fusion.english_dense_weight if is_english(query) else fusion.dense_weight
    lex_weight = (1 - dense_weight) * coverage
    if fusion.method != "blend":
        out: dict[int, float] = {}
        for part, w in ((dense, dense_weight), (lexical, lex_weight)):
            for i, r in _ranks(part).items():
                out[i] = out.get(i, 0.0) + w / (fusion.rrf_k + r)
        return out
    d, lx = _normalise(dense), _normalise({i: s for i, s in lexical.items()})
    if lexical:  # BM25 scores are relative to the best match, not to the worst candidate
        best = max(lexical.values())
        lx = {i: s / best for i, s in lexical.items()}
    return {i: dense_weight * d.get(i, 0.0) + lex_weight * lx.get(i, 0.0) for i in set(d) | set(lx)}
