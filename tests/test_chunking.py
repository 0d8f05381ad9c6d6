"""Chunks never cross a paragraph, fit the model, and map back to their paragraph."""
from kb.chunking import ChunkSettings, chunk_document, windows
from kb.documents import parse_text
from tests.conftest import REPORT


def test_chunks_stay_inside_paragraphs_and_cover_them(embedder):
    doc = parse_text(REPORT.read_text(encoding="utf-8"), "r")
    settings = ChunkSettings()
    chunks = chunk_document(doc, settings)
    by_para = {}
    for c in chunks:
        para = doc.paragraphs[c.paragraph - 1]
        assert para.text[c.start : c.end] == c.text  # maps back exactly
        assert len(c.text) <= settings.max_chars
        by_para.setdefault(c.paragraph, []).append(c)
    for number, cs in by_para.items():
        text = doc.paragraphs[number - 1].text
        assert cs[0].start == 0 and cs[-1].end == len(text)  # nothing of the paragraph lost
    longest = max(chunks, key=lambda c: len(c.embed_text))
    assert embedder.token_count(longest.embed_text) < 512
    # headings and salutations are shown in the report, never returned as answers
    numbers = {c.paragraph for c in chunks}
    assert 1 not in numbers and 3 not in numbers and 20 in numbers


def test_windows_cut_at_sentence_ends():
    text = "第一句话很短。第二句话也不长！第三句话在这里？第四句；" * 3
    spans = windows(text, 30, 1)
    assert len(spans) > 1
    for s, e in spans:
        assert text[e - 1] in "。！？；"
    assert spans[0][0] == 0 and spans[-1][1] == len(text)


def test_a_sentence_longer_than_the_window_is_still_cut():
    text = "，".join(["很长的从句没有句号"] * 40) + "。"
    spans = windows(text, 50, 0)
    assert all(e - s <= 50 for s, e in spans) and spans[-1][1] == len(text)


def test_a_chunk_is_embedded_under_its_heading_or_else_its_title():
    """A report's paragraph is read under its top-level section (review or plan); an article's,
    which has none, under the article's title: its later paragraphs say 本鱼, not the fish's name."""
    report = parse_text(REPORT.read_text(encoding="utf-8"), "r")
    heading = {c.paragraph: c.embed_text.split("\n")[0] for c in chunk_document(report)}
    assert heading[4] == "一、2023年工作回顾" and heading[20] == "二、2024年重点工作安排"
    assert heading[2] == "2024年沈阳市政府工作报告"  # the opening, before the first section
    article = parse_text("蓝线裸顶鲷为辐鳍鱼纲鲈形目龙占鱼科的其中一个种，分布于印度太平洋区。\n\n"
                         "本鱼体呈银灰色，有若干不规则污斑，体长可达80公分。", "fish", title="蓝线裸顶鲷")
    chunks = chunk_document(article)
    assert [c.paragraph for c in chunks] == [1, 2]
    assert all(c.embed_text == f"蓝线裸顶鲷\n{c.text}" for c in chunks)
    assert chunk_document(article, ChunkSettings(context=False))[1].embed_text == chunks[1].text
