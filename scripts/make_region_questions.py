"""Write a question set over a library of provincial reports: each question names one region.

    python scripts/make_region_questions.py ../shared/corpora/gov-reports-2026 > scripts/questions/gov-2026.jsonl

For every report it finds the paragraph stating this year's GDP growth target (the
"主要预期目标" paragraph), takes a gold substring from it that occurs in no other report,
and asks for it three ways: by short name, by full name with the year, and in English.
Printed lines are the seed format (`q`, `gold`, `type`); the regions come from the
documents' own metadata, never from a list of answers.
"""
import json
import re
import sys
from pathlib import Path

from kb.documents import read_documents
from kb.regions import _TABLE

TARGET = re.compile(r"(地区生产总值|生产总值|经济)(按)?增长[\d.]+(?:[%％]?[-—~～至][\d.]+)?[%％]")
GOAL = re.compile(r"(预期目标|主要目标)(是|为)?[：:]|^是[：:]")


def main(folder: str) -> None:
    docs = read_documents(Path(folder))
    texts = {d.doc_id: "\n".join(p.text for p in d.paragraphs) for d in docs}
    english = {short: names[0] for short, _, names in _TABLE}
    full = {short: f for short, f, _ in _TABLE}
    for doc in docs:
        if not doc.region or doc.region == "全国":
            continue
        para = None
        for p in doc.paragraphs:
            goal = GOAL.search(p.text)
            m = TARGET.search(p.text, goal.end()) if goal else None
            if m:
                para = p
                break
        if para is None:
            print(f"no target paragraph in {doc.doc_id}", file=sys.stderr)
            continue
        m = TARGET.search(para.text, GOAL.search(para.text).end())
        start, end = m.start(), m.end() + 6
        gold = para.text[start:end]
        while any(gold in t for other, t in texts.items() if other != doc.doc_id) and end < len(para.text):
            end += 4
            gold = para.text[start:end]
        year = doc.year
        en = english.get(doc.region, doc.region).title()
        for q, kind in ((f"{doc.region}今年经济增长预期目标是多少", "region-short"),
                        (f"{full.get(doc.region, doc.region)}{year}年地区生产总值增长目标", "region-full"),
                        (f"What is {en}'s GDP growth target for {year}?", "english")):
            print(json.dumps({"id": f"{doc.doc_id}-{kind}", "q": q, "gold": [gold], "type": kind,
                              "doc_id": doc.doc_id}, ensure_ascii=False))


if __name__ == "__main__":
    main(sys.argv[1])
