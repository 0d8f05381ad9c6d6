"""Reading reports: encodings, paragraphs as a reader counts them, section paths."""
from pathlib import Path

from kb.documents import parse_text, read_documents
from tests.conftest import REPORT

REPORT_TEXT = REPORT.read_text(encoding="utf-8")


def test_bundled_report_structure():
    doc = parse_text(REPORT_TEXT, "shenyang-2024")
    assert doc.title == "2024年沈阳市政府工作报告"
    first = doc.paragraphs[0]
    assert (first.number, first.text) == (1, "各位代表：")
    p20 = doc.paragraphs[19]
    assert p20.number == 20 and "地区生产总值增长6%以上" in p20.text
    assert p20.section_path == "二、2024年重点工作安排"
    p24 = doc.paragraphs[23]
    assert p24.section_path == "二、2024年重点工作安排 › （一）坚持以重大工程项目为支撑… › 做大做强城市经济实力"
    p7 = doc.paragraphs[6]
    assert p7.section_path == "一、2023年工作回顾 › （一）发展态势向上向好"
    heading = doc.paragraphs[2]
    assert heading.heading and heading.text == "一、2023年工作回顾"


def test_a_title_with_a_note_after_it():
    doc = parse_text("1964年国务院政府工作报告（摘要）\n五年来，我国各族人民取得了伟大胜利。\n", "1964-national")
    assert doc.title == "1964年国务院政府工作报告（摘要）"
    assert [p.text for p in doc.paragraphs] == ["五年来，我国各族人民取得了伟大胜利。"]


def _write(folder: Path, name: str, data: bytes) -> None:
    (folder / name).write_bytes(data)


def test_encodings_and_line_endings(tmp_path):
    text = "2023年某市政府工作报告\n\n一、工作回顾\n\n粮食产量突破81.5亿斤。\n"
    _write(tmp_path, "gbk.txt", text.encode("gbk"))
    _write(tmp_path, "bom.txt", b"\xef\xbb\xbf" + text.encode("utf-8"))
    _write(tmp_path, "crlf.txt", text.replace("\n", "\r\n").encode("utf-8"))
    docs = {d.doc_id: d for d in read_documents(tmp_path)}
    assert set(docs) == {"gbk", "bom", "crlf"}
    for doc in docs.values():
        assert doc.title == "2023年某市政府工作报告"
        assert [p.text for p in doc.paragraphs] == ["一、工作回顾", "粮食产量突破81.5亿斤。"]
        assert doc.paragraphs[1].section_path == "一、工作回顾"


def test_binary_and_undecodable_files_are_skipped_with_a_warning(tmp_path):
    _write(tmp_path, "good.txt", "有用的段落内容。".encode())
    _write(tmp_path, "binary.txt", b"\x00\x01\x02PK\x00\x00" * 50)
    _write(tmp_path, "empty.md", b"")
    warnings = []
    docs = read_documents(tmp_path, warn=warnings.append)
    assert [d.doc_id for d in docs] == ["good"]
    assert any("binary.txt" in w for w in warnings) and any("empty.md" in w for w in warnings)


def test_markdown_headings_and_wrapped_paragraphs(tmp_path):
    md = "# Annual Report\n\n## Economy\n\nGrowth was strong\nacross the year.\n\nSecond paragraph.\n"
    _write(tmp_path, "r.md", md.encode())
    doc = read_documents(tmp_path)[0]
    assert doc.title == "Annual Report"
    texts = [p.text for p in doc.paragraphs]
    assert texts == ["Economy", "Growth was strong across the year.", "Second paragraph."]
    assert doc.paragraphs[1].section_path == "Economy"


def test_jsonl_corpus_gives_one_document_a_line(tmp_path):
    tmp_path = tmp_path / "cmrc2018"
    tmp_path.mkdir()
    _write(tmp_path, "c.jsonl", ('{"id": "p1", "title": "甲", "text": "第一段。"}\n'
                                 'not json\n{"id": "p2", "title": "乙", "text": "第二段。"}\n').encode())
    warnings = []
    docs = read_documents(tmp_path / "c.jsonl", warn=warnings.append)
    assert [(d.doc_id, d.title) for d in docs] == [("p1", "甲"), ("p2", "乙")]
    assert all(d.year is None for d in docs)  # "cmrc2018/corpus.jsonl" names no year of its documents
    assert len(warnings) == 1 and "line 2" in warnings[0]


def test_a_report_that_numbers_no_parts_is_read_under_its_bare_headings():
    text = ("2025年西藏自治区政府工作报告\n西藏自治区主席 某某\n各位代表：\n现在，我代表自治区人民政府，向大会报告工作，请予审议。\n"
            "2024年工作回顾\n过去一年，全区地区生产总值增长6.3%，城乡居民收入稳步提高，各项事业取得新进展。\n"
            "（一）经济运行稳中向好\n全年固定资产投资增长5%，社会消费品零售总额增长6%。\n"
            "2025年工作安排\n今年经济社会发展的主要预期目标是：地区生产总值增长7%左右，城镇新增就业4万人以上。\n")
    from kb.timeframe import about_years

    doc = parse_text(text, "2025-tibet")
    def para(start):
        return next(p for p in doc.paragraphs if p.text.startswith(start))

    assert para("2024年工作回顾").heading and para("2025年工作安排").heading
    assert not para("西藏自治区主席").heading  # the speaker under the title, before the text begins
    review, detail, plan = para("过去一年"), para("全年固定资产"), para("今年经济社会")
    assert review.section == ("2024年工作回顾",) and plan.section == ("2025年工作安排",)
    assert detail.section == ("2024年工作回顾", "（一）经济运行稳中向好")
    assert about_years(doc, detail.section_path, text=detail.text) == (2024, 2024)
    assert about_years(doc, plan.section_path, text=plan.text) == (2025, 2025)


def test_an_unnumbered_first_part_before_numbered_ones_is_a_part():
    text = ("2026年内蒙古自治区政府工作报告\n各位代表：\n现在，我代表自治区人民政府向大会报告工作，请予审议。\n"
            "2025年工作回顾\n过去一年，全区地区生产总值增长5.5%，粮食产量再创新高，各项事业取得新进展。\n"
            "一、全力抓好2026年重点工作\n今年要扩大有效投资，地区生产总值增长5%左右，城镇新增就业18万人。\n")
    doc = parse_text(text, "2026-inner-mongolia")
    review = next(p for p in doc.paragraphs if p.text.startswith("过去一年"))
    plan = next(p for p in doc.paragraphs if p.text.startswith("今年要"))
    assert review.section == ("2025年工作回顾",) and plan.section == ("一、全力抓好2026年重点工作",)
