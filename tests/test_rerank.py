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



def test_reader_reads_each_passage_under_its_heading():
    """An article's later paragraph calls its subject 本鱼. Read bare, the opening paragraph, which names
    the fish but does not answer, scores higher; read under the article's title, the answer does."""
    rr = load_reranker()
    lead = ("蓝线裸顶鲷，又称蓝线白𫚭，俗名龙尖，为辐鳍鱼纲鲈形目龙占鱼科的其中一个种。"
            "本鱼分布于印度太平洋区，包括东非、马达加斯加、红海、日本、台湾、中国等海域。")
    answer = "水深20至170公尺。本鱼体呈银灰色，有若干不规则污斑。头长为眼径的五倍。体长可达80公分。"
    question = "蓝线裸顶鲷的身体是什么颜色的？"
    bare = rr.paragraph_scores(question, [lead, answer])
    headed = rr.paragraph_scores(question, [lead, answer], ["蓝线裸顶鲷", "蓝线裸顶鲷"])
    assert bare[0] > bare[1] and headed[1] > headed[0]

PAIRS = [("是誰發明了現代網球", "現代的網球則於1873年由英國人溫菲爾德少校發明，他把早期的網球規則加以改良。"),
         ("是誰發明了現代網球", "現代網球起源於英國，是一項在全世界廣受歡迎的運動，網球比賽分為單打和雙打。"),
         ("空气质量优良天数有多少", "全年空气质量优良天数达到310天，细颗粒物平均浓度持续下降。"),
         ("空气质量优良天数有多少", "新建改造城市道路300公里，建成口袋公园100个，城市面貌焕然一新。"),
         ("How many new urban jobs were created?", "城镇新增就业13.2万人，城镇调查失业率5.5%。"),
         ("How many new urban jobs were created?", "新建改造城市道路300公里，建成口袋公园100个。")]


def test_the_reader_runs_on_onnx_without_torch_and_reads_as_torch_does():
    """The default path exports the reranker once and reads with ONNX Runtime: no torch in the
    process; the torch path (training's) gives the same order and nearly the same scores."""
    import subprocess
    import sys

    code = ("import sys; from kb.rerank import load_reranker; r = load_reranker(); "
            "r.paragraph_scores('是誰發明了現代網球', ['現代網球起源於英國。']); "
            "print(type(r.pairs).__name__, 'torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["OnnxPairs", "False"]
    questions, passages = zip(*PAIRS)
    fast = load_reranker().score(list(questions), list(passages))
    slow = load_reranker(backend="torch").score(list(questions), list(passages))
    assert float(abs(fast - slow).max()) < 0.5
    for i in range(0, len(PAIRS), 2):  # each question: the passage that answers it first, on both paths
        assert fast[i] > fast[i + 1] and slow[i] > slow[i + 1], PAIRS[i]


def test_pairs_are_cut_into_tokens_as_the_transformers_tokenizer_cuts_them(embedder):
    from transformers import AutoTokenizer

    from kb.provision import provision
    from kb.rerank import MAX_TOKENS

    reference = AutoTokenizer.from_pretrained(str(provision()))
    long = "沈阳市全面振兴新突破三年行动取得重要进展，" * 30  # cut to fit MAX_TOKENS
    for q, p in [*PAIRS, ("今年的目标", long), ("ＧＤＰ增长（％）", "GDP　增长6%以上。")]:
        ids = reference([q], [p], truncation="only_second", max_length=MAX_TOKENS)["input_ids"][0]
        assert embedder.encoder.tokens.pair(q, p, MAX_TOKENS) == ids, (q, p[:20])
    assert len(embedder.encoder.tokens.pair("今年的目标", long, MAX_TOKENS)) == MAX_TOKENS


@pytest.mark.slow
def test_a_damaged_onnx_reader_is_made_again(tmp_path, embedder):
    import shutil

    from kb import onnx_export
    from kb.provision import provision
    from kb.rerank import RERANKER_FILE, onnx_pairs

    model = tmp_path / "e5"
    shutil.copytree(provision(), model, ignore=shutil.ignore_patterns("onnx*", ".tmp-*"))
    tokens = embedder.encoder.tokens
    first = onnx_pairs(RERANKER_FILE, model, tokens)
    meta_file = onnx_export.reranker_folder(model) / onnx_export.META
    meta = json.loads(meta_file.read_text())
    assert meta["int8"] == "word table" and abs(meta["canary"] - meta["torch"]) < 0.5
    # a file that loads but does not score as it did when made: the canary pair catches it
    meta["canary"] += 1.0
    meta_file.write_text(json.dumps(meta))
    again = onnx_pairs(RERANKER_FILE, model, tokens)
    remade = json.loads(meta_file.read_text())  # exported again: its record is the true one once more
    assert abs(remade["canary"] - (meta["canary"] - 1.0)) < 1e-3
    questions, passages = zip(*PAIRS)
    assert abs(again.score(list(questions), list(passages)) - first.score(list(questions), list(passages))).max() < 1e-3


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
