"""Building, incremental rebuilds, atomic switches and cited search, on the real model and index."""
import json
import shutil

import pytest

from kb import store
from kb.build import build, changed_since
from kb.errors import DocumentError, IndexMismatch
from kb.search import QueryError, search
from tests.conftest import REPORT


def test_gdp_target_question_finds_the_plan_paragraph(loaded_index, embedder):
    results = search(loaded_index, embedder, "今年地区生产总值增长目标是多少", k=5)
    top = results[0]
    assert "地区生产总值增长6%以上" in top.text
    assert top.paragraph == 20 and top.section == "二、2024年重点工作安排"
    assert top.citation == "《2024年沈阳市政府工作报告》二、2024年重点工作安排 第20段"
    assert top.url == "/docs/shenyang-2024#p20"
    assert top.chunk_id.startswith("shenyang-2024#p20.")
    assert [r.rank for r in results] == [1, 2, 3, 4, 5]
    assert len({(r.doc_id, r.paragraph) for r in results}) == 5  # one result per paragraph


def test_english_question_about_chinese_text(loaded_index, embedder):
    results = search(loaded_index, embedder, "How many new academicians did Shenyang gain?", k=5)
    assert any("新增两院院士5人" in r.text for r in results)


@pytest.mark.parametrize("question", ["今年要推进多少个重大技术改造项目", "国家级科技创新平台有几个", "烂尾楼交付了多少套"])
def test_the_reports_own_place_name_changes_no_answer(loaded_index, embedder, question):
    """Within the Shenyang report 沈阳 says nothing more: a question naming it is ranked as one
    that does not (with the name, 3 of these went to another paragraph)."""
    plain = [r.chunk_id for r in search(loaded_index, embedder, question, 5)]
    for named in ("沈阳市" + question, "沈阳" + question):
        assert [r.chunk_id for r in search(loaded_index, embedder, named, 5)] == plain


def test_bad_queries_are_refused_with_a_clear_message(loaded_index, embedder):
    for bad in ("", "   \n\t"):
        with pytest.raises(QueryError, match="empty"):
            search(loaded_index, embedder, bad)
    with pytest.raises(QueryError, match="too long"):
        search(loaded_index, embedder, "沈阳" * 50_000)
    for k in (0, -1, 10**9, "abc"):
        with pytest.raises(QueryError, match="k must be"):
            search(loaded_index, embedder, "沈阳", k=k)


def _copy_index(src, dst):
    shutil.copytree(src, dst)
    return dst


def test_editing_one_paragraph_embeds_only_its_chunks(tmp_path, report_dir, built_index, embedder):
    docs = tmp_path / "docs"
    shutil.copytree(report_dir, docs)
    index_dir = _copy_index(built_index, tmp_path / "index")
    before = store.load(index_dir)
    path = docs / REPORT.name
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("沈阳鸡架荣获中国特色旅游商品大赛金奖", "沈阳鸡架荣获国际美食大赛银奖"),
                    encoding="utf-8")
    assert changed_since(before, docs)["changed"] == ["shenyang-2024"]
    stats = build(docs, index_dir, embedder=embedder)
    para_chunks = [c for c in before.chunks if c.paragraph == 8]
    assert 0 < stats.embedded <= 2  # only the windows holding the edited sentence
    assert stats.embedded < len(para_chunks)
    assert stats.removed == stats.embedded
    assert stats.reused == len({c.key for c in before.chunks}) - stats.removed
    assert stats.changed_documents == ["shenyang-2024"]
    after = store.load(index_dir)
    top = search(after, embedder, "沈阳鸡架得了什么奖", k=3)
    assert any("国际美食大赛银奖" in r.text for r in top)
    # nothing changed: nothing embedded
    again = build(docs, index_dir, embedder=embedder)
    assert (again.embedded, again.removed) == (0, 0)


def test_removed_report_is_dropped(tmp_path, report_dir, built_index, embedder):
    docs = tmp_path / "docs"
    shutil.copytree(report_dir, docs)
    (docs / "extra.txt").write_text("另一份报告。\n\n全市新建口袋公园1000座，市民休闲更方便了。\n", encoding="utf-8")
    index_dir = _copy_index(built_index, tmp_path / "index")
    stats = build(docs, index_dir, embedder=embedder)
    assert stats.added_documents == ["extra"] and stats.embedded == 1
    (docs / "extra.txt").unlink()
    stats = build(docs, index_dir, embedder=embedder)
    assert stats.removed_documents == ["extra"] and stats.removed == 1 and stats.embedded == 0
    assert "extra" not in store.load(index_dir).documents


def test_interrupted_build_keeps_the_previous_index(tmp_path, report_dir, built_index, embedder):
    docs = tmp_path / "docs"
    shutil.copytree(report_dir, docs)
    index_dir = _copy_index(built_index, tmp_path / "index")
    version = store.current_version(index_dir)
    (docs / REPORT.name).write_text("全新的内容。" * 10, encoding="utf-8")

    def explode(total):
        def step(n):
            raise KeyboardInterrupt
        return step

    with pytest.raises(KeyboardInterrupt):
        build(docs, index_dir, embedder=embedder, progress=explode)
    assert store.current_version(index_dir) == version
    results = search(store.load(index_dir), embedder, "今年地区生产总值增长目标是多少", k=1)
    assert "地区生产总值增长6%以上" in results[0].text
    assert not [p for p in (index_dir / "versions").iterdir() if p.name.startswith(".tmp")]


def test_index_from_another_model_or_format_is_refused(tmp_path, built_index):
    index_dir = _copy_index(built_index, tmp_path / "index")
    with pytest.raises(IndexMismatch, match="kb build"):
        store.load(index_dir, model_name="some/other-model")
    manifest_path = index_dir / "versions" / store.current_version(index_dir) / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["format"] = 99
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(IndexMismatch, match="format 99"):
        store.load(index_dir)


def test_empty_or_missing_folder(tmp_path, embedder):
    (tmp_path / "empty").mkdir()
    with pytest.raises(DocumentError, match="no readable reports"):
        build(tmp_path / "empty", tmp_path / "index", embedder=embedder)
    with pytest.raises(DocumentError, match="does not exist"):
        build(tmp_path / "missing", tmp_path / "index", embedder=embedder)
    assert not store.exists(tmp_path / "index")


def test_results_say_why_they_matched(loaded_index, embedder):
    top = search(loaded_index, embedder, "停车难怎么解决", k=3)[0]
    assert "扩容停车泊位3万个以上" in top.text
    marked = [top.text[s:e] for s, e in top.highlights]
    assert "停车难" in marked and "怎么" not in "".join(marked)  # stop words are not marked
    assert top.best_sentence["text"] == "扩容停车泊位3万个以上，努力缓解“停车难”问题。"
    s, e = top.best_sentence["start"], top.best_sentence["end"]
    assert top.text[s:e] == top.best_sentence["text"]


def test_exact_terms_and_traditional_characters(loaded_index, embedder):
    for query, gold in (("5G基站", "5G基站"), ("粮食产量81.5亿斤", "粮食产量突破81.5亿斤"),
                        ("瀋陽鸡架獲獎", "沈阳鸡架荣获中国特色旅游商品大赛金奖"),
                        ("ＰＭ２．５", "PM2.5")):
        results = search(loaded_index, embedder, query, k=3)
        assert any(gold in r.text for r in results), query


def test_the_last_word_of_a_chunk_under_a_shortened_heading_is_searched(loaded_index, embedder):
    # what BM25 sees of a chunk begins with its section path, which kb shortens with "…" (NFKC folds it
    # to three characters); the chunk "…新培育10个智能工厂、15个数字化车间，" ends on 车间
    assert "数字化车间" in search(loaded_index, embedder, "车间", k=1, mode="lexical")[0].text


def test_last_year_and_this_year_go_to_their_sections(loaded_index, embedder):
    this_year = search(loaded_index, embedder, "今年地区生产总值增长目标", k=1)[0]
    last_year = search(loaded_index, embedder, "去年地区生产总值增长了多少", k=1)[0]
    assert this_year.section.startswith("二、2024年重点工作安排")
    assert last_year.section.startswith("一、2023年工作回顾")


def test_build_reuses_vectors_of_an_older_format_index(tmp_path, report_dir, built_index, embedder):
    index_dir = _copy_index(built_index, tmp_path / "index")
    folder = index_dir / "versions" / store.current_version(index_dir)
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["format"] = 1  # format 1 had no BM25 arrays and no token cache
    (folder / "manifest.json").write_text(json.dumps(manifest))
    shutil.rmtree(folder / "bm25")
    (folder / "tokens.jsonl").unlink()
    with pytest.raises(IndexMismatch, match="format 1"):
        store.load(index_dir)
    stats = build(report_dir, index_dir, embedder=embedder)
    assert stats.embedded == 0 and stats.reused == stats.chunks
    top = search(store.load(index_dir), embedder, "今年地区生产总值增长目标是多少", k=1)[0]
    assert "地区生产总值增长6%以上" in top.text


def test_index_embedded_with_other_weights_is_refused_then_rebuilt(tmp_path, report_dir, built_index, embedder):
    from kb.provision import DEFAULT_MODEL, default_model_name

    index_dir = _copy_index(built_index, tmp_path / "index")
    assert store.load(index_dir).model_name == default_model_name()
    assert default_model_name().startswith(DEFAULT_MODEL + "+kb-lora-")  # the adapter is on by default
    folder = index_dir / "versions" / store.current_version(index_dir)
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["model"]["name"] = DEFAULT_MODEL  # embedded by a kb before its adapter
    (folder / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(IndexMismatch, match=f"other weights.*kb build --index {index_dir}"):
        store.load(index_dir)
    warnings = []
    stats = build(report_dir, index_dir, embedder=embedder, warn=warnings.append)
    assert stats.embedded == stats.chunks and "re-embedding" in warnings[0]
    top = search(store.load(index_dir), embedder, "今年地区生产总值增长目标是多少", k=1)[0]
    assert "地区生产总值增长6%以上" in top.text
