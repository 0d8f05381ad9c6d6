"""Names of places in reports and questions: 北京市 / 北京 / Beijing all mean one region.

A question like "北京今年经济增长预期目标" or "What is Hainan's 2026 GDP growth target?"
names its report by region; paragraphs rarely repeat it. This table lets documents and
questions be matched by the region each names.
"""
from __future__ import annotations

import re

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
_FULL = {full: short for short, full, _ in _TABLE}
_SHORT = {short for short, _, _ in _TABLE}
_ENGLISH = {en: short for short, _, names in _TABLE for en in names}
_SUFFIX = re.compile(r"(?:(\d{4})年)?([\u4e00-\u9fff]{2,9}?)(省|市|自治区|壮族自治区|回族自治区|维吾尔自治区|特别行政区)"
                     r"(?:人民)?政府工作报告")


def short_name(name: str | None) -> str | None:
    """北京市 → 北京; 内蒙古自治区 → 内蒙古; an unknown 某某市 → 某某."""
    if not name:
        return None
    name = name.strip()
    if name in _FULL:
        return _FULL[name]
    if name in _SHORT:
        return name
    if name.lower() in _ENGLISH:
        return _ENGLISH[name.lower()]
    m = re.fullmatch(r"(.{2,9}?)(省|市|自治区|特别行政区|县|区)", name)
    return m.group(1) if m else name


def region_from_title(title: str) -> str | None:
    m = _SUFFIX.search(title or "")
    if m:
        return short_name(m.group(2) + m.group(3))
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
    for short, full, _ in _TABLE:
        if full in stem or short in stem:
            return short
    return None


def names_of(short: str | None) -> list[str]:
    """Every name of a region: short, full and English (北京, 北京市, beijing, peking)."""
    if not short:
        return []
    for s, full, english in _TABLE:
        if s == short:
            return [s, full, *english]
    return [short]


# "高于全国平均水平": a question saying 全国 compares with the country, it does not ask
# for the State Council's report; these name that report.
_NATIONAL = ("国务院", "中央政府", "全国政府工作报告", "国家政府工作报告")


def regions_in(text: str, known: set[str]) -> list[str]:
    """Regions among `known` (short names) that `text` names, in Chinese or English."""
    found = []
    lower = text.lower()
    for short in known:
        full = next((f for s, f, _ in _TABLE if s == short), short)
        chinese = _NATIONAL if short == "全国" else (short, full)
        names = [n for s, _, ns in _TABLE if s == short for n in ns]
        if any(n in text for n in chinese) or any(re.search(rf"\b{re.escape(n)}\b", lower) for n in names):
            found.append(short)
    # 北京 inside 北京市 is one region; drop a name that only occurs inside a longer one found
    return sorted(found, key=len, reverse=True)
