"""Several reports in one index: labels, filters, facets, and questions that name a region or year."""
import json
import shutil

import pytest
from click.testing import CliRunner

from kb import store
from kb.build import build
from kb.cli import cli
from kb.search import make_filters, search

BEIJING = """2026年北京市政府工作报告

各位代表：

一、2025年工作回顾

全市地区生产总值增长5.4%，一般公共预算收入增长4.5%。

二、2026年重点工作

今年经济社会发展的主要预期目标是：地区生产总值增长5%左右，城镇调查失业率5%以内。
"""
HAINAN = """2026年海南省政府工作报告

各位代表：

一、2025年工作回顾

全省地区生产总值增长4.2%，自由贸易港建设扎实推进。

二、2026年重点工作

今年全省经济社会发展的主要预期目标是：地区生产总值增长6%左右，全面封关运作平稳。
"""


@pytest.fixture(scope="module")
def library(tmp_path_factory, report_dir, built_index, embedder):
    docs = tmp_path_factory.mktemp("library")
    shutil.copytree(report_dir, docs, dirs_exist_ok=True)
    (docs / "2026-beijing.txt").write_text(BEIJING, encoding="utf-8")
    (docs / "2026-hainan.txt").write_text(HAINAN, encoding="utf-8")
    index = tmp_path_factory.mktemp("library-index")
    shutil.copytree(built_index, index, dirs_exist_ok=True)
    build(docs, index, embedder=embedder)
    return docs, index


def test_documents_carry_year_and_region(library):
    index = store.load(library[1])
    meta = {d.doc_id: (d.year, d.region) for d in index.documents.values()}
    assert meta == {"shenyang-2024": (2024, "沈阳"), "2026-beijing": (2026, "北京"), "2026-hainan": (2026, "海南")}


def test_filters_by_document_and_year(library, embedder):
    index = store.load(library[1])
    q = "地区生产总值增长目标"
    only_bj = search(index, embedder, q, 5, filters=make_filters(["2026-beijing"]))
    assert only_bj and {r.doc_id for r in only_bj} == {"2026-beijing"}
    y2024 = search(index, embedder, q, 5, filters=make_filters(year="2024"))
    assert {r.doc_id for r in y2024} == {"shenyang-2024"} and all(r.year == 2024 for r in y2024)
    assert search(index, embedder, q, 5, filters=make_filters(year=1999)) == []


def test_cli_filters_and_labels(library):
    docs, index = library
    res = CliRunner().invoke(cli, ["search", "--json", "地区生产总值增长目标", "--year", "2026", "--docs", str(docs),
                                   "--index", str(index)])
    results = json.loads(res.output)["results"]
    assert {r["year"] for r in results} == {2026} and {r["region"] for r in results} <= {"北京", "海南"}
    res = CliRunner().invoke(cli, ["search", "目标", "--year", "abc", "--docs", str(docs), "--index", str(index)])
    assert res.exit_code != 0 and "year must be" in res.output
    res = CliRunner().invoke(cli, ["search", "目标", "--year", "1999", "--docs", str(docs), "--index", str(index)])
    assert res.exit_code == 0 and "no report in the index is for 1999" in res.output and "2026" in res.output
    res = CliRunner().invoke(cli, ["search", "目标", "--region", "甘肃", "--docs", str(docs), "--index", str(index)])
    assert "no report in the index is for 甘肃" in res.output and "北京" in res.output


def test_eval_searches_each_question_within_its_own_report(library, tmp_path):
    docs, index = library
    qs = tmp_path / "q.jsonl"
    rows = [{"q": "今年经济增长预期目标", "gold": ["增长5%左右"], "doc": "2026-beijing"},
            {"q": "今年经济增长预期目标", "gold": ["增长6%左右"], "doc": ["2026-hainan"]},
            {"q": "今年经济增长预期目标", "gold": ["增长6%以上"], "doc": "shenyang-2024"}]
    qs.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    args = ["--json", "--docs", str(docs), "--index", str(index)]
    data = json.loads(CliRunner().invoke(cli, ["eval", str(qs), *args]).output)
    assert data["recall@1"] == 1.0  # the same question, three right answers: one per report
    data = json.loads(CliRunner().invoke(cli, ["eval", str(qs), *args, "--doc", "2026-beijing"]).output)
    assert data["recall@1"] == round(1 / 3, 4)  # --doc overrides the questions' own
    qs.write_text('{"q": "目标", "gold": ["目标"], "doc": "2026-atlantis"}\n', encoding="utf-8")
    res = CliRunner().invoke(cli, ["eval", str(qs), *args])
    assert res.exit_code == 1 and "no document 2026-atlantis" in res.output


def test_api_filters_and_facets(library):
    from webapp import create_app

    docs, index = library
    client = create_app({"INDEX": str(index), "DOCS": str(docs)}).test_client()
    body = client.get("/api/search", query_string={"q": "地区生产总值增长目标"}).get_json()
    years = {f["year"]: f["count"] for f in body["facets"]["years"]}
    assert set(years) == {2024, 2026}
    assert {d["doc_id"] for d in body["facets"]["documents"]} == {"shenyang-2024", "2026-beijing", "2026-hainan"}
    narrowed = client.get("/api/search", query_string={"q": "地区生产总值增长目标", "doc": "2026-hainan"}).get_json()
    assert {r["doc_id"] for r in narrowed["results"]} == {"2026-hainan"}
    assert client.get("/api/search", query_string={"q": "x", "doc": "nope"}).status_code == 404
    page = client.get("/", query_string={"q": "地区生产总值增长目标"}).get_data(as_text=True)
    assert "按文档和年份筛选" in page and "year=2026" in page


def test_pages_keep_the_chosen_report_for_the_next_question(library):
    """Narrowed to one report, the search box carries that report into the next search;
    the report view's box searches that report unless its box is unticked."""
    from bs4 import BeautifulSoup

    from webapp import create_app

    docs, index = library
    client = create_app({"INDEX": str(index), "DOCS": str(docs)}).test_client()
    html = client.get("/", query_string={"q": "地区生产总值增长目标", "doc": "2026-hainan"}).get_data(as_text=True)
    form = BeautifulSoup(html, "html.parser").find("form", role="search")
    box = form.find("input", attrs={"name": "doc"})
    assert box["type"] == "checkbox" and box.has_attr("checked") and box["value"] == "2026-hainan"
    assert "《2026年海南省政府工作报告》" in form.get_text()
    report = BeautifulSoup(client.get("/docs/2026-beijing").get_data(as_text=True), "html.parser")
    box = report.find("form", role="search").find("input", attrs={"name": "doc"})
    assert box["value"] == "2026-beijing" and box.has_attr("checked")
    # what that form submits: only Beijing's paragraphs
    html = client.get("/", query_string={"q": "地区生产总值增长目标", "doc": box["value"]}).get_data(as_text=True)
    crumbs = {c.get_text() for c in BeautifulSoup(html, "html.parser").select(".crumbs .doc")}
    assert crumbs == {"2026年北京市政府工作报告"}


@pytest.mark.parametrize("query, doc_id", [
    ("北京今年经济增长预期目标", "2026-beijing"), ("北京市地区生产总值增长目标", "2026-beijing"),
    ("海南今年经济增长预期目标是多少", "2026-hainan"), ("What is Hainan's 2026 GDP growth target?", "2026-hainan"),
    ("What is Beijing's GDP growth target?", "2026-beijing"), ("沈阳今年地区生产总值增长目标", "shenyang-2024"),
])
def test_question_naming_a_region_gets_that_report_first(library, embedder, query, doc_id):
    top = search(store.load(library[1]), embedder, query, 3)[0]
    assert top.doc_id == doc_id
    assert "目标" in top.text and "地区生产总值增长" in top.text


SEED_LIKE = ["今年固定资产投资预期增长多少", "去年兑现了多少惠企资金", "今年地区生产总值增长目标是多少",
             "沈阳新增了几位两院院士", "停车难怎么解决", "今年经济社会发展的主要预期目标"]


@pytest.mark.parametrize("query", SEED_LIKE)
def test_a_report_searched_in_a_library_ranks_as_it_does_alone(library, loaded_index, embedder, query):
    """Other reports in the index change neither the words' weights nor the place name's
    meaning inside a search of the Shenyang report (--doc, a question's "doc", the facet).
    (BM25's average chunk length is the library's, which can reorder near-ties further down.)"""
    within = search(store.load(library[1]), embedder, query, 5, filters=make_filters("shenyang-2024"))
    alone = search(loaded_index, embedder, query, 5)
    assert [r.chunk_id for r in within] == [r.chunk_id for r in alone]


def test_a_region_named_gives_its_paragraphs_first_however_many_are_asked(library, embedder):
    """Shenyang's paragraphs first, in the same order for 3 asked as for 100; once they run out (the
    search skips the whole library's ranking while they fill what was asked), the other reports follow."""
    index = store.load(library[1])
    few = search(index, embedder, "沈阳今年新建多少个口袋公园", 3)
    many = search(index, embedder, "沈阳今年新建多少个口袋公园", 100)
    assert [r.chunk_id for r in many[:3]] == [r.chunk_id for r in few]
    docs = [r.doc_id for r in many]
    own = docs.count("shenyang-2024")
    assert 3 < own < len(docs) and set(docs[:own]) == {"shenyang-2024"} and set(docs[own:]) == {"2026-beijing", "2026-hainan"}


BEIJING_2025 = """2025年北京市政府工作报告

各位代表：

一、2024年工作回顾

全市地区生产总值增长5.2%。

二、2025年重点工作

今年经济社会发展的主要预期目标是：地区生产总值增长5%左右，居民收入增长与经济增长同步。
"""


def test_a_region_named_without_a_year_means_its_latest_report(library, tmp_path, embedder):
    docs, index = tmp_path / "docs", tmp_path / "index"
    shutil.copytree(library[0], docs)
    shutil.copytree(library[1], index)
    (docs / "2025-beijing.txt").write_text(BEIJING_2025, encoding="utf-8")
    build(docs, index, embedder=embedder)
    loaded = store.load(index)
    order = [r.doc_id for r in search(loaded, embedder, "北京今年经济增长预期目标", 10)]
    newest, older = order.count("2026-beijing"), order.count("2025-beijing")
    assert newest and older  # the latest report first, then the region's older one, then the rest
    assert order[:newest + older] == ["2026-beijing"] * newest + ["2025-beijing"] * older
    top = search(loaded, embedder, "北京2025年经济增长预期目标", 3)[0]
    assert top.doc_id == "2025-beijing" and "增长5%左右" in top.text


def test_national_report_is_named_by_the_state_council_not_by_a_comparison():
    from kb.regions import regions_in

    known = {"沈阳", "全国", "北京"}
    assert regions_in("沈阳经济增速和全国全省比怎么样", known) == ["沈阳"]
    assert regions_in("国务院政府工作报告提出的经济增长目标", known) == ["全国"]
    assert regions_in("What is China's GDP growth target?", known) == ["全国"]
    # 全国 as the question's subject names the country's report; after a comparison word it does not
    assert regions_in("2025年全国城镇新增就业目标", known) == ["全国"]
    assert regions_in("今年全国GDP增长目标是多少", known) == ["全国"]
    assert regions_in("哪些经济指标高于全国平均水平", known) == []


def test_question_across_reports_gets_one_answer_per_report(library, embedder):
    results = search(store.load(library[1]), embedder, "各省2026年经济增长目标", 5)
    assert len({r.doc_id for r in results}) == len(results)
    assert {"2026-beijing", "2026-hainan"} <= {r.doc_id for r in results[:3]}


def test_a_question_every_report_answers_is_answered_per_report(library, embedder):
    """No group word, no report named: the spread of the evidence decides (kb/weights/per-report.json)."""
    index = store.load(library[1])
    every = search(index, embedder, "今年地区生产总值增长目标是多少", 10)
    assert every.per_document
    assert sorted(r.doc_id for r in every) == sorted(index.documents)
    only_one = search(index, embedder, "鸡架得了什么奖", 10)
    assert not only_one.per_document and len(only_one) == 10
    assert only_one[0].doc_id == "shenyang-2024" and "鸡架" in only_one[0].text
    asked = search(index, embedder, "今年地区生产总值增长目标是多少", 10, per_document=False)
    assert not asked.per_document and len(asked) == 10


def test_the_page_and_api_say_which_view_they_give(library):
    from webapp import create_app

    docs, index = library
    client = create_app({"INDEX": str(index), "DOCS": str(docs), "TESTING": True}).test_client()
    api = client.get("/api/search?q=今年地区生产总值增长目标是多少").get_json()
    assert api["per_document"] and len({r["doc_id"] for r in api["results"]}) == len(api["results"]) == 3
    flat = client.get("/api/search?q=今年地区生产总值增长目标是多少&per_doc=0").get_json()
    assert not flat["per_document"] and len(flat["results"]) == 10
    page = client.get("/?q=今年地区生产总值增长目标是多少").get_data(as_text=True)
    assert "<strong>每份报告一段</strong>" in page and "per_doc=0" in page and "许多报告都回答这个问题" in page
    page = client.get("/?q=今年地区生产总值增长目标是多少&per_doc=0").get_data(as_text=True)
    assert "<strong>最相关段落</strong>" in page and "许多报告都回答这个问题" not in page
    out = CliRunner().invoke(cli, ["search", "今年地区生产总值增长目标是多少", "--docs", str(docs),
                                   "--index", str(index)])
    assert out.exit_code == 0 and "one paragraph per report" in out.output
    out = CliRunner().invoke(cli, ["search", "今年地区生产总值增长目标是多少", "--per-paragraph", "--json",
                                   "--docs", str(docs), "--index", str(index)])
    assert json.loads(out.output)["per_document"] is False


def test_page_furniture_is_not_a_paragraph(tmp_path):
    from kb.documents import read_documents

    web = ("下载\n打印\n全屏\n【字号：\n加大\n】\n2026年北京市政府工作报告\n来源：北京日报\n时间：2026-02-02\n"
           "殷勇同志作政府工作报告。本报记者 戴冰摄\n各位代表：\n今年增长5%左右。\n")
    (tmp_path / "2026-beijing.txt").write_text(web, encoding="utf-8")
    doc = read_documents(tmp_path)[0]
    assert doc.title == "2026年北京市政府工作报告" and doc.region == "北京"
    assert [p.text for p in doc.paragraphs] == ["各位代表：", "今年增长5%左右。"]


def test_city_and_district_reports_are_named_from_the_division_table():
    from kb.regions import names_of, region_from_title, regions_in, short_name

    assert region_from_title("2025年苏州市人民政府工作报告") == "苏州"
    assert region_from_title("苏州市2025年政府工作报告") == "苏州"
    assert region_from_title("沈阳市和平区2025年政府工作报告") == "和平区"  # a district keeps its full name
    assert region_from_title("2026年广西壮族自治区政府工作报告") == "广西"
    assert region_from_title("2024年某市政府工作报告") is None  # no such place: no region made up
    assert short_name("苏州市") == "苏州" and "苏州市" in names_of("苏州")
    assert regions_in("苏州今年经济增长目标", {"苏州", "北京", "和平区"}) == ["苏州"]
    assert regions_in("和平区老旧小区改造", {"苏州", "和平区"}) == ["和平区"]
