"""Which reports a search covers: the user's filters, and the reports a question names."""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from .errors import KbError
from .regions import names_of, place_asked, regions_in
from .store import Index


class QueryError(KbError):
    """The query cannot be searched as given."""


@dataclass(frozen=True)
class Filters:
    """Narrow a search to some documents: by id, year or region (each None = any)."""

    doc: tuple[str, ...] | None = None
    year: int | None = None
    region: str | None = None

    def __bool__(self) -> bool:
        return bool(self.doc or self.year or self.region)

    def allows(self, doc) -> bool:
        return ((not self.doc or doc.doc_id in self.doc) and (not self.year or doc.year == self.year)
                and (not self.region or doc.region == self.region))


def make_filters(doc=None, year=None, region=None) -> Filters:
    """Validated filters from user input (CLI options or URL parameters)."""
    if isinstance(doc, str):
        doc = tuple(d for d in doc.split(",") if d.strip()) or None
    elif doc:
        doc = tuple(doc)
    if year not in (None, ""):
        try:
            year = int(year)
        except (TypeError, ValueError):
            raise QueryError(f"year must be a year such as 2024, not {year!r}") from None
    else:
        year = None
    return Filters(doc or None, year, region or None)


def why_nothing(documents, filters: Filters) -> str | None:
    """Why a search finds nothing when no report passes the filters, with what the reports have: a
    user who typed --year 2204 or --region 辽宁 for a library without it sees the years or places
    there are, not an empty answer. None when some report passes (then nothing matched the question)."""
    docs = list(documents)
    if not filters or any(filters.allows(d) for d in docs):
        return None
    years = sorted({d.year for d in docs if d.year})
    regions = sorted({d.region for d in docs if d.region})
    asked = " and ".join(x for x in (str(filters.year) if filters.year else "",
                                     filters.region or "") if x) or "these filters"
    have = "; ".join(x for x in (f"years {', '.join(map(str, years))}" if filters.year and years else "",
                                 f"regions {', '.join(regions)}" if filters.region and regions else "") if x)
    return f"no report in the index is for {asked}" + (f" (it has {have})" if have else "")


def missing_places(index: Index, query: str, filters: Filters = Filters()) -> tuple[str, ...]:
    """The place a question asks about when no report searched is about it: "西藏今年…" asked of a
    library without Tibet's report is answered from the others' reports, and must say so. Only in
    a library whose reports are about places (an article library names none)."""
    have = {d.region for d in index.documents.values() if filters.allows(d) and d.region}
    place = place_asked(query) if have else None
    return (place,) if place and place not in have else ()


def chunk_mask(index: Index, filters: Filters) -> np.ndarray | None:
    """The chunks a search covers: those of the documents the filters allow, within the reader's
    view (`Index.readable`); None for every chunk of the whole index."""
    if not filters:
        return index.visible
    return index.doc_mask({d.doc_id for d in index.documents.values() if filters.allows(d)})


GROUP_WORDS = re.compile(r"各省|各地|各市|各区|各省份|各地区|各自治区|历年|每年|各年|历次|各个|分别是")


# 今年 and 去年 in a library of several years are the newest report's: its plan and its review
RELATIVE_YEAR = re.compile(r"今年|本年|去年|上年|过去一年|this year|last year", re.I)

THIS_YEAR = re.compile(r"今年|本年|this year", re.I)
LAST_YEAR = re.compile(r"去年|(?<!比)上年|过去一年|last year", re.I)  # not 比上年 (than the year before)


def relative_year(query: str) -> int | None:
    """The year a question means by 今年 (0: a report's own year) or 去年 (-1: the one it reviews);
    None when it says neither, or both."""
    this, last = bool(THIS_YEAR.search(query)), bool(LAST_YEAR.search(query))
    return 0 if this and not last else -1 if last and not this else None


YEAR_BOOST = 1.25  # a year alone is a weak hint (a 2024 report reviews 2023): scores of its reports x1.25


@dataclass(frozen=True)
class Preference:
    """The reports a question names, in the order their paragraphs should come.

    `tiers`: sets of document ids, first tier first (a region's latest report, then its
    older ones); `query`: the question to rank them with (without the place name);
    `strong`: a region was named (its tiers come first; none when every report searched is its own)
    rather than only a year (a boost).
    """

    tiers: tuple[frozenset[str], ...] = ()
    query: str = ""
    strong: bool = False

    @property
    def documents(self) -> set[str]:
        return set().union(*self.tiers) if self.tiers else set()


def preferred_documents(index: Index, query: str, filters: Filters = Filters()) -> Preference:
    """The reports a question names, among those the filters allow.

    By region (北京, 北京市, Beijing) and, if it names a year, reports of that year or the
    next (whose review covers it). A region named without a year means its latest report
    ("北京今年…" asked of the 2025 and 2026 reports is about 2026); its older reports follow.
    Within the named report the place name says nothing more, and it pulls the ranking
    towards paragraphs that merely mention the place, so the report's own paragraphs are
    ranked for the question without it. A question that says 今年 or 去年 and names neither, asked
    of yearly reports of several years, asks the newest: its reports weigh a little more.
    No tiers: the question names no report, or names every report searched (a search
    within the Shenyang report for 沈阳… is that report's search, ranked without 沈阳).
    """
    docs = [d for d in index.documents.values() if filters.allows(d)]
    regions = set(regions_in(query, {d.region for d in docs if d.region}))
    years = {int(y) for y in re.findall(r"(?<!\d)((?:19|20)\d\d)(?!\d)", query)}
    chosen = [d for d in docs if d.region in regions] if regions else docs
    # "今年…" over yearly reports of several years (an archive, a library of two years' reports): the
    # newest, weighed a little more (as a year named is where parts say no time: a hint, not a filter;
    # ranked first, a newest report that does not answer would come before one that does)
    dated = [d.year for d in docs]
    relative = not (years or regions) and bool(RELATIVE_YEAR.search(query)) and all(dated) and len(set(dated)) > 1
    if relative:
        years = {max(dated)}
    if years:
        by_year = [d for d in chosen if d.year and (d.year in years or d.year - 1 in years)]
        chosen = by_year or chosen
    # a place named over its own reports alone ("福建今年…" of Fujian's 2025 and 2026): still its latest first
    several = regions and not years and len({d.year for d in chosen}) > 1
    if not (regions or years):
        return Preference((), query, False)
    stripped = query
    for name in sorted((n for r in regions for n in names_of(r)), key=len, reverse=True):
        stripped = re.sub(rf"{re.escape(name)}(?:'s|’s)?", " ", stripped, flags=re.IGNORECASE)
    stripped = " ".join(stripped.split())
    stripped = stripped if len(stripped) >= 2 else query
    if len(chosen) == len(docs) and not several:
        # every report searched is the one named: ranked in the same order, without the place name
        return Preference((), stripped, bool(regions))
    tiers = [frozenset(d.doc_id for d in chosen)]
    if regions and not years:
        latest = {}
        for d in chosen:
            latest[d.region] = max(latest.get(d.region) or 0, d.year or 0)
        newest = frozenset(d.doc_id for d in chosen if (d.year or 0) == latest[d.region])
        tiers = [newest, tiers[0] - newest] if newest != tiers[0] else tiers
    return Preference(tuple(tiers), stripped, bool(regions))
