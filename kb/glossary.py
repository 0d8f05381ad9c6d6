"""English words of questions about Chinese reports, with the Chinese terms reports use.

The dense model understands English questions about Chinese text, but BM25 only
matches words: "What is Hainan's GDP growth target?" shares no term with
"地区生产总值增长6%左右". Adding the report vocabulary for the English words of a
question gives the lexical side something to match. Only queries are expanded.
"""
from __future__ import annotations

import re

GLOSSARY = {
    "gdp": ["地区生产总值", "生产总值"], "growth": ["增长"], "grow": ["增长"], "target": ["目标", "预期目标"],
    "targets": ["目标", "预期目标"], "goal": ["目标"], "goals": ["目标"], "economic": ["经济"],
    "economy": ["经济"], "investment": ["投资"], "fixed": ["固定资产"], "consumption": ["消费"],
    "retail": ["社会消费品零售总额"], "employment": ["就业"], "jobs": ["就业"], "unemployment": ["失业率"],
    "income": ["收入"], "revenue": ["收入", "一般公共预算收入"], "budget": ["预算"], "fiscal": ["财政"],
    "grain": ["粮食"], "output": ["产量", "产值"], "population": ["人口"], "pollution": ["污染"],
    "carbon": ["碳"], "emissions": ["排放"], "energy": ["能源", "能耗"], "housing": ["住房"],
    "education": ["教育"], "health": ["健康", "医疗"], "pension": ["养老"], "elderly": ["养老", "老年人"],
    "tourism": ["旅游"], "tourists": ["游客"], "exports": ["出口"], "imports": ["进口"], "trade": ["贸易", "外贸"],
    "foreign": ["外资", "对外"], "innovation": ["创新"], "research": ["研发"], "manufacturing": ["制造业"],
    "industry": ["产业", "工业"], "industrial": ["工业"], "agriculture": ["农业"], "rural": ["乡村", "农村"],
    "urban": ["城镇", "城市"], "poverty": ["贫困"], "infrastructure": ["基础设施"], "transport": ["交通"],
    "railway": ["铁路"], "airport": ["机场"], "parking": ["停车"], "metro": ["地铁"], "subway": ["地铁"],
    "forest": ["森林"], "water": ["水"], "air": ["空气", "大气"], "quality": ["质量"], "prices": ["价格"],
    "price": ["价格"], "cpi": ["居民消费价格"], "inflation": ["居民消费价格"], "academicians": ["院士"],
    "enterprises": ["企业"], "companies": ["企业"], "business": ["营商环境", "企业"], "reform": ["改革"],
    "science": ["科技"], "technology": ["科技", "技术"], "digital": ["数字"], "ai": ["人工智能"],
    "culture": ["文化"], "sports": ["体育"], "safety": ["安全"], "security": ["安全"], "medical": ["医疗"],
    "hospital": ["医院"], "schools": ["学校"], "students": ["学生"], "farmland": ["农田"], "food": ["食品", "粮食"],
    "last": ["去年"], "this": ["今年"], "plan": ["计划", "安排"], "achievements": ["成就", "成绩"],
}


def expand(query: str) -> list[str]:
    """Chinese report terms for the English words of `query` (empty for a Chinese query)."""
    words = re.findall(r"[a-z][a-z0-9.]*", query.lower())
    out: list[str] = []
    for w in words:
        out += GLOSSARY.get(w, GLOSSARY.get(w.rstrip("s"), []))
    return out
