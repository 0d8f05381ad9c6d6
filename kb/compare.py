"""Ask the whole library one question: one answer per report, with the figure it gives.

"各省2026年地区生产总值增长目标是多少" has an answer in every provincial report; a researcher wants them
side by side. Each report's first paragraphs come from kb's own search (its best one per report,
`per_document`, then its next ones in the overall ranking), kept to the part of the report the
question asks about (plan or review); the answer is the clause among them that holds most of the
question, and the figure is the one that clause gives (kb/figures.py).
"""
from __future__ import annotations

import csv
import dataclasses
import io
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass
from functools import lru_cache

from .figures import answer
from .lexical import _idf, fold
from .regions import regions_in
from .highlight import query_terms
from .ranker import PLAN_WORDS, REVIEW_WORDS, YEARS, question_intent
from .scope import GROUP_WORDS, RELATIVE_YEAR, Filters, relative_year
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
    about_year: tuple[int, int] | None = None  # the years the answering part of the report speaks about

    def to_dict(self) -> dict:
        return asdict(self)


# a question about several years ("十四五时期年均增长多少"), not one year's figure
SPAN_ASKED = re.compile(r"年均|平均每年|累计|五年|期间|时期|[一二三四五六七八九十]{2,3}五")
PARAGRAPHS_PER_REPORT = 3  # a report's answer is looked for in its first few paragraphs


def compare(index: Index, embedder, question: str, filters: Filters = Filters(), sort: str = "rank") -> list[Row]:
    """One row per report that answers (see `table`)."""
    return table(index, embedder, question, filters, sort)[0]


def table(index: Index, embedder, question: str, filters: Filters = Filters(),
          sort: str = "rank") -> tuple[list[Row], list[YearRow] | None]:
    """One row per report that answers, best first (or sorted by region, year or figure), and
    for one place's reports over the years (`is_series`) the timeline they make, if it has a year:
    then the rows are its targets (or its outcomes, for a question about what was done), oldest first.

    Each report's first paragraphs in kb's ranking are read for the clause that answers
    (kb/figures.py); the best-ranked paragraph wins unless a lower one answers with more of the
    question (the target sentence of a plan often sits below a paragraph that only names the
    indicators)."""
    if sort not in SORTS:
        raise ValueError(f"sort by one of {', '.join(SORTS)}")
    # a character mistyped for another of its sound, read as the reports spell the word (kb/spelling.py):
    # here once, so the figure reader looks for the words the search searched
    question = index.speller(question)
    filters = _named_regions(index, question, filters)
    # a timeline, where one place's reports give a figure for a year; else (a question no figure answers,
    # reports whose parts say no years) each report's answer, as for many places
    if is_series(index, filters) and (years := timeline(index, embedder, question, filters)):
        plan_q, review_q = question_intent(question)
        rows = [r for r in (y.outcome if review_q and not plan_q else y.target for y in years) if r]
        for place, r in enumerate(rows, 1):
            r.rank = place
        return _sorted(rows, sort), years
    filters = _named_year(index, question, filters)
    firsts = search(index, embedder, question, k=max(1, len(index.documents)), filters=filters, per_document=True)
    k = min(MAX_K, max(10, PARAGRAPHS_PER_REPORT * len(index.documents)))
    more = search(index, embedder, question, k=k, filters=filters, per_document=False, prefer_named=False)
    asked = _weighed(_asked(question), index)
    by_doc: dict[str, list] = {}
    for r in firsts + more:  # every report's best paragraph, then its next ones in the overall ranking
        found = by_doc.setdefault(r.doc_id, [])
        if all(f.paragraph != r.paragraph for f in found):
            found.append(r)
    asked = asked.seen_in([[r.text for r in found] for found in by_doc.values()])
    # a question about this year's plan is not answered from last year's review, nor the other
    # way round (the same reading of the question as the ranker's, kb/ranker.py)
    plan_q, review_q = question_intent(question)
    named = {int(y) for y in YEARS.findall(question)}
    relative = relative_year(question)
    rows = []
    plan, review = plan_q and not review_q, review_q and not plan_q
    for place, (doc_id, found) in enumerate(by_doc.items(), 1):
        naming = _naming(found, asked)
        found = naming or found
        fitting = [r for r in found if _fits(r, plan, review)]
        own = None
        if not fitting or not naming:
            # none of the report's paragraphs the whole library's ranking gave is in the part asked about
            # (a plan question, and only its review ranked high), or none names the indicator (only the
            # byline ranked high among them): its own ranking, for paragraphs that are
            own, fitting = _own(index, embedder, question, doc_id, asked, plan, review)
            found = found + [r for r in fitting if all(f.paragraph != r.paragraph for f in found)]
        row = _row(place, _chosen(found, fitting, named, relative), asked)
        if not row.figure:
            # the paragraphs read name the indicator but give no figure for it (policy paragraphs above the
            # list of targets): the best figure of the report's own ranking, from a sentence that names all
            # of the indicator (half of it would let 高端精品钢产量占比 answer for 粮食产量, read over a
            # whole report)
            if own is None:
                own, fitting = _own(index, embedder, question, doc_id, asked, plan, review)
            if own:
                # the paragraphs about the year asked first (as for any cell), then the rest of the part asked
                # about: Liaoning's 2026 plan names 今年 in its opening paragraphs, and its investment target is
                # in a paragraph of the part about 2026-2030 that says no year
                chosen = _chosen(own, fitting, named, relative, len(own))
                row = (_figured(place, chosen, asked)
                       or (_figured(place, fitting, asked) if chosen != fitting else None) or row)
        rows.append(row)
    return _sorted(rows, sort), None


def _own(index: Index, embedder, question: str, doc_id: str, asked: _Asked, plan: bool,
         review: bool) -> tuple[list, list]:
    """A report's own ranking for the question (its paragraphs that name the indicator, where some do),
    and those of them in the part asked about."""
    own = search(index, embedder, question, k=4 * PARAGRAPHS_PER_REPORT, filters=Filters(doc=(doc_id,)),
                 per_document=False, prefer_named=False, marked=0)
    own = _naming(own, asked) or own
    return own, [r for r in own if _fits(r, plan, review)]


def _chosen(found: list, fitting: list, named: set[int], relative: int | None,
            depth: int = PARAGRAPHS_PER_REPORT) -> list:
    """The paragraphs a report's cell is read from: of its first ones, those in the part asked about;
    where none is, the first that are further down. A year named, or 今年 / 去年 (each report's own year,
    the one it reviews): a part about that year alone comes before a five-year plan or review that holds
    it, even a little further down (Henan's 2026 report: 城镇新增就业110万人以上 this year, 500万人以上 in
    the five years to 2030)."""
    first = found[:depth]
    meant = named or ({found[0].year + relative} if relative is not None and found[0].year else set())
    exact = [r for r in fitting if r.about_year and r.about_year[0] == r.about_year[1] in meant]
    return ([r for r in exact if r in first] or exact[:depth]
            or [r for r in fitting if r in first] or fitting[:depth] or first)


def _sorted(rows: list[Row], sort: str) -> list[Row]:
    if sort == "region":
        rows.sort(key=lambda x: (x.region or "\uffff", x.rank))
    elif sort == "year":
        rows.sort(key=lambda x: (-(x.year or 0), x.rank))
    elif sort == "figure":
        rows.sort(key=lambda x: (x.value is None, -(x.value or 0), x.rank))
    return rows


def _fits(result, plan: bool, review: bool) -> bool:
    """Whether a result's part of its report can answer a question about the plan (not a part
    about earlier years: a review, a five-year review) or about what was done (not a part about
    the report's year or later)."""
    about = result.about_year
    if not about or not result.year:
        return True
    return not ((plan and about[1] < result.year) or (review and about[0] >= result.year))


def _groups(question: str) -> list[list[str]] | None:
    """The words a cell's clause is read for, one group per thing an English question says: the report
    terms the learned lexicon gives each of its words and phrases (as BM25 and the ranker read it),
    alternatives for one another, and its years as written. None for a Chinese question, whose own
    words are read."""
    from .fusion import is_english
    from .lexicon import expand_groups

    if not is_english(question):
        return None
    years = [[y] for y in query_terms(question) if YEARS.fullmatch(y)]
    return [g for g in map(query_terms, map(" ".join, expand_groups(question))) if g] + years


def indicator_words(terms: list[str]) -> list[str]:
    """The question's words that name what is asked: not its years, nor the words that say whose
    (各省), when (今年, 去年) or that it asks a target or an outcome (目标, 完成), which the clause with
    the figure seldom repeats."""
    framing = (GROUP_WORDS, RELATIVE_YEAR, PLAN_WORDS, REVIEW_WORDS)
    return [t for t in terms if not any(c.isdigit() for c in t) and not any(p.fullmatch(t) for p in framing)]


@dataclass(frozen=True)
class _Asked:
    """A comparison's question as each report's cell reads it, made once per question."""

    terms: list[str]  # the words a clause is read for
    named: list[str]  # those that name the indicator
    one_year: bool  # one year's figure is asked, not an average or total over several (kb/figures.py)
    groups: list[list[str]] | None = None  # an English question's terms by the word they translate
    named_groups: list[list[str]] | None = None  # and those that name the indicator
    weigh: Callable[[str], float] = len  # how much a word counts in the indicator rule (`_weighed`)

    def seen_in(self, reports: list[list[str]]) -> "_Asked":
        """An English question whose indicator is named only by the words that the paragraphs found
        for at least half of the reports compared hold: a lexicon term most reports do not write
        there ("each" → 相互, "create" → 创造, "many" → 不少) is the translation's noise, not a name of
        the indicator every report gives a figure for, and would leave cells short of half of it. A
        Chinese question's words are the reader's own."""
        if self.groups is None:
            return self
        seen = [" ".join(fold(t) for t in texts) for texts in reports]
        held = [g for g in self.named_groups if 2 * sum(any(w in t for w in g) for t in seen) >= len(seen)]
        return dataclasses.replace(self, named_groups=held or self.named_groups)

    def names_all(self, text: str) -> bool:
        """Whether `text` names every word of the indicator (an English question's: a term of each group)."""
        seen = fold(text)
        if self.groups is None:
            return bool(self.named) and all(w in seen for w in self.named)
        return bool(self.named_groups) and all(any(w in seen for w in g) for g in self.named_groups)

    def read(self, text: str, year: int | None = None):
        """The answer a cell gives from `text` (for `year`, where a timeline asks one)."""
        return answer(text, self.terms, indicator=True, one_year=self.one_year, groups=self.groups,
                      named=self.named if self.groups is None else self.named_groups, weigh=self.weigh, year=year)


def _asked(question: str) -> _Asked:
    groups = _groups(question)
    if groups is None:
        terms = [t for t in query_terms(question) if not GROUP_WORDS.fullmatch(t)]
        return _Asked(terms, indicator_words(terms), not SPAN_ASKED.search(question))
    terms = sorted({t for g in groups for t in g}, key=lambda t: (-len(t), t))
    named = indicator_words(terms)
    return _Asked(terms, named, not SPAN_ASKED.search(question), groups,
                  [kept for kept in ([t for t in g if t in named] for g in groups) if kept])


def _weighed(asked: _Asked, index: Index) -> _Asked:
    """A question whose words count, against the words that name the indicator (kb/figures.py's
    `answer`, `indicator`), by how rare they are in the reports (BM25's IDF), not by their length:
    asked 单位国内生产总值能耗下降多少 (or "energy consumption per unit of GDP"), a clause that gives the
    growth of 国内生产总值 holds most of the question's characters but little of what tells it from any
    other figure (能耗), and a word no report writes weighs nothing."""
    n = index.dense.count

    @lru_cache(maxsize=None)
    def rarity(term: str) -> float:
        df = index.lexical.frequency(term)
        return _idf(n, df) if df else 0.0

    return dataclasses.replace(asked, weigh=rarity)


def _naming(found: list, asked: _Asked) -> list:
    """The paragraphs that name something of the indicator: one that names nothing of it cannot
    answer (a byline dated the report's year)."""
    return [r for r in found if any(w in fold(r.text) for w in asked.named)]


def _row(place: int, found: list, asked: _Asked, year: int | None = None) -> Row:
    """The row of a report from its first paragraphs: the best-ranked one, unless a lower one
    answers with more of the question (for `year`, in a timeline)."""
    r, ans = found[0], asked.read(found[0].text, year)
    for other in found[1:]:
        alt = asked.read(other.text, year)
        if alt.score > ans.score:
            r, ans = other, alt
    return _made(place, r, ans)


def _figured(place: int, found: list, asked: _Asked) -> Row | None:
    """The row of the paragraph of `found` that answers with most of the question, of those whose
    answer gives a figure in a sentence naming all of the indicator; None where none does."""
    best = None
    for r in found:
        ans = asked.read(r.text)
        if ans.figure and asked.names_all(ans.sentence) and (best is None or ans.score > best[1].score):
            best = r, ans
    return _made(place, *best) if best else None


def _made(place: int, r, ans) -> Row:
    fig = ans.figure
    return Row(place, r.doc_id, r.title, r.region, r.year, ans.sentence, fig.text if fig else "",
               fig.value if fig else None, fig.unit if fig else "", r.paragraph, r.citation, r.url, r.score,
               r.about_year)


@dataclass
class YearRow:
    """One year of a timeline: the target its own report set, and the outcome the next one gives."""

    year: int
    target: Row | None
    outcome: Row | None

    def to_dict(self) -> dict:
        return {"year": self.year, "target": self.target.to_dict() if self.target else None,
                "outcome": self.outcome.to_dict() if self.outcome else None}


def is_series(index: Index, filters: Filters = Filters()) -> bool:
    """Whether the reports searched are one place's over several years (the national archive, a
    city's yearly reports, two of them: did it meet last year's target?): a question across them asks
    for a timeline, not a comparison of places."""
    docs = [d for d in index.documents.values() if filters.allows(d)]
    return (len({d.year for d in docs if d.year}) >= 2 and len({d.region for d in docs}) == 1
            and all(d.year for d in docs))


def timeline(index: Index, embedder, question: str, filters: Filters = Filters()) -> list[YearRow]:
    """One row per year spoken about, oldest first: the target set in that year's report (its
    plan: the part about its own year) and the outcome the next year's report gives (its review:
    the part about the year before), each from the report's own first paragraphs for the question.
    A year a report's parts do not name (older reports run review and plan together) gives what
    there is, and a year with no figure on either side is left out; a figure is never made up."""
    asked = _weighed(_asked(question), index)
    first, last = _years_asked(question)
    targets: dict[int, Row] = {}
    outcomes: dict[int, Row] = {}
    parts = []  # each report's year, and its first paragraphs in its plan and in its review
    reports = [d for d in index.documents.values() if filters.allows(d) and d.year and first <= d.year <= last + 1]
    for doc in sorted(reports, key=lambda d: d.year):
        found = search(index, embedder, question, k=4 * PARAGRAPHS_PER_REPORT, per_document=False,
                       filters=Filters(doc=(doc.doc_id,)), prefer_named=False)
        found = _naming(found, asked) or found
        plan = [r for r in found if r.about_year == (doc.year, doc.year)][:PARAGRAPHS_PER_REPORT]
        review = [r for r in found if r.about_year == (doc.year - 1, doc.year - 1)][:PARAGRAPHS_PER_REPORT]
        # "一、2019年和今年以来工作回顾" when the report has no review of the year alone (not a
        # five-year review: its figures are the five years')
        review = review or [r for r in found if r.about_year and r.about_year[0] == doc.year - 1
                            and r.about_year[1] == doc.year][:PARAGRAPHS_PER_REPORT]
        parts.append((doc.year, plan, review))
    asked = asked.seen_in([[r.text for r in plan + review] for _, plan, review in parts])
    for year, plan, review in parts:
        if plan:
            targets[year] = _row(year, plan, asked, year)
        if review:
            outcomes[year - 1] = _row(year - 1, review, asked, year - 1)
    years = [YearRow(y, targets.get(y), outcomes.get(y)) for y in sorted(set(targets) | set(outcomes))
             if first <= y <= last]
    # a year for which neither report gives a figure is not part of the timeline (2000 and 2001 set
    # no growth target; what their reports say nearest the question is no answer)
    return [y for y in years if (y.target and y.target.figure) or (y.outcome and y.outcome.figure)]


YEAR = r"((?:19|20)\d\d)"
SINCE = re.compile(rf"{YEAR}\s*年?\s*(?:以来|至今|起|之后|以后)|\b(?:since|after)\s+{YEAR}\b"
                   rf"|\b{YEAR}\s+(?:onwards?|and\s+(?:after|later|since))\b|\bfrom\s+{YEAR}\s+(?:on|onwards?)\b", re.I)
BEFORE = re.compile(rf"{YEAR}\s*年?\s*(?:以前|之前)|\bbefore\s+{YEAR}\b", re.I)
UNTIL = re.compile(rf"\b(?:until|till|up\s+to|through)\s+{YEAR}\b", re.I)


def _years_asked(question: str) -> tuple[int, int]:
    """The years a timeline covers: "2010年以来…" / "since 2010" from 2010 on, "2000年以前…" / "before
    2000" the years before it ("until 2000": and it), "2010—2015年…" those, one year named only that
    one; none named, every year."""
    m = SINCE.search(question)
    if m:
        return int(next(g for g in m.groups() if g)), 9999
    for pattern, last in ((BEFORE, -1), (UNTIL, 0)):
        m = pattern.search(question)
        if m:
            return 0, int(next(g for g in m.groups() if g)) + last
    years = sorted(int(y) for y in YEARS.findall(question))
    if years:
        return years[0], years[-1]
    return 0, 9999


def _named_regions(index: Index, question: str, filters: Filters) -> Filters:
    """"北京和上海…目标" compares those two, "福建历年…" is Fujian's timeline: the places a question
    names, that the library has, keep the comparison to their reports (unless the filters already
    say a place or the reports)."""
    from dataclasses import replace

    if filters.region or filters.doc:
        return filters
    docs = [d for d in index.documents.values() if filters.allows(d)]
    have = {d.region for d in docs if d.region}
    named = set(regions_in(question, have))
    if not named or named == have:
        return filters
    if len(named) == 1:
        return replace(filters, region=named.pop())
    return replace(filters, doc=tuple(d.doc_id for d in docs if d.region in named))


def _named_year(index: Index, question: str, filters: Filters) -> Filters:
    """"各省2026年…目标" compares the 2026 reports, "各省2025年…实际增长多少" the 2026 reports (their
    review of 2025 tells what was done; the 2025 reports' tells 2024), "各省今年…" the newest: the
    reports that speak of the year the question asks as it asks, where the library has them, keep
    the comparison to them (unless the filters already say a year)."""
    from dataclasses import replace

    years = {int(y) for y in YEARS.findall(question)}
    plan_q, review_q = question_intent(question)
    if review_q and not plan_q:
        years = {y + 1 for y in years}
    docs = [d for d in index.documents.values() if filters.allows(d) and d.year]
    if not years and RELATIVE_YEAR.search(question) and docs:
        years = {max(d.year for d in docs)}
    have = {d.year for d in docs} & years
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


TIMELINE_COLUMNS = ("year", "target_figure", "target_sentence", "target_citation", "target_url",
                    "outcome_figure", "outcome_sentence", "outcome_citation", "outcome_url")


def timeline_csv(years: list[YearRow]) -> str:
    """A timeline as CSV (UTF-8 with a byte-order mark): one line per year, target beside outcome."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(TIMELINE_COLUMNS)
    for y in years:
        line = [y.year]
        for row in (y.target, y.outcome):
            line += [row.figure, row.sentence, row.citation, row.url] if row else ["", "", "", ""]
        writer.writerow(line)
    return "\ufeff" + out.getvalue()
