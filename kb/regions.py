"""Names of places in reports and questions: 北京市 / 北京 / Beijing all mean one region.

A question like "北京今年经济增长预期目标" or "What is Hainan's 2026 GDP growth target?"
names its report by region; paragraphs rarely repeat it. China's administrative divisions come
from the table the `cpca` package ships (3,500 provinces, prefecture-level cities and counties with
their codes; read as a file, cpca itself is never imported), so a city's or a district's report
(苏州市, 和平区) is named and resolved as a province's is. Provinces and prefecture-level cities are
also known by their short names (苏州); a county or district only by its full name, since the same
short name belongs to several (和平区 is in Tianjin and in Shenyang). English names are kept below
for the provinces and the largest cities.
"""
from __future__ import annotations

import csv
import re
from functools import lru_cache

# short name, full name, English names (lower case; the first is the display name)
_TABLE = [
    ("北京", "北京市", ["beijing", "peking"]), ("天津", "天津市", ["tianjin"]), ("河北", "河北省", ["hebei"]),
    ("山西", "山西省", ["shanxi"]), ("内蒙古", "内蒙古自治区", ["inner mongolia", "inner-mongolia", "nei mongol"]),
    ("辽宁", "辽宁省", ["liaoning"]), ("吉林", "吉林省", ["jilin"]), ("黑龙江", "黑龙江省", ["heilongjiang"]),
    ("上海", "上海市", ["shanghai"]), ("江苏", "江苏省", ["jiangsu"]), ("浙江", "浙江省", ["zhejiang"]),
    ("安徽", "安徽省", ["anhui"]), ("福建", "福建省", ["fujian"]), ("江西", "江西省", ["jiangxi"]),
    ("山东", "山东省", ["shandong"]), ("河南", "河南省", ["henan"]), ("湖北", "湖北省", ["hubei"]),
    ("湖南", "湖南省", ["hunan"]), ("广东", "广东省", ["guangdong", "canton"]),
    ("广西", "广西壮族自治区", ["guangxi"]), ("海南", "海南省", ["hainan"]), ("重庆", "重庆市", ["chongqing"]),
    ("四川", "四川省", ["sichuan"]), ("贵州", "贵州省", ["guizhou"]), ("云南", "云南省", ["yunnan"]),
    ("西藏", "西藏自治区", ["tibet", "xizang"]), ("陕西", "陕西省", ["shaanxi"]), ("甘肃", "甘肃省", ["gansu"]),
    ("青海", "青海省", ["qinghai"]), ("宁夏", "宁夏回族自治区", ["ningxia"]),
    ("新疆", "新疆维吾尔自治区", ["xinjiang"]), ("香港", "香港特别行政区", ["hong kong", "hongkong"]),
    ("澳门", "澳门特别行政区", ["macau", "macao"]), ("台湾", "台湾省", ["taiwan"]),
    ("全国", "全国", ["national", "china", "state council"]),
    ("沈阳", "沈阳市", ["shenyang"]), ("大连", "大连市", ["dalian"]), ("广州", "广州市", ["guangzhou"]),
    ("深圳", "深圳市", ["shenzhen"]), ("杭州", "杭州市", ["hangzhou"]), ("南京", "南京市", ["nanjing"]),
    ("武汉", "武汉市", ["wuhan"]), ("成都", "成都市", ["chengdu"]), ("西安", "西安市", ["xi'an", "xian"]),
]
_ENGLISH = {en: short for short, _, names in _TABLE for en in names}
_PROVINCE_SUFFIX = re.compile(r"(壮族自治区|回族自治区|维吾尔自治区|自治区|特别行政区|省|市)$")
_CITY_SUFFIX = re.compile(r"(市|地区|盟)$")
_SUFFIX = re.compile(r"(?:(\d{4})年)?([\u4e00-\u9fff]{1,12}?(?:省|市|自治区|特别行政区|自治州|地区|盟|区|县|旗))"
                     r"(?:\d{4}年)?(?:人民)?政府工作报告")
# what a question may open on before the place it asks about: "2025年西藏…", "今年西藏…", "今年全国…"
_OPENING_TIME = re.compile(r"^\s*(?:(?:19|20)\d\d\s*年|今年|去年|明年|上年|本年)?\s*")


@lru_cache(maxsize=1)
def _adcodes() -> list[tuple[str, str]]:
    """(code, full name) of every division in the table the `cpca` package ships; [] without it."""
    try:
        import importlib.util
        from pathlib import Path

        spec = importlib.util.find_spec("cpca")
        if spec and spec.submodule_search_locations:
            path = Path(list(spec.submodule_search_locations)[0]) / "resources" / "adcodes.csv"
            with open(path, encoding="utf-8") as fh:
                return [(r["adcode"], r["name"]) for r in csv.DictReader(fh)]
    except (OSError, KeyError, ValueError):
        pass
    return []


@lru_cache(maxsize=1)
def divisions() -> tuple[dict[str, str], dict[str, str]]:
    """(full name → short name, short name → full name) of every division the table knows, with
    this module's own table on top (全国, and the names it has always had)."""
    full_to_short: dict[str, str] = {}
    short_to_full: dict[str, str] = {}
    rows = _adcodes()
    # provinces first, then cities, then counties: a short name belongs to the highest level
    for code, full in sorted(rows, key=lambda r: (r[0][2:].strip("0") != "", r[0][4:].strip("0") != "", r[0])):
        if not full or full in ("市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"):
            continue
        if code[2:].strip("0") == "":
            short = _PROVINCE_SUFFIX.sub("", full) or full
        elif code[4:].strip("0") == "":
            short = _CITY_SUFFIX.sub("", full) if len(full) > 2 else full
        else:
            short = full
        full_to_short.setdefault(full, short)
        short_to_full.setdefault(short, full)
    for short, full, _ in _TABLE:
        full_to_short[full] = short
        short_to_full[short] = full
    return full_to_short, short_to_full


@lru_cache(maxsize=1)
def major_places() -> dict[str, str]:
    """Name (full and short) → short name of every province and prefecture-level city: the places a
    question can ask about as a report's (a district such as 和平区 may be a part of a city's report)."""
    full_to_short, _ = divisions()
    out: dict[str, str] = {}
    for code, full in _adcodes():
        if code[4:].strip("0") == "" and full in full_to_short and full_to_short[full] != "全国":
            short = full_to_short[full]
            if len(short) >= 2:
                out[full] = out[short] = short
    return out


def place_asked(text: str) -> str | None:
    """The province or prefecture-level city a question opens on (its subject: "西藏今年经济增长目标",
    "2025年大连市…"), by the longest name, or an English question names anywhere ("What is Tibet's
    GDP growth target?"); None when it asks about none."""
    rest = text[_OPENING_TIME.match(text).end():]
    names = major_places()
    found = [rest[:n] for n in range(9, 1, -1) if rest[:n] in names]
    if found:
        return names[found[0]]
    lower, places = text.lower(), set(names.values())
    english = [en for en, short in _ENGLISH.items() if short in places and re.search(rf"\b{re.escape(en)}\b", lower)]
    return _ENGLISH[max(english, key=len)] if english else None


def short_name(name: str | None) -> str | None:
    """北京市 → 北京; 内蒙古自治区 → 内蒙古; 苏州市 → 苏州; 和平区 stays 和平区; an unknown 某某市 → 某某."""
    if not name:
        return None
    name = name.strip()
    full_to_short, short_to_full = divisions()
    if name in full_to_short:
        return full_to_short[name]
    if name in short_to_full:
        return name
    if name.lower() in _ENGLISH:
        return _ENGLISH[name.lower()]
    m = re.fullmatch(r"(.{2,9}?)(省|市|自治区|特别行政区|县|区)", name)
    return m.group(1) if m else name


def region_from_title(title: str) -> str | None:
    """The division a report's title names, when the table knows it (2024年沈阳市政府工作报告 → 沈阳)."""
    full_to_short, _ = divisions()
    for m in _SUFFIX.finditer(title or ""):
        name = m.group(2)
        for start in range(len(name) - 1):  # "2024年某某区…": the longest known name at its end
            if name[start:] in full_to_short:
                return full_to_short[name[start:]]
    if re.search(r"(^|\d{4}年)政府工作报告", title or "") and "国务院" in (title or ""):
        return "全国"
    return None


def region_from_name(stem: str) -> str | None:
    """A file name such as 2026-inner-mongolia or 2025-national."""
    words = re.sub(r"[\d_]+", " ", stem.lower()).replace("-", " ").split()
    text = " ".join(words)
    for en in sorted(_ENGLISH, key=len, reverse=True):
        if re.search(rf"(^|\s){re.escape(en.replace('-', ' '))}($|\s)", text):
            return _ENGLISH[en]
    full_to_short, _ = divisions()
    found = [full for full in full_to_short if full in stem]
    if found:
        return full_to_short[max(found, key=len)]
    for short, full, _ in _TABLE:
        if short in stem:
            return short
    return None


def names_of(short: str | None) -> list[str]:
    """Every name of a region: short, full and English (北京, 北京市, beijing, peking)."""
    if not short:
        return []
    full = divisions()[1].get(short, short)
    english = next((names for s, _, names in _TABLE if s == short), [])
    return list(dict.fromkeys([short, full, *english]))


# "高于全国平均水平": a question saying 全国 compares with the country, it does not ask
# for the State Council's report; these name that report, and so does 全国 as the question's
# subject, first or after the year it asks about ("2025年全国城镇新增就业目标", "今年全国GDP增长目标")
_NATIONAL = ("国务院", "中央政府", "全国政府工作报告", "国家政府工作报告")


def regions_in(text: str, known: set[str]) -> list[str]:
    """Regions among `known` (short names) that `text` names, in Chinese or English."""
    found = []
    lower = text.lower()
    short_to_full = divisions()[1]
    for short in known:
        full = short_to_full.get(short, short)
        chinese = _NATIONAL if short == "全国" else (short, full)
        names = [n for s, _, ns in _TABLE if s == short for n in ns]
        if (any(n in text for n in chinese) or any(re.search(rf"\b{re.escape(n)}\b", lower) for n in names)
                or (short == "全国" and text[_OPENING_TIME.match(text).end():].startswith("全国"))):
            found.append(short)
    # 北京 inside 北京市 is one region; drop a name that only occurs inside a longer one found
    return sorted(found, key=len, reverse=True)
