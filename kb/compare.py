"""Ask the whole library one question: one answer per report, with the figure it gives.

"各省2026年地区生产总值增长目标是多少" has an answer in every provincial report; a researcher wants them
side by side. Each report's first paragraphs come from kb's own search (its best one per report,
`per_document`, then its next ones in the overall ranking), kept to the part of the report the
question asks about (plan or review); the answer is the clause among them that holds most of the
question, and the figure is the one that clause gives (kb/figures.py).
"""
from __future__ import annotations

import csv
import io
from dataclasses import asdict, dataclass

from .figures import answer
from .highlight import query_terms
from .ranker import YEARS, _question_times
from .scope import Filters
from .search import MAX_K, search
from .store import Index

COLUMNS = ("doc_id", "title", "region", "year", "sentence", "figure", "value", "unit", "paragraph", "citation",
           "url")
SORTS = ("rank", "region", "year", "figure")


@dataclass
class Row:
    rank: int
    doc_id: str
    title: str
    region: str | None
    year: int | None
    sentence: str
    figure: str  # as written; "" when the sentence gives none
    value: float | None
    unit: str
    paragraph: int
    citation: str
    url: str
    score: float

    def to_dict(self) -> dict:
        return asdict(self)


PARAGRAPHS_PER_REPORT = 3  # a report's answer is looked for in its first few paragraphs


def compare(index: Index, embedder, question: str, filters: Filters = Filters(), sort: str = "rank") -> list[Row]:
    """One row per report that answers, best first (or sorted by region, year or figure).

    Each report's first paragraphs in kb's ranking are read for the clause that answers
    (kb/figures.py); the best-ranked paragraph wins unless a lower one answers with more of the
    question (the target sentence of a plan often sits below a paragraph that only names the
    indicators)."""
    if sort not in SORTS:
        raise ValueError(f"sort by one of {', '.join(SORTS)}")
    filters = _named_year(index, question, filters)
    firsts = search(index, embedder, question, k=max(1, len(index.documents)), filters=filters, per_document=True)
    k = min(MAX_K, max(10, PARAGRAPHS_PER_REPORT * len(index.documents)))
    more = search(index, embedder, question, k=k, filters=filters, per_document=False, prefer_named=False)
    terms = query_terms(question)
    by_doc: dict[str, list] = {}
    for r in firsts + more:  # every report's best paragraph, then its next ones in the overall ranking
        found = by_doc.setdefault(r.doc_id, [])
        if len(found) < PARAGRAPHS_PER_REPORT and all(f.paragraph != r.paragraph for f in found):
            found.append(r)
    position, parts = index.chunk_positions, index.chunk_parts
    rows = []
    for place, (doc_id, found) in enumerate(by_doc.items(), 1):
        # a question about this year's plan is not answered from last year's review, nor the other
        # way round (the same reading of the question as the ranker's, kb/ranker.py)
        plan_q, review_q = (bool(x[0]) for x in _question_times(question, [found[0].year]))
        wrong_part = -1 if plan_q and not review_q else 1 if review_q and not plan_q else None
        fitting = [r for r in found if parts[position[r.chunk_id]] != wrong_part]
        found = fitting or found
        r, ans = found[0], answer(found[0].text, terms)
        for other in found[1:]:
            alt = answer(other.text, terms)
            if alt.score > ans.score:
                r, ans = other, alt
        fig = ans.figure
        rows.append(Row(place, r.doc_id, r.title, r.region, r.year, ans.sentence, fig.text if fig else "",
                        fig.value if fig else None, fig.unit if fig else "", r.paragraph, r.citation, r.url,
                        r.score))
    if sort == "region":
        rows.sort(key=lambda x: (x.region or "\uffff", x.rank))
    elif sort == "year":
        rows.sort(key=lambda x: (-(x.year or 0), x.rank))
    elif sort == "figure":
        rows.sort(key=lambda x: (x.value is None, -(x.value or 0), x.rank))
    return rows


def _named_year(index: Index, question: str, filters: Filters) -> Filters:
    """"各省2026年…目标" compares the 2026 reports: a year the question names, that some reports
    of the library have, keeps the comparison to them (unless the filters already say a year)."""
    from dataclasses import replace

    years = {int(y) for y in YEARS.findall(question)}
    have = {d.year for d in index.documents.values()} & years
    if filters.year is None and len(have) == 1:
        return replace(filters, year=have.pop())
    return filters


def to_csv(rows: list[Row]) -> str:
    """UTF-8 with a byte-order mark, so that Excel opens the Chinese as Chinese."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for r in rows:
        d = r.to_dict()
        writer.writerow(["" if d[c] is None else d[c] for c in COLUMNS])
    return "\ufeff" + out.getvalue()
