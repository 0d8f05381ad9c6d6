"""The year a passage speaks about, questions that name a year, and the timeline of one place's reports."""
import csv
import io
import json

from conftest import SERIES

from kb import store
from kb.compare import table, timeline_csv
from kb.search import search
from kb.documents import parse_text
from kb.timeframe import about_years, heading_years, label, paragraph_years, plan_period


def test_the_years_a_heading_speaks_about():
    assert heading_years("一、2016年工作回顾", 2017) == (2016, 2016)
    assert heading_years("二、2017年工作总体部署", 2017) == (2017, 2017)
    assert heading_years("一、过去一年工作回顾", 2005) == (2004, 2004)
    assert heading_years("一、关于过去五年的政府工作", 1998) == (1993, 1997)
    assert heading_years("二、关于1 9 9 8 年政府工作的建议", 1998) == (1998, 1998)
    assert heading_years("一、一九八九年的回顾", 1990) == (1989, 1989)
    assert heading_years("一、１９９０年计划的执行情况", 1991) == (1990, 1990)
    assert heading_years("二、“十五”期间的奋斗目标和指导方针", 2001) == (2001, 2005)
    assert heading_years("二、“十三五”时期发展成就和“十四五”时期主要目标任务", 2021) == (2016, 2025)
    assert heading_years("二、今后十五年的奋斗目标和指导方针", 1996) is None
    assert heading_years("一、改革开放和现代化建设取得伟大成就的五年", 1993) == (1988, 1992)
    assert heading_years("二、今后五年的主要任务", 2008) is None
    assert heading_years("（三）坚持以重大工程项目为支撑", 2024) is None
    assert plan_period(1) == (1953, 1957) and plan_period(14) == (2021, 2025)
    assert label((2017, 2017)) == "2017年" and label((2016, 2020)) == "2016–2020年"


def test_the_year_of_a_paragraph_in_its_report():
    doc = parse_text("1996年政府工作报告\n\n一、“八五”时期的回顾\n\n五年来，国民经济持续快速增长。\n\n"
                     "二、努力做好1996年的工作\n\n过去的一年，国内生产总值比上年增长10.2%。\n\n"
                     "今年经济增长速度的调控目标定为8%。\n\n三、关于外交工作\n\n我国坚持独立自主。\n", "1996-national")
    about = {p.text[:4]: about_years(doc, p.section_path, text=p.text) for p in doc.paragraphs if not p.heading}
    assert about == {"五年来，": (1991, 1995), "过去的一": (1995, 1995), "今年经济": (1996, 1996), "我国坚持": (1996, 1996)}
    article = parse_text("长城\n\n长城是古代中国的军事防御工程。\n", "wiki")
    assert about_years(article, "", text="长城是古代中国的军事防御工程。") is None


def _years_by_opening(text: str, doc_id: str, n: int) -> dict:
    """The years each paragraph of a report speaks about, by its first `n` characters."""
    doc = parse_text(text, doc_id)
    years = paragraph_years(doc)
    return {p.text[:n]: years[p.number] for p in doc.paragraphs if not p.heading}


def test_a_paragraph_that_opens_on_a_period_speaks_of_it_with_those_after_it():
    about = _years_by_opening("2023年政府工作报告\n\n一、过去一年和五年工作回顾\n\n过去一年，全年国内生产总值增长3%。\n\n"
                              "过去五年极不寻常、极不平凡。\n\n——经济发展再上新台阶。国内生产总值五年年均增长5.2%。\n\n"
                              "二、2023年经济社会发展总体要求\n\n今后五年是全面建设社会主义现代化国家开局起步的关键时期。\n\n"
                              "加强农业的基础地位。\n\n各位代表！2023年是全面贯彻党的二十大精神的开局之年。\n\n"
                              "今年发展主要预期目标是：国内生产总值增长5%左右。\n", "2023-national", 6)
    assert about == {"过去一年，全": (2022, 2022), "过去五年极不": (2018, 2022), "——经济发展": (2018, 2022),
                     "今后五年是全": (2023, 2027), "加强农业的基": (2023, 2027), "各位代表！2": (2023, 2023),
                     "今年发展主要": (2023, 2023)}


def test_a_part_headed_by_a_slogan_is_dated_by_its_first_words():
    about = _years_by_opening("2026年某省政府工作报告\n\n一、一年接着一年干，建设取得新成效\n\n"
                              "2025年是“十四五”收官之年。一年来，全省生产总值增长5.5%。\n\n粮食产量再创新高。\n\n"
                              "二、一张蓝图绘到底\n\n“十五五”时期是基本实现现代化的关键时期。\n\n"
                              "三、一鼓作气勇争先\n\n2026年是“十五五”开局之年。\n\n全省生产总值预期增长5%左右。\n\n"
                              "四、一以贯之转作风\n\n作风建设永远没有休止符。\n", "2026-someprovince", 4)
    assert about == {"2025": (2025, 2025), "粮食产量": (2025, 2025), "“十五五": (2026, 2030),
                     "2026": (2026, 2026), "全省生产": (2026, 2026), "作风建设": (2026, 2026)}
    spans = parse_text("1960年政府工作报告\n\n现在，我代表国务院作报告。\n\n一\n\n一九五六年到一九六七年全国农业发展纲要，是一个伟大的纲领。\n",
                       "1960-national")
    assert spans.paragraphs[1].heading
    assert set(paragraph_years(spans).values()) == {None}  # a span of years dates nothing


def test_a_result_says_which_year_its_part_speaks_about(built_index, embedder):
    index = store.load(built_index)
    review = search(index, embedder, "去年建了多少高标准农田", 3)[0]
    plan = search(index, embedder, "今年地区生产总值增长目标是多少", 3)[0]
    assert review.about_year == (2023, 2023) and plan.about_year == (2024, 2024)
    assert plan.to_dict()["about_year"] == (2024, 2024)


def test_a_named_year_is_the_year_spoken_about(series_library, embedder):
    index = store.load(series_library / "index")
    target = search(index, embedder, "2024年地区生产总值增长目标是多少", 5)[0]
    assert target.doc_id == "dalian-2024" and "6%以上" in target.text
    outcome = search(index, embedder, "2024年地区生产总值实际增长了多少", 5)[0]
    assert outcome.doc_id == "dalian-2025" and "5.6%" in outcome.text and outcome.about_year == (2024, 2024)


def test_this_year_over_several_years_is_the_newest_report(series_library, embedder):
    index = store.load(series_library / "index")
    named = search(index, embedder, "大连地区生产总值增长目标是多少", 5)  # a place over its own reports alone
    assert named[0].doc_id == "dalian-2025" and named.missing_places == ()
    target = search(index, embedder, "今年地区生产总值增长目标是多少", 5)[0]
    assert target.doc_id == "dalian-2025" and "5.5%以上" in target.text
    outcome = search(index, embedder, "去年地区生产总值增长了多少", 5)[0]
    assert outcome.doc_id == "dalian-2025" and "5.6%" in outcome.text


def test_a_question_across_the_years_gives_a_timeline(series_library, embedder):
    index = store.load(series_library / "index")
    rows, years = table(index, embedder, "历年地区生产总值增长目标")
    assert [r.year for r in rows] == [2023, 2024, 2025]
    assert [r.figure for r in rows] == [SERIES[y][0] for y in (2023, 2024, 2025)]
    by_year = {y.year: y for y in years}
    assert by_year[2024].target.doc_id == "dalian-2024" and by_year[2024].outcome.doc_id == "dalian-2025"
    assert by_year[2024].outcome.figure == "5.6%" and by_year[2022].target is None
    lines = list(csv.DictReader(io.StringIO(timeline_csv(years).lstrip("\ufeff"))))
    assert [line["year"] for line in lines] == ["2022", "2023", "2024", "2025"]
    assert lines[2]["target_figure"] == "6%以上" and lines[2]["outcome_figure"] == "5.6%"
    # the years asked, in either language: since one, before one
    for asked, wanted in (("2024年以来地区生产总值增长目标", [2024, 2025]), ("GDP growth targets since 2024", [2024, 2025]),
                          ("2024年以前地区生产总值增长目标", [2022, 2023]), ("GDP growth before 2024", [2022, 2023])):
        assert [y.year for y in table(index, embedder, asked)[1]] == wanted, asked
    rows, years = table(index, embedder, "建设东北亚国际航运中心")  # no figure answers: each report's sentence
    assert years is None and sorted(r.year for r in rows) == [2023, 2024, 2025]
    assert all("航运中心" in r.sentence for r in rows)


def test_the_timeline_on_the_command_line(series_library):
    from click.testing import CliRunner

    from kb.cli import cli

    where = ["--docs", str(series_library / "reports"), "--index", str(series_library / "index")]
    out = CliRunner().invoke(cli, ["compare", "历年地区生产总值增长目标", *where])
    assert out.exit_code == 0, out.output
    lines = out.output.splitlines()
    assert any(line.split()[:3] == ["2024", "6%以上", "5.6%"] for line in lines)  # target beside outcome
    assert any("实际" in line and "《2025年大连市政府工作报告》" in line for line in lines)
    data = json.loads(CliRunner().invoke(cli, ["compare", "历年地区生产总值增长目标", "--json", *where]).output)
    assert [y["year"] for y in data["timeline"]] == [2022, 2023, 2024, 2025]
    csv_text = CliRunner().invoke(cli, ["compare", "历年地区生产总值增长目标", "--csv", *where]).output
    assert csv_text.startswith("\ufeffyear,target_figure")
    two = ["--doc", "dalian-2024", "--doc", "dalian-2025"]  # two years of one place: was the target met?
    data = json.loads(CliRunner().invoke(cli, ["compare", "地区生产总值增长目标", "--json", *two, *where]).output)
    by_year = {y["year"]: y for y in data["timeline"]}
    assert by_year[2024]["target"]["figure"] == "6%以上" and by_year[2024]["outcome"]["figure"] == "5.6%"


def test_the_timeline_through_the_api_and_the_page(series_library):
    from webapp import create_app

    client = create_app({"INDEX": str(series_library / "index"), "DOCS": str(series_library / "reports"),
                         "TESTING": True}).test_client()
    data = client.get("/api/compare?q=历年地区生产总值增长目标").get_json()
    assert [r["figure"] for r in data["rows"]] == ["5.5%左右", "6%以上", "5.5%以上"]
    assert [y["year"] for y in data["timeline"]] == [2022, 2023, 2024, 2025]
    assert data["timeline"][0]["target"] is None and data["timeline"][0]["outcome"]["figure"] == "4.8%"
    cards = client.get("/?q=2024年地区生产总值").get_data(as_text=True)
    assert "讲的是2024年（计划）" in cards and "讲的是2024年（回顾）" in cards  # no intent: both, told apart
    page = client.get("/compare?q=历年地区生产总值增长目标").get_data(as_text=True)
    assert "<polyline" in page and "2024年目标 6%以上" in page and "2024年实际 5.6%" in page
    csv_text = client.get("/compare.csv?q=历年地区生产总值增长目标").get_data(as_text=True)
    assert csv_text.startswith("\ufeffyear,target_figure")
