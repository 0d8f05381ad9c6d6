"""The years a passage speaks about, as its report's structure says.

A yearly work report speaks about two years: its review is about the year before ("一、2016年工作回顾",
"一、过去一年工作回顾"), its plan about its own year ("二、2017年工作总体部署"); some parts speak about
a five-year period ("一、关于过去五年的政府工作", "“十三五”时期发展成就和“十四五”时期主要目标任务"). A
question that names a year ("2017年国内生产总值增长目标") names the year spoken about, not the year of
the report: the 2017 report's plan, or the 2018 report's review of 2017.
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from .documents import SECTION_SEP, Document

Span = tuple[int, int]

_NUMERALS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}
# "十四五", "“九五”", "第十一个五年计划", "第一个五年计划" (not "十五年", "五年来")
_PLAN = re.compile(r"第([一二三四五六七八九十]{1,3})个五年(?:计划|规划)|(?<![一二三四五六七八九十])"
                   r"(十[一二三四五六七八九]|[六七八九])五(?:”|\")?(?:计划|规划|时期|期间|末|以来|的)")
_PLAN_TENTH = re.compile(r"(?<![一二三四五六七八九十第])“十五”")
_YEAR = re.compile(r"(?<!\d)((?:19|20)\d\d)(?:年|—|-|～|~|至)")
_PAST_YEARS = re.compile(r"过去([一二三四五六七八九十]|\d+)年|([一二三四五六七八九十]|\d+)年来|"
                         r"(?<![今后未来])的(五)年$")  # "改革开放和现代化建设取得伟大成就的五年"
_LAST_YEAR = re.compile(r"过去一年|去年|上一年|上年")
_THIS_YEAR = re.compile(r"今年|本年|明年")  # 明年: a report read out in December (the 1950s) plans the next year


def _number(text: str) -> int:
    if text.isdigit():
        return int(text)
    if len(text) == 1:
        return _NUMERALS[text]
    if text.startswith("十"):
        return 10 + (_NUMERALS[text[1]] if len(text) > 1 else 0)
    tens = _NUMERALS[text[0]] * 10
    return tens + (_NUMERALS[text[2]] if len(text) > 2 else 0)


def plan_period(n: int) -> Span:
    """The years of the n-th five-year plan: 1953-1957, 1958-1962, then (after 1963-1965) 1966-1970 on."""
    if n <= 2:
        start = 1953 + 5 * (n - 1)
    else:
        start = 1966 + 5 * (n - 3)
    return start, start + 4


_DIGITS = {c: str(i) for i, c in enumerate("〇一二三四五六七八九")} | {"○": "0", "零": "0"}


def _normalise(text: str) -> str:
    """Full-width digits to ASCII, "1 9 9 8 年" (as some reports print a year) to "1998年", and
    "一九八九年" to "1989年"."""
    text = unicodedata.normalize("NFKC", text)
    text = re.sub(r"(?<=\d) (?=\d|年)", "", text)
    return re.sub(r"[〇○零一二三四五六七八九]{4}(?=年)", lambda m: "".join(_DIGITS[c] for c in m.group()), text)


@lru_cache(maxsize=65536)
def heading_years(heading: str, report_year: int | None) -> Span | None:
    """The years a heading says its section is about, or None if it says nothing of time."""
    text = _normalise(heading)
    spans: list[Span] = []
    spans += [(int(y), int(y)) for y in _YEAR.findall(text)]
    for m in _PLAN.finditer(text):
        spans.append(plan_period(_number(m.group(1) or m.group(2))))
    if _PLAN_TENTH.search(text):
        spans.append(plan_period(10))
    if report_year:
        m = _PAST_YEARS.search(text)
        if m:
            n = _number(m.group(1) or m.group(2) or m.group(3))
            spans.append((report_year - n, report_year - 1))
        elif _LAST_YEAR.search(text):
            spans.append((report_year - 1, report_year - 1))
        if _THIS_YEAR.search(text):
            spans.append((report_year + ("明年" in text), report_year + ("明年" in text)))
    if not spans:
        return None
    return min(s for s, _ in spans), max(e for _, e in spans)


def speaks_of_times(doc: Document) -> bool:
    """Whether any heading of the report names a time ("一、2023年工作回顾", "过去五年…"): only then
    does its structure say what all its parts speak about, its opening lines too."""
    return bool(doc.year) and any(heading_years(p.text, doc.year) for p in doc.paragraphs if p.heading)


def part_openings(doc: Document) -> dict[str, Span]:
    """The years a top-level part speaks about when its heading names none but its first paragraph
    opens on them: many reports head their parts with a slogan ("一、一年接着一年干，新福建建设持续取得
    新进展新成效") and date them in their first words ("2025年是“十四五”收官之年。一年来，…", "“十五五”
    时期是…", "2026年是“十五五”开局之年"). Keyed by the part's heading."""
    out: dict[str, Span] = {}
    if not doc.year:
        return out
    seen: set[str] = set()
    for para in doc.paragraphs:
        if para.heading or not para.section or para.section[0] in seen:
            continue
        part = para.section[0]
        seen.add(part)
        if heading_years(part, doc.year):
            continue
        kind, span = _opening(para.text, doc.year)
        if kind in ("year", "period") and span:
            out[part] = span
    return out


# a paragraph that opens on the year before, wherever it stands ("过去的一年，我国…", "刚刚过去的1992年，…")
_OPENS_ON_LAST_YEAR = re.compile(r"^(?:回顾)?(?:过去的一年|过去一年|刚刚过去的一年|去年一年|这里要特别指出，刚刚过去的)")


def about_years(doc: Document, section_path: str, structured: bool | None = None, text: str = "",
                parts: dict[str, Span] | None = None) -> Span | None:
    """The year or span a paragraph speaks about: the year before when it opens on it (`text`: "过去
    的一年，…" in a part about the plan), else its nearest heading that names a time (top level
    first: "一、2016年工作回顾 › （三）…" is about 2016), else what its part's first paragraph dates it
    to (`part_openings`, computed when not given), else, in a report whose headings name times
    (`speaks_of_times`, computed when not given) or whose parts' first words do, the report's own
    year (a part headed "三、继续保持经济平稳较快发展" after the plan is the plan's). None when the
    report's structure names no time (an article, an old report without dated parts) or it has no
    year."""
    if doc.year and _OPENS_ON_LAST_YEAR.search(text) and (structured or structured is None):
        return doc.year - 1, doc.year - 1
    for heading in section_path.split(SECTION_SEP) if section_path else ():
        span = heading_years(heading, doc.year)
        if span:
            return span
    if parts is None:
        parts = part_openings(doc)
    if section_path and (span := parts.get(section_path.split(SECTION_SEP)[0])):
        return span
    if structured is None:
        structured = speaks_of_times(doc)
    # where only the parts' first words date them, a part they leave undated follows the report's
    # shape (the plan's), but the opening lines before any part say nothing of time (2002's review of
    # 2001 stands there, under no heading)
    return (doc.year, doc.year) if structured or (parts and section_path) else None


# a paragraph that opens on a period of several years speaks about it, and so do those after it up to
# the next heading: "今后五年是实现…的关键性五年" (1993) and the five-year plan's tasks under it, "过去五年
# 极不寻常" (2023) and the five years' figures after it in a part headed "过去一年和五年工作回顾", "五年来，…"
_OPENING = re.compile(r"^(?:各位代表[！!]\s*)?(?:回顾)?")
_AHEAD = re.compile(r"(?:今后|未来)([二三四五六七八九十]|\d+)年")
_BEHIND = re.compile(r"过去([二三四五六七八九十]|\d+)年|([二三四五六七八九十]|\d+)年来")
# a paragraph that opens on one year speaks about it and ends such a run: "各位代表！１９９３年是…的一
# 年", "2022年是…", "今年是…" (not "一九五七年比一九五二年…" nor "一九五六年到一九六七年…", spans)
_ONE_YEAR = re.compile(r"(?:刚刚过去的)?((?:19|20)\d\d)年(?!比|到|至|\d{1,2}月)|今年|去年(?!以来)|过去的?一年|刚刚过去的一年")
_CLAUSE = re.compile(r"[^，。；：！？,;:!?]*")


def _plan_in(clause: str) -> Span | None:
    spans = [plan_period(_number(m.group(1) or m.group(2))) for m in _PLAN.finditer(clause)]
    if _PLAN_TENTH.search(clause):
        spans.append(plan_period(10))
    return (min(s for s, _ in spans), max(e for _, e in spans)) if spans else None


def _opening(text: str, year: int) -> tuple[str, Span | None]:
    """What a paragraph's opening says of time: ("period", span) for several years, ("year", the
    year) for one, ("plan", span) for a five-year plan its first clause names, ("", None) else."""
    text = _normalise(text[:80])
    text = text[_OPENING.match(text).end():]
    if m := _AHEAD.match(text):
        return "period", (year, year + _number(m.group(1)) - 1)
    if m := _BEHIND.match(text):
        return "period", (year - _number(m.group(1) or m.group(2)), year - 1)
    if plan := _plan_in(text[:8]):
        return "period", plan
    if m := _ONE_YEAR.match(text):
        y = m.group(1)
        return "year", ((int(y),) * 2 if y else (year, year) if m.group() == "今年" else (year - 1, year - 1))
    return "plan", _plan_in(_CLAUSE.match(text).group())


def paragraph_years(doc: Document) -> dict[int, Span | None]:
    """`about_years` of every paragraph of `doc` (by number), read in order: a paragraph that opens on
    a period of several years speaks about it, and so do those after it until a heading or a
    paragraph that opens on one year (which speaks about that year); within such a run, a first
    clause naming another five-year plan moves the run to it ("根据《…第十五个五年规划的建议》，我们
    编制了…" after "过去五年…")."""
    parts = part_openings(doc)
    structured = speaks_of_times(doc)
    out: dict[int, Span | None] = {}
    running: Span | None = None
    for para in doc.paragraphs:
        if para.heading or not (structured or parts):
            running = None
            out[para.number] = about_years(doc, para.section_path, structured, para.text, parts)
            continue
        kind, span = _opening(para.text, doc.year)
        if kind == "period" or (kind == "plan" and running and span):
            running = span
        elif kind == "year":
            running = None
            out[para.number] = span
            continue
        out[para.number] = running or about_years(doc, para.section_path, structured, para.text, parts)
    return out


def label(span: Span | None) -> str:
    """"2017年" or "2016–2020年" (what a result card shows)."""
    if not span:
        return ""
    return f"{span[0]}年" if span[0] == span[1] else f"{span[0]}–{span[1]}年"
