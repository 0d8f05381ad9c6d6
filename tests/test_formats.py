"""Word, PDF and HTML reports made by the tests, read into cited paragraphs; metadata; a live folder."""
from pathlib import Path

import pytest

from kb.documents import read_documents

PARAS = ["各位代表：", "一、2025年工作回顾", "全市地区生产总值增长5.5%，新建5G基站3000个。",
         "二、2026年重点工作", "今年全市经济增长预期目标是5%左右，城镇新增就业10万人以上。"]


def _check(doc, title="2026年某市政府工作报告"):
    assert doc.title == title and doc.year == 2026
    texts = [p.text for p in doc.paragraphs]
    assert texts == PARAS
    target = doc.paragraphs[4]
    assert target.number == 5 and target.section_path == "二、2026年重点工作"
    assert doc.paragraphs[1].heading


def test_docx(tmp_path: Path):
    docx = pytest.importorskip("docx")
    d = docx.Document()
    d.add_heading("2026年某市政府工作报告", level=0)
    for text in PARAS:
        if "、" in text[:3]:
            d.add_heading(text, level=1)
        else:
            d.add_paragraph(text)
    d.save(tmp_path / "report.docx")
    _check(read_documents(tmp_path)[0])


def test_pdf_with_wrapped_lines(tmp_path: Path):
    pytest.importorskip("reportlab")
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    c = canvas.Canvas(str(tmp_path / "report.pdf"), pagesize=A4)
    c.setFont("STSong-Light", 12)
    y = 800
    lines = ["2026年某市政府工作报告"] + PARAS[:4] + ["今年全市经济增长预期目标是5%左右，", "城镇新增就业10万人以上。"]
    for line in lines:  # the last paragraph wraps onto two lines, as PDFs do
        c.drawString(60, y, line)
        y -= 20
    c.drawString(300, 40, "1")  # a page number
    c.save()
    _check(read_documents(tmp_path)[0])


def test_html_with_page_furniture(tmp_path: Path):
    body = "".join(f"<h2>{t}</h2>" if "、" in t[:3] else f"<p>{t}</p>" for t in PARAS)
    html = (f"<html><head><title>2026年某市政府工作报告</title><script>alert(1)</script></head><body>"
            f"<nav>首页 | 新闻</nav><div>下载</div><div>打印</div><div>【字号：</div>"
            f"<article><h1>2026年某市政府工作报告</h1><p>来源：某市日报</p>{body}</article>"
            f"<footer>版权所有</footer></body></html>")
    (tmp_path / "report.html").write_text(html, encoding="utf-8")
    _check(read_documents(tmp_path)[0])


def test_metadata_from_side_file_and_manifest(tmp_path: Path):
    (tmp_path / "a.txt").write_text("政府工作报告\n\n各位代表：\n\n今年增长5%。\n", encoding="utf-8")
    (tmp_path / "b.txt").write_text("各位代表：\n\n今年增长6%。\n", encoding="utf-8")
    (tmp_path / "manifest.csv").write_text("file,title,year,region\na.txt,2026年广东省政府工作报告,2026,广东省\n"
                                           "b.txt,旧标题,2020,全国\n", encoding="utf-8")
    (tmp_path / "b.txt.meta.json").write_text('{"title": "2025年政府工作报告", "year": 2025}', encoding="utf-8")
    docs = {d.doc_id: d for d in read_documents(tmp_path)}
    assert (docs["a"].title, docs["a"].year, docs["a"].region) == ("2026年广东省政府工作报告", 2026, "广东")
    assert (docs["b"].title, docs["b"].year, docs["b"].region) == ("2025年政府工作报告", 2025, "全国")


def test_watch_rebuilds_when_a_report_changes(tmp_path, report_dir, built_index, embedder):
    import shutil
    import threading
    import time

    from kb import store
    from kb.watch import watch

    docs, index = tmp_path / "docs", tmp_path / "index"
    shutil.copytree(report_dir, docs)
    shutil.copytree(built_index, index)
    builds, stop = [], threading.Event()
    thread = threading.Thread(target=watch, kwargs=dict(docs=docs, index_dir=index, on_build=builds.append,
                                                         debounce=0.3, stop=stop, build_first=False))
    thread.start()
    try:
        time.sleep(0.5)
        (docs / "new.md").write_text("# 2026年新报告\n\n全市新建智慧停车场12座。\n", encoding="utf-8")
        deadline = time.time() + 60
        while time.time() < deadline and not builds:
            time.sleep(0.2)
    finally:
        stop.set()
        thread.join(timeout=30)
    assert builds and builds[0].added_documents == ["new"] and builds[0].embedded == 1
    assert "new" in store.load(index).documents
