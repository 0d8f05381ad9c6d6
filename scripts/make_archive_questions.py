"""Write scripts/questions/archive-national.jsonl: questions naming a year, over the national reports.

Each question names a year between 1989 and 2025 and asks either that year's target (answered by the
plan of that year's report) or its outcome (answered by the review in the next year's report). The
gold phrases below were read from the reports by hand; this script only turns each into the exact
text of the paragraph that holds it (the reports mix full- and half-width punctuation) and checks
that no other paragraph of the archive holds it, so a wrong report can never count as right.

    python scripts/make_archive_questions.py --docs ../shared/corpora/gov-reports

Never used to train or tune anything; kb eval reports on it.
"""
from __future__ import annotations

import json
import sys
import unicodedata
from pathlib import Path

import click

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kb.documents import read_documents  # noqa: E402

OUT = Path(__file__).resolve().parent / "questions" / "archive-national.jsonl"

# (question, report year, phrase as read in that report normalised to half-width punctuation, and any
# more phrases of other paragraphs of that report that answer as well: an explanation of the target)
TARGETS = [
    ("1990年国民生产总值计划增长多少", 1990, "国家计划要求今年的国民生产总值比上年增长百分之五"),
    ("1992年国民生产总值增长目标", 1992, "国民生产总值增长百分之六,全社会固定资产投资增长百分之八"),
    ("1993年经济增长计划是多少", 1993, "今年国民生产总值计划增长百分之八"),
    ("1994年国内生产总值计划增长多少", 1994, "今年计划国内生产总值增长百分之九"),
    ("1995年经济增长速度的宏观调控目标", 1995, "今年经济增长速度的宏观调控目标,定为百分之八至九"),
    ("1996年经济增长速度的调控目标是多少", 1996, "今年经济增长速度的调控目标定为8%"),
    ("1997年经济增长的调控目标", 1997, "经济增长速度的调控目标定为8%,物价上涨幅度比去年"),
    ("1999年经济增长预期是多少", 1999, "今年的经济增长预期为7%左右"),
    ("2003年经济增长预期目标", 2003, "今年经济增长预期目标为7%左右,这是必要的"),
    ("2004年经济增长预期目标是多少", 2004, "今年经济增长预期目标为7%左右,既考虑了"),
    ("2005年国内生产总值增长目标", 2005, "国内生产总值增长8%左右;城镇新增就业900万人,城镇登记失业率控制在4.6%"),
    ("2006年居民消费价格涨幅控制目标", 2006, "居民消费价格总水平涨幅控制在3%"),
    ("2008年居民消费价格涨幅控制目标是多少", 2008, "居民消费价格总水平涨幅控制在4.8%左右"),
    ("2009年GDP增长目标", 2009, "国内生产总值增长8%左右,经济结构进一步优化;城镇新增就业900万人以上"),
    ("2010年城镇新增就业目标", 2010, "国内生产总值增长8%左右;城镇新增就业900万人以上,城镇登记失业率控制在4.6%以内;居民消费价格涨幅3%左右"),
    ("2011年国内生产总值预期增长多少", 2011, "国内生产总值增长8%左右;经济结构进一步优化;居民消费价格总水平涨幅控制在4%左右"),
    ("2012年国内生产总值预期增长多少", 2012, "国内生产总值增长7.5%;城镇新增就业900万人以上"),
    ("2013年经济增长预期目标是多少", 2013, "国内生产总值增长7.5%左右,发展的协调性进一步增强",
     "今年经济增长预期目标定为7.5%左右,主要基于两方面考虑"),
    ("2014年居民消费价格涨幅目标", 2014, "国内生产总值增长7.5%左右,居民消费价格涨幅控制在3.5%左右",
     "关于价格水平。把居民消费价格涨幅控制在3.5%左右"),
    ("2015年国内生产总值增长目标", 2015, "国内生产总值增长7%左右,居民消费价格涨幅3%左右,城镇新增就业1000万人以上"),
    ("2016年经济增长预期目标", 2016, "国内生产总值增长6.5%-7%,居民消费价格涨幅3%左右",
     "经济增长预期目标6.5%-7%,考虑了与全面建成小康社会目标相衔接"),
    ("2017年国内生产总值增长目标", 2017, "国内生产总值增长6.5%左右,在实际工作中争取更好结果"),
    ("2018年城镇新增就业目标是多少", 2018, "城镇新增就业1100万人以上,城镇调查失业率5.5%以内"),
    ("2019年国内生产总值增长预期目标", 2019, "国内生产总值增长6%-6.5%"),
    ("2021年经济增长目标是多少", 2021, "国内生产总值增长6%以上"),
    ("2022年国内生产总值增长目标", 2022, "国内生产总值增长5.5%左右"),
    ("2023年国内生产总值预期增长多少", 2023, "国内生产总值增长5%左右;城镇新增就业1200万人左右"),
    ("2024年粮食产量目标", 2024, "粮食产量1.3万亿斤以上"),
    ("2025年居民消费价格涨幅目标", 2025, "居民消费价格涨幅2%左右"),
]
OUTCOMES = [
    ("1989年国民生产总值实际增长了多少", 1990, "1989年国民生产总值15677亿元,比上年增长百分之三点九"),
    ("1990年国民生产总值实际增长多少", 1991, "全年国民生产总值一万七千四百亿元,比上年增长5%"),
    ("1991年国民生产总值增长了多少", 1992, "1991年国民生产总值比上年增长百分之七"),
    ("1992年国民经济实际增长多少", 1993, "国民生产总值比上年增长百分之十二点八"),
    ("1993年国内生产总值比上年增长多少", 1994, "比上年增长百分之十三点四"),
    ("1994年国内生产总值实际增长", 1995, "按可比价格计算,比上年增长百分之十一点八"),
    ("1995年国内生产总值增长了多少", 1996, "国内生产总值比上年增长10.2%"),
    ("1996年国内生产总值实际增长多少", 1997, "比上年增长9.7%"),
    ("1998年国内生产总值实际增长了多少", 1999, "国内生产总值比上年增长7.8%,虽然略低于8%的预定目标"),
    ("2001年国内生产总值实际增长", 2002, "2001年国内生产总值达到95933亿元,比上年增长7.3%"),
    ("2003年GDP实际增长多少", 2004, "国内生产总值比上年增长9.1%,达到11.67万亿元"),
    ("2004年国内生产总值完成情况", 2005, "2004年,国内生产总值达到13.65万亿元,比上年增长9.5%"),
    ("2005年经济实际增长了多少", 2006, "全年国内生产总值达到18.23万亿元,比上年增长9.9%"),
    ("2006年居民消费价格实际上涨多少", 2007, "居民消费价格总水平上涨1.5%"),
    ("2008年国内生产总值实际增长了多少", 2009, "国内生产总值超过30万亿元,比上年增长9%"),
    ("2009年城镇新增就业实际完成多少", 2010, "城镇新增就业1102万人"),
    ("2011年国内生产总值实际增长多少", 2012, "国内生产总值47.2万亿元,比上年增长9.2%"),
    ("2013年国内生产总值增长了多少", 2014, "国内生产总值达到56.9万亿元,比上年增长7.7%"),
    ("2014年经济实际增长多少", 2015, "国内生产总值达到63.6万亿元,比上年增长7.4%"),
    ("2015年国内生产总值实际增长", 2016, "国内生产总值达到67.7万亿元,增长6.9%"),
    ("2016年GDP实际增长了多少", 2017, "国内生产总值达到74.4万亿元,增长6.7%"),
    ("2018年国内生产总值实际增长多少", 2019, "国内生产总值增长6.6%,总量突破90万亿元"),
    ("2019年国内生产总值增长了多少", 2020, "国内生产总值达到99.1万亿元,增长6.1%"),
    ("2020年国内生产总值实际增长多少", 2021, "全年国内生产总值增长2.3%"),
    ("2021年国内生产总值完成情况", 2022, "国内生产总值达到114万亿元,增长8.1%"),
    ("2022年国内生产总值实际增长了多少", 2023, "全年国内生产总值增长3%"),
    ("2023年经济实际增长多少", 2024, "国内生产总值超过126万亿元,增长5.2%"),
    ("2024年国内生产总值实际增长多少", 2025, "国内生产总值达到134.9万亿元、增长5%"),
]


def _norm(text: str) -> str:
    # NFKC maps each full-width character to one half-width one, so positions carry over
    return unicodedata.normalize("NFKC", text)


@click.command()
@click.option("--docs", type=click.Path(exists=True, file_okay=False, path_type=Path), required=True,
              help="The folder holding the YEAR-national.txt reports.")
def main(docs: Path):
    reports = {d.doc_id: d for d in read_documents(docs, files=sorted(docs.glob("*-national.txt")))}
    paragraphs = [(doc_id, para.text) for doc_id, d in reports.items() for para in d.paragraphs]
    rows = []
    for kind, items in (("target", TARGETS), ("outcome", OUTCOMES)):
        for q, year, *phrases in items:
            doc_id = f"{year}-national"
            golds = []
            for phrase in phrases:
                found = [t for d, t in paragraphs if d == doc_id and phrase in _norm(t)]
                if not found:
                    raise click.ClickException(f"{q}: {phrase!r} is not in {doc_id}")
                start = _norm(found[0]).index(phrase)
                gold = found[0][start:start + len(phrase)]
                elsewhere = sorted({d for d, t in paragraphs if gold in t and d != doc_id})
                if elsewhere:
                    raise click.ClickException(f"{q}: {gold!r} is also in {elsewhere}")
                golds.append(gold)
            rows.append({"id": f"{kind}-{q[:4]}-{len(rows)}", "q": q, "gold": golds, "type": kind,
                         "gold_doc": doc_id})
    OUT.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    click.echo(f"wrote {len(rows)} questions ({len(TARGETS)} targets, {len(OUTCOMES)} outcomes) to {OUT}")


if __name__ == "__main__":
    main()
