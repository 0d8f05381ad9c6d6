"""The opt-in cross-encoder (kb/rerank.py) on the real model and the bundled report's index."""
import json

import pytest
from click.testing import CliRunner

from kb.cli import cli
from kb.errors import ModelError
from kb.rerank import WINDOW_CHARS, load_reranker, rerank, windows
from kb.search import search


def test_windows_cover_every_sentence_within_the_size():
    text = "".join(f"第{i}句说的是第{i}件事，讲得很长很长很长很长很长很长很长很长很长很长很长。" for i in range(20))
    parts = windows(text)
    assert len(parts) > 1
    assert all(len(p) <= WINDOW_CHARS for p in parts)
    for i in range(20):  # every sentence whole in some passage
        assert any(f"第{i}句说的是第{i}件事" in p for p in parts)
    # each passage after the first opens on the last sentence of the one before
    assert all(p.split("。")[-2] in q for p, q in zip(parts, parts[1:]))


def test_windows_of_short_and_unbroken_text():
    assert windows("只有一句。") == ["只有一句。"]
    assert windows("") == []
    long = "无" * (WINDOW_CHARS * 2 + 5)
    assert "".join(windows(long)) == long


def test_reranker_reads_the_paragraph_that_answers():
    """Two paragraphs with the question's words; only one says who, and the reranker puts it first."""
    rr = load_reranker()
    lead = "現代網球起源於英國，是一項在全世界廣受歡迎的運動，網球比賽分為單打和雙打。"
    answer = "現代的網球則於1873年由英國人溫菲爾德少校發明，他把早期的網球規則加以改良。"
    scores = rr.paragraph_scores("是誰發明了現代網球", [lead, answer])
    assert scores[1] > scores[0]


def test_search_with_rerank_keeps_the_results_and_reorders_only_the_first_three(loaded_index, embedder):
    q = "今年地区生产总值增长目标"
    plain = search(loaded_index, embedder, q, 10)
    again = search(loaded_index, embedder, q, 10, rerank=True)
    assert [r.rank for r in again] == list(range(1, 11))
    assert {r.paragraph for r in again[:3]} == {r.paragraph for r in plain[:3]}
    assert [r.paragraph for r in again[3:]] == [r.paragraph for r in plain[3:]]
    assert again[0].paragraph == 20  # 地区生产总值增长6%以上
    assert "地区生产总值增长" in again[0].text


def test_rerank_of_one_result_changes_nothing(loaded_index, embedder):
    one = search(loaded_index, embedder, "停车难怎么解决", 1)
    assert rerank(one, "停车难怎么解决") == list(one)


def test_a_reranker_made_for_other_weights_is_refused(tmp_path):
    from safetensors.torch import save_file
    import torch

    path = tmp_path / "reranker.safetensors"
    save_file({"head.weight": torch.zeros(1, 384), "head.bias": torch.zeros(1)}, str(path),
              metadata={"model": "some-other-model"})
    with pytest.raises(ModelError, match="trained over some-other-model"):
        load_reranker(path)
    with pytest.raises(ModelError, match="no reranker"):
        load_reranker(tmp_path / "missing.safetensors")


def test_cli_and_api_take_rerank(built_index, report_dir):
    from webapp import create_app

    out = CliRunner().invoke(cli, ["search", "今年地区生产总值增长目标", "--rerank", "--json", "-k", "3",
                                   "--index", str(built_index), "--docs", str(report_dir)])
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["results"][0]["paragraph"] == 20
    client = create_app({"INDEX": str(built_index), "DOCS": str(report_dir), "TESTING": True}).test_client()
    res = client.get("/api/search", query_string={"q": "今年地区生产总值增长目标", "rerank": "1"})
    body = res.get_json()
    assert res.status_code == 200 and body["reranked"] is True and body["results"][0]["paragraph"] == 20
    bad = client.get("/api/search", query_string={"q": "今年地区生产总值增长目标", "rerank": "maybe"})
    assert bad.status_code == 400 and "rerank must be 1 or 0" in bad.get_json()["error"]["message"]
    page = client.get("/", query_string={"q": "今年地区生产总值增长目标", "rerank": "1"}).get_data(as_text=True)
    assert 'name="rerank" value="1" checked' in page and "#p20" in page
