"""Training pairs for kb's learned parts, from data that no evaluation uses.

    python scripts/make_training_data.py --out /tmp/kbtrain

Writes `train.jsonl` and `heldout.jsonl`, one pair a line: {"src", "q", "pos", "neg"}, where
`pos`/`neg` are chunks as kb indexes them (`Chunk.embed_text`: top-level section, then text).

Sources (and only these; seed_dev, CMRC dev/trial, DRCD, the 2026 reports and the bundled
Shenyang report are never read):
- cmrc: CMRC 2018 train questions -> the chunk of their paragraph that holds the answer;
  negative: kb's BM25 top chunk from another paragraph.
- zh-en: official English sentences of the national reports -> their Chinese sentence;
  negative: a neighbouring sentence of the same report. Years 2013 and 2019 are held out.
- gov-figure: a clause with a figure in a report of ../shared/corpora/gov-reports ("新增外贸企业216家")
  becomes a question ("去年新增外贸企业多少家"): 去年/过去一年 for a clause of the review of the year
  before, 今年/计划 for one of the plan, or no time word (always none in a report whose parts have
  no year); negative: kb's BM25 best chunk of the same
  report from the *other* part (the same topic in review and plan), else any other paragraph.
- en-short (for the ranker, not the adapter): a short English question or keyword query made from an official
  English sentence of a held-out zh-en year ("We will expand the coverage of scholarships..." -> "How will the
  government expand the coverage of scholarships?", "scholarships grants vocational college students"), since
  people type short questions, not the report's sentences; see english_question.
- gov-lead: a paragraph's lead-in or its section heading ("做大做强城市经济实力") -> a later chunk
  of that paragraph; negative: BM25 best chunk from another section of the report.
Reports are split by a hash of their id: 1 in 8 is held out (never trained on), as are the
zh-en years above.
"""
from __future__ import annotations

import hashlib
import json
import random
import re
from pathlib import Path

import click
import numpy as np

from kb.chunking import ChunkSettings, chunk_document, relative_year
from kb.documents import SECTION_SEP, read_documents
from kb.lexical import LexicalIndex, tokenize

SHARED = Path(__file__).resolve().parents[2] / "shared"
HELDOUT_YEARS = {2013, 2019}
FIGURE = re.compile(r"(\d+(?:\.\d+)?)\s*(%|‰|个百分点|万亿元|亿元|万元|亿斤|万亩|万人|万户|万套|万个|亿人次|万人次|"
                    r"公里|平方公里|平方米|个|家|所|座|项|条|人|户|套|台|辆|亩|吨|倍|件|场|次)")
CLAUSE = re.compile(r"[^，；。！？：]+")
REVIEW_WORDS = ["去年", "过去一年", "上一年", ""]
PLAN_WORDS = ["今年", "今年计划", "今年目标", ""]


def held_out(doc_id: str) -> bool:
    return int(hashlib.sha1(doc_id.encode()).hexdigest(), 16) % 8 == 0


def bm25_best(lex: LexicalIndex, query: str, allowed) -> int | None:
    """Index (into the chunks of `lex`) of kb's BM25 best chunk among those `allowed(i)` says yes to."""
    scores, _ = lex.scores(query)
    for i in np.argsort(-scores):
        if scores[i] <= 0:
            return None
        if allowed(int(i)):
            return int(i)
    return None


def figure_question(clause: str, part: str, year: int | None, rng: random.Random) -> str | None:
    clause = re.sub(r"^(全年|预计|力争|确保|累计|其中|同时|我们要|要)", "", clause.strip())
    if not 6 <= len(clause) <= 40 or not FIGURE.search(clause):
        return None
    q = FIGURE.sub(lambda m: "多少" if m.group(2) in ("%", "‰", "个百分点") else "多少" + m.group(2), clause, count=1)
    q = re.sub(r"(左右|以上|以内|以下)", "", q)
    if not part or re.search(r"今年|去年|\d{4}年", q):
        when = ""
    else:
        words = REVIEW_WORDS if part == "去年" else PLAN_WORDS
        when = rng.choice(words + ([f"{year - 1 if part == '去年' else year}年"] if year else []))
    return f"{when}{q}{rng.choice(['', '？'])}"


EN_STOP = set("""a an the of and or to in on at for with by from as is are was were be been being this that these
those it its their our we us will must should shall can could would may also more further all both such than
which who whose what when where how while into over under between through about other new every each some any
not no so very well made make work working efforts continue continued""".split())
EN_LEAD = re.compile(r"^(?:--\s*|\(?\d+\)?[.)]\s*|(?:First|Second|Third|Fourth|Fifth|Moreover|Meanwhile|In addition|"
                     r"Furthermore|At the same time|Last year|This year|In \d{4}|Over the past (?:year|five years)),\s*)+")
EN_FIGURE = re.compile(r"^(?:the\s+)?(?P<subj>[a-z][a-z' -]{3,60}?)\s+(?P<verb>grew|increased|rose|fell|dropped|declined|"
                       r"decreased|reached|totaled|exceeded|is projected|is expected|is targeted)\b", re.I)
EN_BASE = {"grew": "grow", "increased": "increase", "rose": "rise", "fell": "fall", "dropped": "drop",
           "declined": "decline", "decreased": "decrease", "reached": "reach", "totaled": "total",
           "exceeded": "exceed"}


def _trim(words: list[str]) -> str:
    """Words joined, without the function words and commas a cut left at the end."""
    while words and (words[-1].lower().strip(",") in EN_STOP or words[-1].endswith(",")):
        words = words[:-1]
    return " ".join(words)


def english_question(en: str, year: int, rng: random.Random) -> tuple[str, str] | None:
    """A short question (or keyword query) a reader might type, made from one official English sentence
    of the report of `year`, and the part of the report it is about ("plan", "review" or "")."""
    clause = re.split(r"[;:]|, (?:and|while|which|but) |\. ", EN_LEAD.sub("", en.strip()))[0].strip(" .,")
    words = clause.split()
    if len(words) < 4:
        return None
    will = re.match(r"(?:We|The government) (?:will|must|should|need to|are going to) (.+)", clause, re.I)
    figure = EN_FIGURE.match(clause)
    if figure and len(figure.group("subj").split()) <= 8:
        subj, verb = figure.group("subj"), figure.group("verb").lower()
        if verb.startswith("is "):
            return rng.choice([f"What is the target for {subj}?", f"{subj} target {year}",
                               f"How much is {subj} expected to be this year?"]), "plan"
        return rng.choice([f"How much did {subj} {EN_BASE[verb]} last year?", f"{subj} {year - 1}",
                           f"What was the {subj} growth?"]), "review"
    if will:
        action = _trim(will.group(1).split()[:rng.randint(4, 9)])
        return rng.choice([f"How will the government {action}?", f"What are the plans to {action}?",
                           f"What will be done to {action} this year?", f"{action} plan"]), "plan"
    content = [w.strip("\"'(),") for w in words if w.lower().strip("\"'(),") not in EN_STOP]
    content = [w for w in content if w]
    if len(content) < 3:
        return None
    start = rng.randint(0, max(0, len(content) - 4))
    keys = _trim(content[start:start + rng.randint(3, 6)])
    past = re.match(r"We [a-z]+ed\b", clause)
    if past:
        return rng.choice([keys, f"{keys} last year", f"What was achieved in {keys}?"]), "review"
    return rng.choice([keys, f"What does the report say about {keys}?", keys.lower()]), ""


def gov_pairs(rng: random.Random) -> list[dict]:
    docs = read_documents(SHARED / "corpora" / "gov-reports")
    out = []
    for doc in docs:
        chunks = chunk_document(doc, ChunkSettings())
        if len(chunks) < 5:
            continue
        split = "heldout" if held_out(doc.doc_id) else "train"
        lex = LexicalIndex.from_tokens([tokenize(c.text) for c in chunks])
        paras = {p.number: p for p in doc.paragraphs}
        part = [relative_year(doc, paras[c.paragraph].section_path) for c in chunks]
        figures = []
        for i, c in enumerate(chunks):
            for m in CLAUSE.finditer(c.text):
                q = figure_question(m.group(), part[i], doc.year, rng)
                if q:
                    figures.append((i, q))
        rng.shuffle(figures)
        for i, q in figures[:200]:
            other = bm25_best(lex, q, lambda j: part[j] and part[j] != part[i]) if part[i] else None
            if other is None:
                other = bm25_best(lex, q, lambda j: chunks[j].paragraph != chunks[i].paragraph)
            if other is not None:
                out.append({"src": "gov-figure", "split": split, "q": q, "pos": chunks[i].embed_text,
                            "neg": chunks[other].embed_text})
        leads = []
        for i, c in enumerate(chunks):
            section = paras[c.paragraph].section
            # a sub-heading and a later chunk below it: the heading's words are not in the chunk
            if len(section) > 1 and c.start > 0:
                leads.append((i, re.sub(r"^[（(]?[一二三四五六七八九十\d]+[）)、.．]", "", section[-1]).rstrip("。：")))
        rng.shuffle(leads)
        for i, q in leads[:40]:
            if len(q) < 4:
                continue
            sec = paras[chunks[i].paragraph].section_path
            other = bm25_best(lex, q, lambda j: paras[chunks[j].paragraph].section_path != sec)
            if other is not None:
                out.append({"src": "gov-lead", "split": split, "q": q, "pos": chunks[i].embed_text,
                            "neg": chunks[other].embed_text})
    return out


def cmrc_pairs() -> list[dict]:
    folder = SHARED / "corpora" / "cmrc2018" / "train"
    docs = read_documents(folder / "corpus.jsonl")
    chunks = [c for d in docs for c in chunk_document(d, ChunkSettings())]
    by_doc: dict[str, list[int]] = {}
    for i, c in enumerate(chunks):
        by_doc.setdefault(c.doc_id, []).append(i)
    lex = LexicalIndex.from_tokens([tokenize(c.text) for c in chunks])
    out = []
    for line in (folder / "queries.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        gold = set(row["gold_ids"])
        doc_id = row["gold_ids"][0]
        pos = next((i for i in by_doc.get(doc_id, []) if row["answer"] and row["answer"] in chunks[i].text), None)
        if pos is None:
            continue
        scores, _ = lex.scores(row["q"])
        neg = next((int(i) for i in np.argsort(-scores)[:20] if chunks[int(i)].doc_id not in gold), None)
        if neg is None:
            continue
        out.append({"src": "cmrc", "split": "train", "q": row["q"], "pos": chunks[pos].embed_text,
                    "neg": chunks[neg].embed_text})
    return out


def zh_en_pairs() -> list[dict]:
    rows = [json.loads(x) for x in (SHARED / "corpora" / "gov-reports-zh-en" / "pairs.jsonl")
            .read_text(encoding="utf-8").splitlines()]
    by_year: dict[int, list[dict]] = {}
    for r in rows:
        by_year.setdefault(r["year"], []).append(r)
    out = []
    for year, rs in by_year.items():
        rs.sort(key=lambda r: r["i"])
        for j, r in enumerate(rs):
            if len(r["zh"]) < 12 or len(r["en"]) < 30:
                continue
            near = [x for x in rs[max(0, j - 3): j + 4] if x is not r and len(x["zh"]) >= 12]
            if not near:
                continue
            out.append({"src": "zh-en", "split": "heldout" if year in HELDOUT_YEARS else "train",
                        "q": r["en"], "pos": r["zh"], "neg": near[j % len(near)]["zh"]})
    return out


@click.command()
@click.option("--out", type=click.Path(path_type=Path), required=True)
@click.option("--seed", default=13, show_default=True)
def main(out: Path, seed: int):
    rng = random.Random(seed)
    out.mkdir(parents=True, exist_ok=True)
    pairs = gov_pairs(rng) + zh_en_pairs() + cmrc_pairs()
    counts: dict[str, int] = {}
    with open(out / "train.jsonl", "w", encoding="utf-8") as tr, open(out / "heldout.jsonl", "w", encoding="utf-8") as ho:
        for p in pairs:
            split = p.pop("split")
            (tr if split == "train" else ho).write(json.dumps(p, ensure_ascii=False) + "\n")
            counts[f"{p['src']}/{split}"] = counts.get(f"{p['src']}/{split}", 0) + 1
    print(json.dumps(counts, indent=1))


if __name__ == "__main__":
    main()
