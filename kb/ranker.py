"""Dense and BM25 candidates to one ranking, by a linear model learned from data.

Reciprocal rank fusion with a hand-set weight ranked well on the questions it was set on and
worse on others; a question about this year's plan was often answered from last year's review.
Here each candidate chunk is described by a few numbers (its dense and BM25 scores and ranks,
how much of the question it covers, whether it has the question's figures, whether a clause of it
with the question's words gives a figure when the question asks for one (an English question's
words read as the report terms the lexicon gives for them), whether its section names the
question's words, whether the question names its document's title (the longest title it names),
whether the question's time — 今年/计划/目标 or 去年/完成/比上年 — matches the part of the report
the chunk is in, and whether that part speaks about a year the question names: exactly, or within
a five-year span, kb/timeframe.py) and scored by weights that scripts/train_ranker.py learned from
training questions only. The weights ship as JSON.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from . import lexicon  # its expand looked up at each call: scripts switch it off (ablations)
from .figures import answer_strength
from .fusion import is_english
from .highlight import query_terms
from .lexical import fold, tokenize

RANKER_FILE = Path(__file__).with_name("weights") / "ranker.json"

FEATURES = (
    "dense", "dense_rr", "dense_rank", "bm25", "bm25_rr", "bm25_rank", "bm25_known", "matched", "numbers", "section", "answers",
    "title", "plan_in_plan", "plan_in_review", "review_in_review", "review_in_plan", "year_exact", "year_span",
    "year_fits", "year_clashes",
    "en_dense", "en_dense_rr", "en_dense_rank", "en_bm25", "en_bm25_rr", "en_bm25_rank", "en_matched",
)
# The old hybrid (reciprocal rank fusion, k=60) in these features: the prior a fit starts from
# and is pulled back to, so that what the data does not show stays as it was
RRF_K = 60
RRF_PRIOR = {"dense_rank": 0.4, "bm25_rank": 0.6, "en_dense_rank": -0.2, "en_bm25_rank": 0.2}

# The question's time, as the issue of work reports has it: a plan for the report's year, a review
# of the year before. The words are features; how much each match counts is learned.
PLAN_WORDS = re.compile(r"今年|本年|计划|目标|预期|将|this year|plans?\b|target|goals?\b|\bwill\b|expected", re.I)
REVIEW_WORDS = re.compile(r"去年|上年|过去一年|完成|实现|比上年|实际|增长了|last year|past year|\bdid\b|\bwas\b|\bwere\b|"
                          r"achieved|completed", re.I)
# Does the question ask for a figure? Then a chunk whose clause with the question's words gives one
# answers it (how much that counts is learned)
ASKS_FIGURE = re.compile(r"多少|几|百分之|比重|占比|增长|下降|增速|增幅|涨幅|目标|指标|产值|总值|规模|总量|收入|[率%％]|"
                         r"how (?:much|many)|percent|growth|rate|target|share", re.I)
YEARS = re.compile(r"(?<!\d)((?:19|20)\d\d)(?!\d)")
# "大曲车站 (青森县)": a reader names the thing, not the note that tells two of that name apart
DISAMBIGUATION = re.compile(r"\s*[(（][^()（）]*[)）]\s*$")
NUMBERS = re.compile(r"\d+(?:\.\d+)?")


@dataclass(frozen=True)
class Ranker:
    features: tuple[str, ...]
    weights: np.ndarray
    bias: float

    def score(self, x: np.ndarray) -> np.ndarray:
        """A positive score per row of `x` (so a boost by multiplication keeps the order it means):
        softplus of the linear score, which keeps apart what a sigmoid would round to the same 1.0."""
        return np.logaddexp(0.0, x @ self.weights + self.bias)


@lru_cache(maxsize=2)
def load_ranker(path: Path = RANKER_FILE) -> Ranker | None:
    """The shipped weights, or None if there are none (kb then fuses by reciprocal rank)."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    if tuple(data["features"]) != FEATURES:
        return None  # weights for another feature set: not to be applied to this one
    return Ranker(FEATURES, np.asarray(data["weights"], np.float64), float(data.get("bias", 0.0)))


def question_intent(query: str) -> tuple[bool, bool]:
    """Does the question ask about a plan (今年/目标/计划), about what was done (去年/完成/实际)?"""
    return bool(PLAN_WORDS.search(query)), bool(REVIEW_WORDS.search(query))


def _year_match(query: str, about: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per candidate: is its part of the report about exactly a year the question names (a plan
    of that year, a review of it), or about a span that holds it (a five-year review)?"""
    exact = np.zeros(len(about), np.float32)
    span = np.zeros(len(about), np.float32)
    for y in {int(y) for y in YEARS.findall(query)}:
        holds = (about[:, 0] <= y) & (y <= about[:, 1])
        single = holds & (about[:, 0] == about[:, 1])
        exact = np.maximum(exact, single)
        span = np.maximum(span, holds & ~single)
    return exact, span


@lru_cache(maxsize=65536)
def title_name(title: str) -> str:
    """A document's title as a question would name it (folded, no disambiguation note); "" when
    too short to mean anything on its own."""
    name = fold(DISAMBIGUATION.sub("", title)).strip()
    return name if len(name) >= 2 else ""


def _titles_named(query: str, docs: list) -> np.ndarray:
    """Per candidate: does the question name its document's title, and no candidate's longer title
    that holds it (德龙烟铁路 names 龙烟铁路 too)?"""
    q = fold(query)
    named = np.array([len(n) if n and n in q else 0 for n in (title_name(d.title) for d in docs)])
    return ((named > 0) & (named == named.max())).astype(np.float32) if len(named) else named.astype(np.float32)


def _rank_features(scores: dict[int, float], ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """1/(1+rank) and RRF_K/(RRF_K+rank) of each of `ids` in the list `scores` ranks (0 if not in it)."""
    order = {c: r for r, c in enumerate(sorted(scores, key=scores.get, reverse=True), 1)}
    ranks = np.array([order.get(int(i), np.inf) for i in ids], np.float64)
    return (1 / (1 + ranks)).astype(np.float32), (RRF_K / (RRF_K + ranks)).astype(np.float32)


def features(index, query: str, qv: np.ndarray, dense: dict[int, float], lexical: dict[int, float],
             coverage: float, mask: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The candidates (chunks either retriever found) and a row of FEATURES for each;
    `coverage` is the share of the question BM25 knows (LexicalIndex.scores)."""
    ids = np.array(sorted(set(dense) | set(lexical)), dtype=np.int64)
    if not len(ids):
        return ids, np.zeros((0, len(FEATURES)), np.float32)
    cos = index.dense.cosines(qv, ids, dense)
    # ranks within each retriever's own list (none for a chunk it did not find), as reciprocal rank
    # fusion has them: so a chunk's features, and the order of the first results, do not depend on
    # how deep the lists were taken (the web page asks for more results than the CLI)
    dense_rr, dense_rrf = _rank_features(dense, ids)
    bm_rr, bm_rank = _rank_features(lexical, ids)
    bm_rank *= coverage
    bm = np.array([lexical.get(int(i), 0.0) for i in ids], np.float32)
    matched = index.lexical.matched(query, ids, mask)
    q_numbers = set(NUMBERS.findall(YEARS.sub(" ", fold(query))))  # years are the time features' part
    terms = [t for t in tokenize(query) if not t.isdigit()]
    english = float(is_english(query))
    # an English question's words as the report terms the lexicon gives for them (as BM25 sees it)
    said = " ".join(lexicon.expand(query)) if english else query
    asked = [t for t in query_terms(said) if not YEARS.search(t)] if ASKS_FIGURE.search(fold(query)) else []
    chunks = [index.chunks[int(i)] for i in ids]
    docs = [index.documents[c.doc_id] for c in chunks]
    numbers = np.zeros(len(ids), np.float32)
    section = np.zeros(len(ids), np.float32)
    answers = np.array([answer_strength(c.text, asked) for c in chunks], np.float32)
    title = _titles_named(query, docs)
    shares: dict[str, float] = {}  # per section path: candidates share a few sections
    for j, (c, d) in enumerate(zip(chunks, docs)):
        if q_numbers:
            numbers[j] = len(q_numbers & set(NUMBERS.findall(fold(c.text)))) / len(q_numbers)
        if terms:
            path = d.paragraphs[c.paragraph - 1].section_path
            if path not in shares:
                folded = fold(path)
                shares[path] = sum(t in folded for t in terms) / len(terms)
            section[j] = shares[path]
    plan_q, review_q = (float(x) for x in question_intent(query))
    year_exact, year_span = _year_match(query, index.chunk_about[ids])
    part = index.chunk_parts[ids]
    in_plan, in_review = (part == 1).astype(np.float32), (part == -1).astype(np.float32)
    # for a question naming a year, its intent and the part about that year: a target in the plan,
    # an outcome in the review (of the next year's report)
    fits = np.maximum(plan_q * (1 - review_q) * in_plan, review_q * (1 - plan_q) * in_review)
    clashes = np.maximum(plan_q * (1 - review_q) * in_review, review_q * (1 - plan_q) * in_plan)
    bm_norm = bm / bm.max() if bm.max() > 0 else bm
    # BM25's score and ranks count only for the share of the question it knows (as its RRF rank
    # already did): asked 烂尾楼交付了多少套 of a report that says 保交楼, it knows only 多少 and 套, and
    # its best chunk is no better than its tenth. (bm25_known is the same column as bm25 since then;
    # the two weights add.)
    bm_known, rr_known = bm_norm * coverage, bm_rr * coverage
    # English questions get their own weights for the retrievers' evidence: BM25 sees them only
    # through the learned lexicon's Chinese words, the dense side sees them whole
    x = np.column_stack([
        cos, dense_rr, dense_rrf, bm_known, rr_known, bm_rank, bm_known, matched,
        numbers, section, answers, title,
        plan_q * in_plan, plan_q * in_review, review_q * in_review, review_q * in_plan,
        year_exact, year_span, year_exact * fits, year_exact * clashes,
        english * cos, english * dense_rr, english * dense_rrf, english * bm_norm, english * bm_rr,
        english * bm_rank, english * matched,
    ]).astype(np.float32)
    return ids, x


def learned_scores(ranker: Ranker, index, query: str, qv: np.ndarray, dense: dict[int, float],
                   lexical: dict[int, float], coverage: float,
                   mask: np.ndarray | None = None) -> dict[int, float]:
    ids, x = features(index, query, qv, dense, lexical, coverage, mask)
    return dict(zip(ids.tolist(), ranker.score(x).tolist()))
