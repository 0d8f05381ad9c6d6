"""A character typed for another of its sound (扶务 for 服务), as a reader of the bundled report meets it."""
import json

import pytest
from click.testing import CliRunner

from kb import store
from kb.build import build
from kb.cli import cli
from kb.compare import compare
from kb.search import search
from webapp import create_app


def test_a_mistyped_character_is_read_as_the_reports_word(loaded_index, embedder):
    read = search(loaded_index, embedder, "居家养老扶务全覆盖", k=3)
    assert read.corrected == "居家养老服务全覆盖"
    assert read[0].paragraph == 62 and "居家养老服务全覆盖" in read[0].text
    assert any("居家养老服务" in read[0].text[s:e] for s, e in read[0].highlights)  # marked as searched
    as_typed = search(loaded_index, embedder, "居家养老扶务全覆盖", k=3, spell=False)
    assert as_typed.corrected is None
    top = next(r for r in as_typed if r.paragraph == 62)
    assert not any("服务" in top.text[s:e] for s, e in top.highlights)


def test_a_mistyped_character_cut_off_as_a_word_of_its_own_is_read_too(loaded_index, embedder):
    # 就夜 is cut as 就 and 夜, two characters no word covers
    read = search(loaded_index, embedder, "去年城镇新增就夜多少人", k=1)
    assert read.corrected == "去年城镇新增就业多少人" and "城镇新增就业14.4万人" in read[0].text


@pytest.mark.parametrize("question", [
    "今年地区生产总值增长目标",  # the reports' own words
    "去年新办了几所大学",  # real words the report does not use: a reader's, not a typo
    "烂尾楼交付了多少套",
    "How many new academicians did Shenyang gain?",
])
def test_other_questions_are_searched_as_asked(loaded_index, embedder, question):
    assert search(loaded_index, embedder, question, k=1).corrected is None


def test_a_reader_is_never_offered_a_word_of_a_report_kept_from_them(tmp_path, embedder):
    docs = tmp_path / "reports"
    docs.mkdir()
    (docs / "metro.txt").write_text("2024年工作\n\n加快地铁建设，地铁3号线开通运营。\n", encoding="utf-8")
    (docs / "parks.txt").write_text("2024年工作\n\n新建口袋公园30个，建设城市绿道。\n", encoding="utf-8")
    build(docs, tmp_path / "index", embedder=embedder)
    index = store.load(tmp_path / "index")
    assert search(index, embedder, "地贴建设", k=1).corrected == "地铁建设"
    assert search(index.readable({"parks"}), embedder, "地贴建设", k=1).corrected is None
    assert search(index.readable({"parks"}), embedder, "口袋公圆", k=1).corrected == "口袋公园"


def test_cli_says_what_it_searched_and_exact_searches_as_typed(report_dir, built_index):
    runner = CliRunner()
    args = ["search", "居家养老扶务全覆盖", "-k", "1", "--docs", str(report_dir), "--index", str(built_index)]
    text = runner.invoke(cli, args, catch_exceptions=False).output
    assert text.startswith("Searched for: 居家养老服务全覆盖 (--exact") and "第62段" in text
    assert json.loads(runner.invoke(cli, args + ["--json"]).output)["corrected"] == "居家养老服务全覆盖"
    exact = json.loads(runner.invoke(cli, args + ["--json", "--exact"]).output)
    assert exact["corrected"] is None and exact["query"] == "居家养老扶务全覆盖"


def test_api_and_page_say_what_was_searched(built_index, report_dir):
    client = create_app({"INDEX": str(built_index), "DOCS": str(report_dir), "TESTING": True}).test_client()
    body = client.get("/api/search", query_string={"q": "居家养老扶务全覆盖"}).get_json()
    assert body["corrected"] == "居家养老服务全覆盖" and body["results"][0]["paragraph"] == 62
    assert client.get("/api/search", query_string={"q": "居家养老扶务全覆盖", "spell": "0"}).get_json()["corrected"] is None
    bad = client.get("/api/search", query_string={"q": "沈阳", "spell": "maybe"})
    assert bad.status_code == 400 and bad.get_json()["error"]["code"] == "bad_query"
    html = client.get("/", query_string={"q": "居家养老扶务全覆盖"}).get_data(as_text=True)
    assert "已按“<strong>居家养老服务全覆盖</strong>”搜索" in html and "spell=0" in html
    assert "已按" not in client.get("/", query_string={"q": "居家养老扶务全覆盖", "spell": "0"}).get_data(as_text=True)


def test_compare_reads_the_figure_for_the_word_it_searched(tmp_path, embedder):
    docs = tmp_path / "reports"
    docs.mkdir()
    for doc_id, grain, cotton in (("2026-jia", 1200, 50), ("2026-yi", 900, 30)):
        (docs / f"{doc_id}.txt").write_text(f"2026年政府工作报告\n\n二、2026年工作安排\n\n今年主要目标是：粮食产量{grain}万吨，"
                                            f"棉花产量{cotton}万吨。\n", encoding="utf-8")
    build(docs, tmp_path / "index", embedder=embedder)
    index = store.load(tmp_path / "index")
    # 棉化 for 棉花: the clause about cotton, not the first clause with 产量
    assert {r.doc_id: r.figure for r in compare(index, embedder, "棉化产量多少")} == {"2026-jia": "50万吨",
                                                                                   "2026-yi": "30万吨"}


def test_the_question_s_own_characters_are_never_read_as_mistyped(tmp_path, embedder):
    docs = tmp_path / "reports"
    docs.mkdir()
    (docs / "aspirin.txt").write_text("阿司匹林\n\n阿司匹林最早是从柳树皮中提炼的，那种树皮含有水杨酸。\n", encoding="utf-8")
    build(docs, tmp_path / "index", embedder=embedder)
    index = store.load(tmp_path / "index")
    # 哪 and 那 sound alike, and 那种 is the text's: but 哪 is a question's character (learned from CMRC train)
    assert search(index, embedder, "阿司匹林是从哪种树皮中提炼的", k=1).corrected is None
