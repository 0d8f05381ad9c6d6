"""The figure a sentence gives for what a question asks: number, unit and qualifier as written.

"地区生产总值增长5%左右，一般公共预算收入增长3%" answers a question about GDP with `5%左右`, not `3%`:
a sentence is cut into clauses at Chinese punctuation, and the figure comes from the clause that holds
most of the question's words. The figure is always text of the sentence, never made up; a clause
without one gives no figure.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from .lexical import fold

# full-width digits and point as older reports print them (７．５), thousands grouped by commas as some of
# them do (３３，２１２万吨), and digits spaced out as one web page gave a report (4 9 2 5 0 万吨)
NUMBER = r"\d{1,3}(?:[，,]\d{3})+(?!\d)(?:[.．]\d+)?|\d(?: \d){2,}(?! ?\d)|\d+(?:[.．]\d+)?"
# what a report counts in, each also in 万, 亿 and 万亿 (1.5亿户, 7200套, 8亿吨, 370亿方)
MEASURES = ("元", "人次", "人", "名", "户", "家", "所", "个", "项", "套", "辆", "台", "座", "条", "张", "件", "场", "次",
            "吨", "斤", "亩", "公里", "平方公里", "平方米", "立方米", "千瓦", "千瓦时", "标箱", "倍")
UNITS = ("个百分点", *sorted({m + u for m in ("", "万", "亿", "万亿") for u in MEASURES if m or u != "倍"} | {"万方", "亿方"},
                             key=len, reverse=True), "%", "％")
QUALIFIERS = ("左右", "以上", "以内", "以下", "上下", "之内", "内")
FIGURE = re.compile(
    rf"(?P<low>{NUMBER})\s*(?P<low_unit>[%％])?"
    rf"(?:\s*(?:[-—–~～－]|至|到)\s*(?P<high>{NUMBER}))?"
    rf"\s*(?P<unit>{'|'.join(map(re.escape, UNITS))})?"
    rf"(?P<qualifier>{'|'.join(QUALIFIERS)})?")
_CN = "零〇一二三四五六七八九十百点"
# "百分之十二点八", "百分之八至九" (reports before 2000 write percentages in words)
CN_PERCENT = re.compile(rf"百分之(?P<low>[{_CN}]+)(?:(?:至|到)(?:百分之)?(?P<high>[{_CN}]+))?"
                        rf"(?P<qualifier>{'|'.join(QUALIFIERS)})?")
# "千亿元", "两千万人", "十二项", "二百九十七亿九千七百万元" (amounts in words; not "一个", "三年")
CN_AMOUNT = re.compile(rf"(?P<low>(?:[{_CN}两千]+亿)?(?:[{_CN}两千]+万(?=[{_CN}两千]))?"
                       rf"(?:[{_CN}两千]*[十百千][{_CN}两千]*|[{_CN}两千]+(?=[万亿])))"
                       rf"(?P<unit>{'|'.join(map(re.escape, [u for u in UNITS if u not in '%％']))})"
                       rf"(?P<qualifier>{'|'.join(QUALIFIERS)})?")
CLAUSE = re.compile(r"(?:[^，；。：！？、,;:]|(?<=\d)[，,](?=\d{3}(?!\d)))+")  # not at a comma within a number
# what a figure right after 每 is: a denominator (每10万人口, 每50公斤) or the step of a rate (国内生产总值每增长1个
# 百分点的增量), never the amount the sentence gives
PER = re.compile(r"每(?:增长|增加|提高|上升|下降|降低|减少)?\s*$")


@dataclass(frozen=True)
class Figure:
    text: str  # as written: 5%左右, 4.5%—5%, 120万人以上
    value: float  # for sorting: a range sorts by its low end
    unit: str  # % or the unit word, "" when none
    qualifier: str  # 左右, 以上, … or ""
    start: int  # where it is in the sentence
    end: int


def figures(text: str) -> list[Figure]:
    """Every figure in `text`: a number with a unit or a qualifier (years and dates are not, nor what
    follows 每: PER)."""
    out = []
    for m in FIGURE.finditer(text):
        unit = (m.group("unit") or m.group("low_unit") or "").replace("％", "%")
        if not unit and not m.group("qualifier"):
            continue
        if PER.search(text, max(0, m.start() - 4), m.start()):
            continue
        if unit == "" and text[m.end("low"):m.end("low") + 1] in "年月日":
            continue
        if m.group("low_unit") and m.group("high") and not m.group("unit"):
            continue  # "5%—" followed by a bare number is not a range of percentages
        text_of = m.group().rstrip()
        low = number(m.group("low"))
        out.append(Figure(text_of, low, unit, m.group("qualifier") or "", m.start(), m.start() + len(text_of)))
    if re.search(f"[{_CN}两千]", text):
        out = sorted(out + _chinese_figures(text), key=lambda f: f.start)
    return out


def number(text: str) -> float:
    """３３，２１２ → 33212.0, ７．５ → 7.5, "4 9 2 5 0" → 49250.0."""
    return float(re.sub(r"[, ]", "", unicodedata.normalize("NFKC", text)))


def chinese_number(text: str) -> float:
    """十二点八 → 12.8, 三点九 → 3.9, 一百零五 → 105."""
    digits = {c: i for i, c in enumerate("零一二三四五六七八九")} | {"〇": 0, "两": 2}
    whole, _, fraction = text.partition("点")
    value, current = 0, 0
    for c in whole:
        if c in digits:
            current = digits[c]
        elif c == "十":
            value += (current or 1) * 10
            current = 0
        elif c in "百千":
            value += (current or 1) * (100 if c == "百" else 1000)
            current = 0
    value += current
    if fraction:
        value += float("0." + "".join(str(digits.get(c, 0)) for c in fraction))
    return float(value)


def _chinese_figures(text: str) -> list[Figure]:
    out = [Figure(m.group(), chinese_number(m.group("low")), "%", m.group("qualifier") or "", m.start(), m.end())
           for m in CN_PERCENT.finditer(text)]
    taken = [(f.start, f.end) for f in out]
    for m in CN_AMOUNT.finditer(text):
        if any(s <= m.start() < e for s, e in taken):
            continue
        out.append(Figure(m.group(), _amount(m.group("low"), m.group("unit")), m.group("unit"),
                          m.group("qualifier") or "", m.start(), m.end()))
    return out


def _amount(low: str, unit: str) -> float:
    """An amount in words in its unit: 二百九十七亿九千七百 of 万元 is 2,979,700 (297亿 and 9,700万),
    一万零五百 of 亿斤 is 10,500."""
    high, split, rest = low.partition("亿")
    if split:
        per_yi = 1e4 if unit.startswith("万") else 1.0 if unit.startswith("亿") else 1e8  # units in one 亿
        return chinese_number(high) * per_yi + (_amount(rest, "") if rest else 0.0)
    high, split, rest = low.partition("万")
    if split:
        return chinese_number(high) * 1e4 + chinese_number(rest)
    return chinese_number(low)


@dataclass(frozen=True)
class Answer:
    sentence: str
    figure: Figure | None
    score: float  # how much of the question the answering clause and its sentence hold


RATE = re.compile(r"增长|增速|涨幅|下降|降低|提高|提升|比重|占比|[率%％]")
# a question asking how fast something grew or what share or rate it is: a compare cell's answer is a
# percentage ("实际增长多少": 4%, not the 2.5万亿元 the same sentence gives); 提高 may ask an amount (提高20元)
GROWTH = re.compile(r"增长|增速|增幅|涨幅|下降|降低|比重|占比|率")
CHANGE = re.compile(r"增长|增速|增幅|涨幅|下降|降低")  # of those, the ones that ask how much something changed
# a question asking how much is produced (粮食产量) is not answered by the land it is grown on: the clause
# before "确保粮食播种面积1530万亩、总产量125亿斤" names 粮食 and gives an area; one asking an area takes one
OUTPUT, AREA = re.compile(r"产量|产能|总产"), re.compile(r"面积")
AREA_UNITS = re.compile(r"亩|平方(?:公里|米)$")
# a clause that goes on with the one before: "国内生产总值达到18.23万亿元，比上年增长9.9%", "…达到
# ４３８００亿元，按可比价格计算，比上年增长百分之十一点八"
CONTINUES = re.compile(r"^\s*(?:按可比价格计算，?)?(?:比上年|同比|比\d{4}年|增长|增速|年均|平均每年|下降|提高|上涨)")
# a figure over several years: an average (地区生产总值年均增长5.9%), a total (累计下降14%)
SEVERAL_YEARS = re.compile(r"年均|平均每年|累计")
# a year a sentence sets its figures for (a plan's horizon): 到2030年, 到一九八五年
TO_YEAR = re.compile(r"到\s*((?:19|20)\d\d|[一二][〇○零一二三四五六七八九]{3})\s*年")
COMPARABLE = re.compile(r"\s*按可比价格计算[，,]?\s*")  # a clause of its own between the two: it passes on


def _weight(text: str, terms: list[str], weigh: Callable[[str], float] = len) -> float:
    """Characters of the question's words in `text` (or what `weigh` says each word counts), each
    word once: a word inside a longer one found there (生产 in 生产总值) adds nothing."""
    found = [t for t in terms if t in text]
    if len(found) < 2:  # most clauses: nothing to hold another
        return weigh(found[0]) if found else 0
    return sum(weigh(t) for t in found if not any(t != u and t in u for u in found))


def _held(text: str, groups: Sequence[Sequence[str]], weigh: Callable[[str], float] = len) -> float:
    """`_weight` for words that come in groups of alternatives (the report terms of one English word:
    城镇 or 城乡 for "urban"): each group counts once, by the longest of its words in `text`. Summed,
    not through `_weight`'s rule that a word inside a longer one adds nothing: 消费 ("consumer") inside
    居民消费 ("consumer prices") would shrink what naming the indicator weighs, and Tibet's 社会消费品零售总额增长
    7%左右 would answer its CPI (compare-2026-english-dev 0.934 -> 0.918 measured that way)."""
    return sum(max((weigh(t) for t in g if t in text), default=0) for g in groups)


def _measures(asked: str) -> Callable[[Figure, str], bool]:
    """Which figures can be a compare cell's answer, by their unit and what follows them (`after`), for a
    question whose words are `asked`: a growth, share or rate a percentage (实际增长多少: 4%, not the 2.5万亿元
    the same sentence gives), and a growth not one that qualifies a noun ("百分之八十以上的财政收入来自城市",
    a share of it); an output not an area; an area an area."""
    if GROWTH.search(asked):
        change = bool(CHANGE.search(asked))
        return lambda f, after: f.unit in ("%", "个百分点") and not (change and after.startswith("的"))
    if AREA.search(asked):
        return lambda f, after: bool(AREA_UNITS.search(f.unit))
    if OUTPUT.search(asked):
        return lambda f, after: not AREA_UNITS.search(f.unit)
    return lambda f, after: True


def _dated(sentence: str) -> set[int]:
    """The years a sentence sets its figures for: 到2030年, 到一九八五年."""
    digits = str.maketrans("〇○零一二三四五六七八九", "000123456789")
    return {int(y.translate(digits)) for y in TO_YEAR.findall(sentence)}


def answer_strength(text: str, terms: list[str]) -> float:
    """How fully a clause of `text` that gives a figure answers the question (0 to 1; 0 when no
    clause with the question's words gives one): what the ranker learns a weight for, beside how
    much of the question the chunk holds, for questions that ask for a figure."""
    if not terms or not any(t in fold(text) for t in terms):
        return 0.0  # no clause can hold the question's words (most candidates: skip reading them)
    if not _read(text).figured:
        return 0.0  # no clause gives a figure
    found = answer(text, terms, listed=True)
    return found.score / (4 * _weight(" ".join(terms), terms)) if found.figure else 0.0


@dataclass(frozen=True)
class _Clause:
    start: int  # in its sentence
    end: int
    figures: tuple[Figure, ...]  # as written, positions in the clause
    continues: bool  # goes on with the clause before (CONTINUES)
    after_colon: bool  # the first clause after "…目标是："


@dataclass(frozen=True)
class _Reading:
    seen: str  # the text folded, as the question's words are looked for
    sentences: tuple[tuple[int, int, tuple[_Clause, ...]], ...]  # span in the text, clauses
    figured: bool  # does any clause give a figure


@lru_cache(maxsize=4096)
def _read(text: str) -> _Reading:
    """`text` cut as `answer` reads it, once: the ranker asks the same chunks of question after
    question (1.4 kB each; on the bundled report, reading each anew took 0.8 of a search's 3 ms)."""
    from .chunking import sentences

    seen = fold(text)
    if len(seen) != len(text):  # NFKC changed the length (㎡ → m2): positions would not agree
        seen = text
    out = []
    for s, e in sentences(text) or [(0, len(text))]:
        sentence, seen_sentence = text[s:e], seen[s:e]
        clauses = tuple(
            _Clause(c.start(), c.end(), tuple(figures(c.group())), bool(CONTINUES.search(said)),
                    c.start() > 0 and sentence[c.start() - 1] in "：:")
            for c in CLAUSE.finditer(sentence)
            if not COMPARABLE.fullmatch(said := seen_sentence[c.start():c.end()]))
        out.append((s, e, clauses))
    return _Reading(seen, tuple(out), any(c.figures for *_, clauses in out for c in clauses))


def answer(text: str, terms: list[str], listed: bool = False, indicator: bool = False,
           named: Sequence[str] | None = None, one_year: bool = False,
           groups: Sequence[Sequence[str]] | None = None,
           weigh: Callable[[str], float] = len, year: int | None = None) -> Answer:
    """The sentence of `text` that answers and the figure it gives for `terms` (the question's
    words). The answering clause is the one whose own words and whose sentence's words cover most
    of the question (its own count twice, or three times when the question asks for a growth, a
    share or a rate and its figure is a percentage; longer words weigh more). With `listed`, the
    first clause after a colon also counts the words of the clause that announced it, once
    ("主要预期目标是：地区生产总值增长5%左右" answers 经济增长预期目标): right for ranking paragraphs
    (a list of targets answers a question about a target), not for a compare cell, which must not
    claim a figure for an item the list does not name. Its figure is the first after the last of
    the question's words in it — or none, when the clause that answers gives no figure (固定资产投资
    实现正增长): an empty cell, never a figure from a neighbouring clause. Ties go to the first.
    The words are looked for as BM25 matches them, in folded text (`terms` are folded: 增長 is
    增长, GDP is gdp); the sentence and figure are the text's own.

    With `indicator` (a compare cell), a clause gives a figure only if it holds at least half of the
    question's words its sentence holds (by length, the clause it continues counted, years not): in
    "主要预期目标是：地区生产总值增长6%左右，…进出口总额保持正增长" the growth of the economy holds 增长 of
    进出口增长目标, not 进出口, and the cell for foreign trade is empty, not 6%. And what it holds must weigh at
    least half of the words that name the indicator (`named`; all the question's words but years when None),
    whatever its sentence holds: "力争全省城镇化率提高0.9个百分点" holds 城镇 of 城镇调查失业率, and
    "规上工业增加值增长5%以上" only 增长 of 研发经费投入增长, the whole of what their sentences hold of
    those questions. A report that calls the indicator by another name gives no figure then (the 1998
    national report's 经济增长速度8％ for 国内生产总值增长): an empty cell, which the reader can open.
    With `one_year` (the question asks for a year's figure), a clause that gives an average or a total
    over several years (年均, 累计) gives none: a review of five years and the year before in one part
    says "地区生产总值年均增长5.9%" beside "地区生产总值增长5.5%", and 去年 asks for the second. With `year`
    (the year a timeline's row is for), neither does a sentence that sets its figures for another year: the
    1978 report's "到一九八五年，粮食产量达到八千亿斤" is no target for 1978.
    With `groups` (an English question: the report terms of each of its words), how much of what is asked a
    clause holds counts each word once, whichever of its terms the clause writes; `named` then are groups too.
    `weigh` is what a word counts for against the words that name the indicator (its length by default;
    kb compare: its rarity in the reports); the clause against its sentence, and its score, count characters."""
    best = Answer(text.strip(), None, 0.0)
    wants_rate = bool(RATE.search("".join(terms)))
    measures = _measures("".join(terms))
    what = [t for t in terms if not any(c.isdigit() for c in t)]  # what is asked about, not when
    if groups is None:
        def held(said):
            return _weight(said, what)

        def rated(said):  # the same, each word counted as `weigh` says
            return _weight(said, what, weigh)
        core = what if named is None else list(named)
        need = _weight(" ".join(core), core, weigh) if indicator else 0  # what the words naming the indicator weigh
    else:
        asked_about = [[t for t in g if t in what] for g in groups]
        def held(said):
            return _held(said, asked_about)
        def rated(said):
            return _held(said, asked_about, weigh)
        core_groups = asked_about if named is None else named
        need = _held(" ".join(t for g in core_groups for t in g), core_groups, weigh) if indicator else 0
    reading = _read(text)
    for s, e, clauses in reading.sentences:
        seen_sentence = reading.seen[s:e]
        around = _weight(seen_sentence, terms)
        if not around:
            continue  # no clause of it holds a word of the question (nor follows one that does)
        if year is not None and (dated := _dated(seen_sentence)) and year not in dated:
            continue  # its figures are for the year it names ("到一九八五年，粮食产量达到八千亿斤"), not for `year`
        asked = held(seen_sentence) if indicator else 0
        before = names_before = rated_before = 0
        for clause in clauses:
            said = seen_sentence[clause.start:clause.end]
            mine = own = _weight(said, terms)
            announced = 0  # the first clause after "…目标是：" answers for it, below a clause of its own words
            names = holds = held(said) if indicator else 0  # how much of what is asked it names
            rates = rating = rated(said) if indicator else 0  # and what that weighs
            if wants_rate and clause.continues:
                own += before  # the growth of what the clause before named
                holds += names_before
                rating += rated_before
            elif listed and clause.after_colon:
                announced = before
            if mine or clause.figures or not indicator:
                # (a cell: a clause with neither the question's words nor a figure, "稳居全国前十强", is
                # passed over by the growth that goes on with the one before it)
                before, names_before, rated_before = mine, names, rates
            if not own and not announced:
                continue
            # (with `indicator`, never in a sentence that holds nothing of what is asked: "2025年省十件民生实事")
            found = clause.figures if not indicator or (asked and 2 * holds >= asked and 2 * rating >= need) else ()
            if one_year and SEVERAL_YEARS.search(said):
                found = ()  # a year's figure is asked, and this clause gives several years' average or total
            if indicator:
                found = tuple(f for f in found if measures(f, said[f.end:]))
            last = max((said.rfind(t) + len(t) for t in terms if t in said), default=0)
            f = next((f for f in found if f.start >= last), found[0]) if found else None
            if f is None:  # a clause without a figure answers only on its own words
                score = 2 * own
            else:
                score = 2 * own + announced + around + (own if wants_rate and f.unit in ("%", "个百分点") else 0)
            # ranking (`listed`): of two clauses that hold as much of the question, the one that gives a
            # figure answers it ("…目标是：" ties with the target it announces)
            if score > best.score or (listed and score == best.score and f is not None and best.figure is None):
                at = s + clause.start
                figure = Figure(f.text, f.value, f.unit, f.qualifier, at + f.start, at + f.end) if f else None
                best = Answer(text[s:e].strip(), figure, float(score))
    return best
