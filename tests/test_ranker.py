"""The learned ranker: shipped weights, its features, and what it changes for a reader."""
import json

import numpy as np
import pytest

from kb.fusion import Fusion
from kb.ranker import FEATURES, RANKER_FILE, features, load_ranker
from kb.search import candidates, search


def test_shipped_weights_fit_the_features():
    data = json.loads(RANKER_FILE.read_text(encoding="utf-8"))
    assert tuple(data["features"]) == FEATURES and len(data["weights"]) == len(FEATURES)
    ranker = load_ranker()
    assert ranker is not None
    # learned, not hand-set: the time of the question matching the part of the report counts for it
    w = dict(zip(FEATURES, ranker.weights))
    assert w["plan_in_plan"] > w["plan_in_review"] and w["review_in_review"] > w["review_in_plan"]


def test_weights_for_other_features_are_not_applied(tmp_path):
    path = tmp_path / "ranker.json"
    path.write_text(json.dumps({"features": ["dense"], "weights": [1.0]}))
    assert load_ranker(path) is None
    assert load_ranker(tmp_path / "missing.json") is None


def _features(index, embedder, query):
    qv = np.ascontiguousarray(embedder.encode_queries([query]), np.float32)
    dense, lexical, coverage = candidates(index, qv, index.lexical.scores(query), 50, None)
    ids, x = features(index, query, qv, dense, lexical, coverage)
    return ids, dict(zip(FEATURES, x.T))


def test_features_see_the_time_of_the_question(loaded_index, embedder):
    ids, f = _features(loaded_index, embedder, "今年固定资产投资增长多少")
    parts = loaded_index.chunk_parts[ids]
    assert (f["plan_in_plan"] == (parts == 1)).all() and not f["review_in_review"].any()
    ids, f = _features(loaded_index, embedder, "2023年固定资产投资增长多少")  # the report's year before
    about = loaded_index.chunk_about[ids]
    assert (f["year_exact"] == ((about[:, 0] == 2023) & (about[:, 1] == 2023))).all() and f["year_exact"].any()
    assert (f["year_exact"] == (loaded_index.chunk_parts[ids] == -1)).all() and not f["year_span"].any()
    ids, f = _features(loaded_index, embedder, "去年固定资产投资完成了多少")
    assert (f["review_in_review"] == (loaded_index.chunk_parts[ids] == -1)).all()
    ids, f = _features(loaded_index, embedder, "固定资产投资增长8%")
    j = next(j for j, i in enumerate(ids) if "固定资产投资增长8%" in loaded_index.chunks[i].text)
    assert f["numbers"][j] == 1.0 and f["numbers"].min() == 0.0


def test_features_see_a_clause_that_answers_with_a_figure(loaded_index, embedder):
    ids, f = _features(loaded_index, embedder, "今年固定资产投资增长多少")
    j = next(j for j, i in enumerate(ids) if "固定资产投资增长8%" in loaded_index.chunks[i].text)
    assert f["answers"][j] > 0.5 and (f["answers"] == 0).any()
    assert w_of("answers") > 0  # learned: a clause that gives the asked figure counts for its chunk
    ids, f = _features(loaded_index, embedder, "居家养老服务全覆盖")  # asks for no figure
    assert not f["answers"].any()
    # an English question, through the report terms the lexicon gives for its words
    ids, f = _features(loaded_index, embedder, "What is this year's GDP growth target?")
    best = loaded_index.chunks[int(ids[np.argmax(f["answers"])])].text
    assert "主要预期目标是：地区生产总值增长6%以上" in best


def w_of(name: str) -> float:
    return float(dict(zip(FEATURES, load_ranker().weights))[name])


@pytest.mark.parametrize("query, gold, part", [
    ("今年固定资产投资增长多少", "固定资产投资增长8%", "二、2024年重点工作安排"),
    ("去年固定资产投资增长了多少", "固定资产投资增长3%左右", "一、2023年工作回顾"),
    ("今年社会消费品零售总额预期增长多少", "社会消费品零售总额增长8%", "二、2024年重点工作安排"),
    ("去年社会消费品零售总额增长了多少", "社会消费品零售总额增长9%", "一、2023年工作回顾"),
])
def test_this_year_and_last_year_questions_get_their_part(loaded_index, embedder, query, gold, part):
    top = search(loaded_index, embedder, query, k=1, fusion=Fusion(method="learned"))[0]
    assert gold in top.text and top.section.startswith(part)


def test_ranker_is_the_default_and_falls_back_to_rank_fusion(loaded_index, embedder, monkeypatch):
    import importlib

    assert Fusion().method == "learned"
    monkeypatch.setenv("KB_RANKER", "off")
    assert Fusion().method == "rrf"
    learned = search(loaded_index, embedder, "停车难怎么解决", k=5, fusion=Fusion(method="learned"))
    monkeypatch.setattr(importlib.import_module("kb.search"), "load_ranker", lambda: None)
    fallback = search(loaded_index, embedder, "停车难怎么解决", k=5, fusion=Fusion(method="learned"))
    rrf = search(loaded_index, embedder, "停车难怎么解决", k=5, fusion=Fusion(method="rrf"))
    assert [r.chunk_id for r in fallback] == [r.chunk_id for r in rrf]
    assert "扩容停车泊位3万个以上" in learned[0].text and "扩容停车泊位3万个以上" in fallback[0].text


@pytest.mark.parametrize("query", ["Will Shenyang develop humanoid robots?", "今年固定资产投资增长多少",
                                   "How many new urban jobs were created last year?"])
def test_first_results_do_not_depend_on_how_many_are_asked(loaded_index, embedder, query):
    """The web page asks for 50 results (to count facets) and shows 10; the CLI asks for 10."""
    ten = search(loaded_index, embedder, query, k=10, fusion=Fusion(method="learned"))
    fifty = search(loaded_index, embedder, query, k=50, fusion=Fusion(method="learned"))
    assert [r.chunk_id for r in fifty[:10]] == [r.chunk_id for r in ten]


def test_a_question_naming_a_title_prefers_that_document(tmp_path, embedder):
    """Articles named alike (德龙烟铁路 holds 龙烟铁路): the one the question names in full is first."""
    from kb import store
    from kb.build import build
    from kb.ranker import title_name

    rows = [("longyan", "龙烟铁路",
             "龙烟铁路是连接河北龙关与烟筒山的铁路，全长约50公里，1920年代开始修建，主要运输铁矿石。"),
            ("delongyan", "德龙烟铁路",
             "德龙烟铁路是连接山东德州与烟台龙口的铁路，全长约400公里，设计时速120公里，是山东北部的货运通道。"),
            ("daqu", "大曲车站 (青森县)", "大曲车站是位于青森县的一个铁路车站，设有两个站台，1926年启用。")]
    corpus = tmp_path / "wiki.jsonl"
    corpus.write_text("".join(json.dumps({"id": i, "title": t, "text": x}, ensure_ascii=False) + "\n"
                              for i, t, x in rows), encoding="utf-8")
    build(corpus, tmp_path / "index", embedder=embedder)
    index = store.load(tmp_path / "index")
    assert title_name("大曲车站 (青森县)") == "大曲车站" and title_name("x") == ""

    query = "德龙烟铁路全长多少公里？"
    ids, f = _features(index, embedder, query)
    named = {index.documents[index.chunks[int(i)].doc_id].title for i, v in zip(ids, f["title"]) if v}
    assert named == {"德龙烟铁路"}  # not 龙烟铁路, which the question holds only as part of a longer title
    assert w_of("title") > 0  # learned: naming a document's title counts for it
    top = search(index, embedder, query, k=1, fusion=Fusion(method="learned"))[0]
    assert "400公里" in top.text
    ids, f = _features(index, embedder, "大曲车站有几个站台？")
    assert f["title"].any()
