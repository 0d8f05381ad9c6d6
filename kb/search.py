"""Query to cited results: one result per paragraph, with where it can be read and cited."""
from __future__ import annotations

from dataclasses import dataclass, fields
from functools import lru_cache
from pathlib import Path
from urllib.parse import quote

import numpy as np

from .documents import title_note
from .fusion import DEFAULT_FUSION, Fusion, fuse
from .grouping import answers_per_report, per_report_depth
from .highlight import best_sentence, highlights, query_terms
from .ranker import YEARS, learned_scores, load_ranker
from .scope import (
    GROUP_WORDS,
    YEAR_BOOST,
    Filters,
    Preference,
    QueryError,
    chunk_mask,
    make_filters,
    missing_places,
    preferred_documents,
)
from .store import Index

__all__ = [
    "MAX_K",
    "MAX_QUERY_CHARS",
    "Filters",
    "Fusion",
    "QueryError",
    "Results",
    "SearchResult",
    "check_k",
    "clean_query",
    "facets",
    "make_filters",
    "search",
]

MAX_QUERY_CHARS = 1000


MAX_K = 100
CANDIDATES_PER_RESULT = 5  # chunks fetched per wanted result, before grouping by paragraph


@dataclass(frozen=True)
class SearchResult:
    rank: int
    score: float
    doc_id: str
    title: str
    year: int | None
    region: str | None
    section: str
    paragraph: int
    chunk_id: str
    text: str  # the whole paragraph: what the user reads and cites
    citation: str
    url: str
    highlights: tuple[tuple[int, int], ...] = ()  # spans of the query's terms in `text`
    best_sentence: dict | None = None  # {"start", "end", "text"}: the sentence that answers best
    page: int | None = None  # the page of the original file it starts on (PDFs)
    file_url: str | None = None  # the original file, opened at that page
    about_year: tuple[int, int] | None = None  # the years its part of the report speaks about (first, last)

    def to_dict(self) -> dict:
        # field by field: dataclasses.asdict deep-copies every span tuple, a millisecond a search of 50
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out["best_sentence"] = dict(self.best_sentence) if self.best_sentence else self.best_sentence
        return out


def clean_query(query: str) -> str:
    if query is None or not str(query).strip():
        raise QueryError("the query is empty: type a question or some words to search for")
    query = " ".join(str(query).split())
    if len(query) > MAX_QUERY_CHARS:
        raise QueryError(f"the query is too long ({len(query)} characters; at most {MAX_QUERY_CHARS})")
    return query


def check_k(k, most: int = MAX_K) -> int:
    try:
        k = int(k)
    except (TypeError, ValueError):
        raise QueryError(f"k must be a whole number from 1 to {most}, not {k!r}") from None
    if not 1 <= k <= most:
        raise QueryError(f"k must be from 1 to {most}, not {k}")
    return k


@lru_cache(maxsize=8192)  # the web app builds 50 results a search to count facets, mostly of the same paragraphs
def citation(title: str, section: str, paragraph: int, pages: tuple[int, int] | None = None,
             year: int | None = None, region: str | None = None) -> str:
    """《title》section 第N段, with the report's place and year after a title that does not give them."""
    where = "" if not pages else f"（第{pages[0]}页）" if pages[0] == pages[1] else f"（第{pages[0]}–{pages[1]}页）"
    return f"《{title}》{title_note(title, year, region)}{section + ' ' if section else ''}第{paragraph}段{where}"


@lru_cache(maxsize=8192)
def paragraph_url(doc_id: str, paragraph: int) -> str:
    return f"/docs/{quote(doc_id, safe='/')}#p{paragraph}"


def file_url(doc, page: int) -> str:
    """The original file, served by the web app from the reports folder, at `page`."""
    return f"/files/{quote(doc.doc_id, safe='/')}{Path(doc.path).suffix.lower()}#page={page}"


def _top(scores: np.ndarray, n: int) -> dict[int, float]:
    """The `n` best, best first; of equal scores the earlier chunk, so that the same question
    gets the same candidates however many are asked for."""
    if n >= len(scores):
        ids = np.arange(len(scores))
    else:
        floor = scores[np.argpartition(-scores, n)[:n]].min()
        # with every chunk tied at the boundary (only those that score at all)
        ids = np.flatnonzero(scores >= floor) if floor > 0 else np.flatnonzero(scores > 0)
    ids = ids[np.lexsort((ids, -scores[ids]))][:n]
    return {int(i): float(scores[i]) for i in ids if scores[i] > 0}


def candidates(index: Index, qv, lex, want: int, mask, mode: str = "hybrid", also=None
               ) -> tuple[dict[int, float], dict[int, float], float]:
    """The best `want` chunks within `mask` of each retriever the mode uses: dense cosines,
    BM25 scores, and the share of the query BM25 knows; `lex` is LexicalIndex.scores's answer.
    `also` (a chunk mask: the parts about a year the question names, `spoken_years`) adds the
    best `want` of those chunks to each list, so that they are among the candidates the ranker
    weighs even where the whole library's best crowd them out."""
    dense = index.dense.nearest(qv, want, mask) if mode in ("hybrid", "dense") else {}
    lexical, coverage = {}, 0.0
    if mode in ("hybrid", "lexical"):
        all_scores, coverage = lex
        if mask is not None:
            all_scores = np.where(mask, all_scores, 0)
        lexical = _top(all_scores, want)
    if also is not None:
        inside = also if mask is None else also & mask
        if inside.any():
            if mode in ("hybrid", "dense"):
                dense.update(index.dense.nearest(qv, want, inside))
            if mode in ("hybrid", "lexical"):
                lexical.update(_top(np.where(inside, lex[0], 0), want))
    return dense, lexical, coverage


def _ranked(index: Index, qv, lex, query: str, want: int, mask, fusion: Fusion, mode: str) -> dict[int, float]:
    """Fused scores of the best chunks within `mask`; `lex` is (BM25 scores, coverage) of the query."""
    spoken = spoken_years(index, query)
    dense, lexical, coverage = candidates(index, qv, lex, want, mask, mode, spoken)
    if mode == "dense":
        return dense
    if mode == "lexical":
        return lexical
    if fusion.method == "learned" and (ranker := load_ranker()) is not None:
        return _learned(ranker, index, qv, query, dense, lexical, coverage, mask, fusion, spoken)
    return fuse(dense, lexical, fusion, coverage, query)


def _learned(ranker, index: Index, qv, query: str, dense: dict[int, float], lexical: dict[int, float],
             coverage: float, mask, fusion: Fusion, spoken=None) -> dict[int, float]:
    """The ranker's scores for the first `fusion.candidates` of each list (the depth it was trained
    at; and as many more of the parts about a year the question names, `spoken`), and below them,
    in fused order, whatever deeper lists add: so the first results are the same however many are
    asked for (the web page asks for 50 to count facets, the CLI for 10)."""
    def head(scores):
        ranked = sorted(scores.items(), key=lambda kv: -kv[1])
        kept = dict(ranked[:fusion.candidates])
        if spoken is not None:
            kept.update(dict([kv for kv in ranked if spoken[kv[0]]][:fusion.candidates]))
        return kept

    scores = learned_scores(ranker, index, query, qv, head(dense), head(lexical), coverage, mask)
    tail = {i: s for i, s in fuse(dense, lexical, fusion, coverage, query).items() if i not in scores}
    if tail and scores:
        floor, top = min(scores.values()), max(tail.values())
        scores.update({i: floor * 0.5 * s / top for i, s in tail.items()})
    return scores


class Results(list):
    """Search results, and whether they were kept to one paragraph per report."""

    per_document: bool = False
    corrected: str | None = None  # the question as searched, when a mistyped word was read otherwise
    missing_places: tuple[str, ...] = ()  # the place asked about, when no report searched is about it

    def head(self, k: int) -> Results:
        out = Results(self[:k])
        out.per_document, out.corrected, out.missing_places = self.per_document, self.corrected, self.missing_places
        return out


def ranked_order(index: Index, embedder, query: str, filters: Filters = Filters(),
                 fusion: Fusion = DEFAULT_FUSION) -> tuple[list[int], np.ndarray]:
    """Chunk positions in hybrid order, before any preference or grouping, and every chunk's
    BM25 score: what `answers_per_report` looks at (scripts/tune_per_report.py fits it on them)."""
    query = index.speller(clean_query(query))
    mask = chunk_mask(index, filters)
    want = min(index.dense.count, max(fusion.candidates, 10 * CANDIDATES_PER_RESULT))
    qv = np.ascontiguousarray(embedder.encode_queries([query]), np.float32)
    lex = index.lexical.scores(query, mask)
    combined = _ranked(index, qv, lex, query, want, mask, fusion, "hybrid")
    return sorted(combined, key=combined.get, reverse=True), lex[0]


def spoken_years(index: Index, query: str) -> np.ndarray | None:
    """The chunks whose part of their report speaks about a year the question names (its span
    holds the year: kb/timeframe.py), or None when it names no year."""
    years = {int(y) for y in YEARS.findall(query)}
    if not years:
        return None
    about = index.chunk_about
    spoken = np.zeros(len(about), bool)
    for y in years:
        spoken |= (about[:, 0] <= y) & (y <= about[:, 1])
    return spoken


def _tiered(index: Index, qv, lex, query: str, want: int, tiers: list[np.ndarray], fusion: Fusion, mode: str
            ) -> tuple[list[int], dict[int, float]]:
    """Each tier's chunks ranked within it, first tier first, and their scores."""
    placed: list[int] = []
    scores: dict[int, float] = {}
    for tier in tiers:
        if tier.any():
            first = _ranked(index, qv, lex, query, want, tier, fusion, mode)
            done = set(placed)
            placed += [i for i in sorted(first, key=first.get, reverse=True) if i not in done]
            scores.update(first)
    return placed, scores


def _paragraphs(index: Index, ids: list[int]) -> int:
    return len({(index.chunks[i].doc_id, index.chunks[i].paragraph) for i in ids})


def search(index: Index, embedder, query: str, k: int = 10, fusion: Fusion = DEFAULT_FUSION,
           mode: str = "hybrid", filters: Filters = Filters(), per_document: bool | None = None,
           prefer_named: bool = True, marked: int | None = None, spell: bool = True, rerank: bool = False) -> Results:
    """Hybrid search over chunks, grouped so each paragraph appears once, at its best chunk.

    `mode` is "hybrid", or "dense" / "lexical" alone (for comparisons in kb eval);
    `filters` keeps only some documents. When the question names a region or year the
    library has, that report's paragraphs come first (`prefer_named`). `per_document`
    keeps one paragraph per report, for questions across reports ("各省…目标"); None
    decides: words such as 各省/历年 say so, and a question that names no report and whose
    candidates spread over many reports (`spread`, by a rule measured on generated questions)
    is answered per report. The results' `per_document` says which was done. Only the first
    `marked` results (all when None) get their highlights and best sentence: the web app asks
    for 50 to count facets and shows 10. With `spell`, a word typed with a character of the same
    sound as the reports' (扶务 for 服务) is searched as theirs, and the results' `corrected` says so.
    With `rerank`, the first results are read again by the opt-in cross-encoder (kb/rerank.py).
    """
    asked = query = clean_query(query)
    k = check_k(k, max(MAX_K, len(index.documents)))  # a comparison asks one paragraph of every report
    n = index.dense.count
    if n == 0:
        return Results()
    mask = chunk_mask(index, filters)
    if mask is not None and not mask.any():
        return Results()
    if spell:
        query = index.speller(query)
    searched = len(index.documents) if not filters else sum(map(filters.allows, index.documents.values()))
    if per_document is None and (searched < 2 or GROUP_WORDS.search(query)):
        per_document = searched > 1
    want = min(n, max(fusion.candidates, k * CANDIDATES_PER_RESULT))
    pref = (preferred_documents(index, query, filters) if prefer_named and not per_document
            else Preference((), query, False))
    # A question naming a report is ranked without the place name (see preferred_documents);
    # one embedding serves the named reports' rankings and the rest after them.
    ranked_query = pref.query if pref.strong else query
    qv = (np.ascontiguousarray(embedder.encode_queries([ranked_query]), np.float32)
          if mode in ("hybrid", "dense") else None)
    # BM25 weighs words by their rarity in the reports searched (see LexicalIndex.scores)
    lex = index.lexical.scores(ranked_query, mask) if mode in ("hybrid", "lexical") else None
    spoken = spoken_years(index, ranked_query)
    # a year alone, in a library whose parts say no time: its reports and the next year's (whose review
    # covers it) weigh a little more. Otherwise the reports named come first (a region's; where parts say
    # their years, those of that year and the next), each ranked within them, then the rest
    boost = bool(pref.tiers) and not pref.strong and (spoken is None or not spoken.any())
    placed, first = [], {}
    if pref.tiers and not boost:
        tiers = [index.doc_mask(t) if mask is None else (index.doc_mask(t) & mask) for t in pref.tiers]
        placed, first = _tiered(index, qv, lex, ranked_query, want, tiers, fusion, mode)
    if per_document is None and pref.tiers and pref.strong:
        per_document = False  # a named region asks that report
    lexical_scores = (lex or index.lexical.scores(query, mask))[0] if per_document is None else None
    if per_document is None and len(placed) >= per_report_depth():
        # the named reports' chunks come first, and the rule reads no further than them
        per_document = answers_per_report(index, placed, lexical_scores, mask)
    if per_document is False and _paragraphs(index, placed) >= k:
        # the named reports alone give every paragraph asked for: the whole library's ranking would only
        # follow them, unread (over all 119 reports, half of such a search's time)
        order, combined = placed, first
    else:
        combined = _ranked(index, qv, lex, ranked_query, want, mask, fusion, mode)
        order = sorted(combined, key=combined.get, reverse=True)
        if boost:
            named = pref.documents
            combined = {i: s * YEAR_BOOST if index.chunks[i].doc_id in named else s for i, s in combined.items()}
            order = sorted(combined, key=combined.get, reverse=True)
        elif pref.tiers:
            done = set(placed)
            order, combined = placed + [i for i in order if i not in done], {**combined, **first}
    if per_document is None:  # a year alone (2026年…) may name most of the library
        per_document = answers_per_report(index, order, lexical_scores, mask)
    terms = query_terms(query)
    results = Results()
    results.per_document = per_document
    results.corrected = query if query != asked else None
    results.missing_places = missing_places(index, query, filters)
    seen: set = set()
    for i in order:
        chunk = index.chunks[i]
        where = chunk.doc_id if per_document else (chunk.doc_id, chunk.paragraph)
        if where in seen:
            continue
        seen.add(where)
        doc = index.documents[chunk.doc_id]
        para = doc.paragraphs[chunk.paragraph - 1]
        results.append(SearchResult(
            rank=len(results) + 1, score=round(float(combined[i]), 4), doc_id=doc.doc_id,
            title=doc.title, year=doc.year, region=doc.region, section=para.section_path, paragraph=para.number,
            chunk_id=chunk.chunk_id, text=para.text,
            citation=citation(doc.title, para.section_path, para.number, para.pages, doc.year, doc.region),
            url=paragraph_url(doc.doc_id, para.number),
            page=para.pages[0] if para.pages else None,
            file_url=file_url(doc, para.pages[0]) if para.pages else None,
            about_year=_about(index, i),
            **(_marks(para.text, terms, chunk) if marked is None or len(results) < marked else {})))
        if len(results) == k:
            break
    if rerank:
        from .rerank import rerank as read_again

        results[:] = read_again(results, query)
    return results


def _marks(text: str, terms: list[str], chunk) -> dict:
    marks = highlights(text, terms)
    return {"highlights": tuple(marks), "best_sentence": best_sentence(text, marks, (chunk.start, chunk.end))}


def _about(index: Index, i: int) -> tuple[int, int] | None:
    first, last = (int(y) for y in index.chunk_about[i])
    return (first, last) if first else None


def facets(results: list[SearchResult]) -> dict:
    """How many of these results come from each document and each year, most first."""
    docs: dict[str, dict] = {}
    years: dict[int, int] = {}
    for r in results:
        d = docs.setdefault(r.doc_id, {"doc_id": r.doc_id, "title": r.title, "year": r.year, "region": r.region,
                                       "count": 0})
        d["count"] += 1
        if r.year:
            years[r.year] = years.get(r.year, 0) + 1
    return {"documents": sorted(docs.values(), key=lambda d: -d["count"]),
            "years": [{"year": y, "count": c} for y, c in sorted(years.items(), key=lambda x: (-x[1], -x[0]))]}
