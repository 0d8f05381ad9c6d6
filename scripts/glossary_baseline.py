"""The hand-typed English glossary kb used before its lexicon was learned: kept only as a baseline.

scripts/quality.py puts it in place of kb.lexicon.expand for the "old hybrid" and "glossary"
columns, so the table shows what the learned lexicon (kb/lexicon.py) changed. It was grown on
scripts/questions/shenyang-english.jsonl and the English questions of gov-2026; it helped only the
words someone typed into it. kb no longer uses it.
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
    # General vocabulary of work reports (people, places, money, building, counting)
    "passengers": ["旅客"], "passenger": ["旅客"], "throughput": ["吞吐量"], "port": ["港口"], "robots": ["机器人"],
    "robot": ["机器人"], "humanoid": ["人形机器人"], "hydrogen": ["氢能", "加氢站"], "vehicles": ["汽车"], "vehicle": ["汽车"],
    "cars": ["汽车"], "electric": ["新能源"], "batteries": ["电池"], "boilers": ["锅炉"], "boiler": ["锅炉"],
    "coal": ["燃煤", "煤炭"], "heating": ["供暖"], "gas": ["燃气"], "trees": ["造林", "植树"], "afforestation": ["造林"],
    "planted": ["造林"], "greening": ["绿化"], "parks": ["公园"], "park": ["公园"], "rivers": ["河"],
    "environment": ["环境", "生态"], "ecological": ["生态"], "supervision": ["监督"], "oversight": ["监督"], "young": ["青年"],
    "youth": ["青年"], "talent": ["人才"], "talents": ["人才"], "graduates": ["毕业生"], "acres": ["亩"], "mu": ["亩"],
    "meal": ["助餐"], "meals": ["助餐"], "canteens": ["食堂", "助餐"], "award": ["奖"], "won": ["荣获", "获得"], "prize": ["奖"],
    "brand": ["品牌"], "brands": ["品牌"], "stores": ["门店", "首店"], "shops": ["门店"], "kindergartens": ["幼儿园"],
    "universities": ["高校", "大学"], "teachers": ["教师"], "expanded": ["改扩建"], "renovated": ["改造"],
    "renovation": ["改造"], "subsidies": ["补贴"], "funds": ["资金"], "money": ["资金"], "paid": ["兑现", "支付"],
    "spending": ["投入", "支出"], "expenditure": ["支出"], "debt": ["债务"], "tax": ["税"], "taxes": ["税收"],
    "state-owned": ["国企", "国有企业"], "soes": ["国企"], "private": ["民营"], "smes": ["中小企业"], "startups": ["创业"],
    "r&d": ["研发"], "patents": ["专利"], "scientists": ["科学家"], "districts": ["区"], "counties": ["县"],
    "villages": ["村"], "towns": ["镇"], "farmers": ["农民"], "high-standard": ["高标准农田"], "crops": ["粮食", "作物"],
    "tourist": ["游客", "旅游"], "visitors": ["游客"], "scenic": ["景区"], "heritage": ["文化遗产"], "museum": ["博物馆"],
    "volunteers": ["志愿"], "martyrs": ["烈士"], "hospitals": ["医院"], "doctors": ["医生"], "insurance": ["保险", "医保"],
    "community": ["社区"], "communities": ["社区"], "neighborhoods": ["小区"], "residential": ["住宅", "小区"],
    "homes": ["住房", "保交楼"], "houses": ["住房"], "apartments": ["住房"], "roads": ["道路"], "bridges": ["桥"],
    "lines": ["线"], "line": ["线"], "stations": ["站"], "bus": ["公交"], "traffic": ["交通"], "internet": ["互联网"],
    "data": ["数据"], "5g": ["5G"], "computing": ["算力"], "chips": ["芯片"], "import": ["进口"], "export": ["出口"],
    "opening": ["开放"], "investors": ["投资"], "attract": ["吸引", "招引"], "attracting": ["吸引", "招引"],
    "cooperation": ["合作"], "integration": ["一体化"], "metropolitan": ["都市圈"], "revitalization": ["振兴"],
    "deputies": ["代表"], "proposals": ["建议", "提案"], "suggestions": ["建议"], "congress": ["人大"],
    "corruption": ["腐败", "廉政"],
}


def expand(query: str) -> list[str]:
    """Chinese report terms for the English words of `query` (empty for a Chinese query)."""
    out: list[str] = []
    for word in re.findall(r"[a-z0-9][a-z0-9.&-]*", query.lower()):
        # "state-owned", "r&d" as a whole; else "coal-fired" as its parts
        for w in ([word] if _lookup(word) else re.split(r"[-&.]", word)):
            out += _lookup(w)
    return out


def _lookup(word: str) -> list[str]:
    return GLOSSARY.get(word) or GLOSSARY.get(word.rstrip("s")) or []
