"""PDFs as they really come, made by the tests: the paragraphs and their text equal the source's."""
import shutil
import subprocess
from pathlib import Path

import pytest

from kb.documents import read_documents
from kb.pdf import clean_text

TITLE = "2026年某市政府工作报告"
SOURCE = [
    "各位代表：",
    "现在，我代表市人民政府，向大会报告工作，请予审议，并请市政协委员提出意见。",
    "一、2025年工作回顾",
    "过去一年，全市地区生产总值增长5.5%，规模以上工业增加值增长6.2%，一般公共预算收入完成1025.3亿元。"
    "新建5G基站3000个，PM2.5平均浓度下降到31微克/立方米，空气质量优良天数比例达到85.2%。" * 6,
    "我们坚持把扩大内需作为战略基点，社会消费品零售总额增长9%，固定资产投资增长3%左右，"
    "新开工亿元以上项目526个，“保交楼”5.5万套，房地产市场保持平稳健康发展。" * 6,
    "二、2026年重点工作",
    "今年全市经济增长预期目标是5%左右，城镇新增就业10万人以上，居民消费价格涨幅3%左右。"
    "我们将实施“十大工程”，推动AI+制造深度融合，建设国家级工业互联网平台。" * 8,
    "各位代表！让我们团结奋斗，为谱写中国式现代化新篇章而努力！",
]


def _reportlab_pdf(path: Path, indent_first_line: bool = True):
    """A report set the way word processors print it: first lines indented, justified to the
    right margin, a running header (title and date) and a footer `— N —` on every page, and
    paragraphs that run on from one page to the next."""
    pytest.importorskip("reportlab")
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    font, size, left, width, pitch = "STSong-Light", 12, 72, 451, 20
    c = canvas.Canvas(str(path), pagesize=A4)
    page = [1]

    def furniture():
        c.setFont(font, 9)
        c.drawString(left, 842 - 40, f"{TITLE}（草案）")
        c.drawRightString(left + width, 842 - 40, "2026年1月15日")
        c.drawCentredString(297, 40, f"— {page[0]} —")
        c.setFont(font, size)

    furniture()
    y = 842 - 100
    c.drawCentredString(297, y, TITLE)
    y -= 2 * pitch
    for text in SOURCE:
        indent = 2 * size if indent_first_line else 0
        rest = text
        while rest:
            room = width - indent
            n = 1
            while n < len(rest) and pdfmetrics.stringWidth(rest[:n + 1], font, size) <= room:
                n += 1
            line, rest = rest[:n], rest[n:]
            if y < 90:
                c.showPage()
                page[0] += 1
                furniture()
                y = 842 - 80
            if rest:  # a full line: justified to the right margin, as a word processor sets it
                spare = room - pdfmetrics.stringWidth(line, font, size)
                c.drawString(left + indent, y, line, charSpace=spare / max(len(line) - 1, 1))
            else:
                c.drawString(left + indent, y, line)
            y -= pitch
            indent = 0
        if not indent_first_line:
            y -= pitch  # a blank line between paragraphs instead of an indent
    c.save()
    return page[0]


@pytest.mark.parametrize("indented", [True, False], ids=["indented", "blank-lines"])
def test_reportlab_report_reads_back_exactly(tmp_path, indented):
    pages = _reportlab_pdf(tmp_path / "report.pdf", indent_first_line=indented)
    assert pages >= 2
    doc = read_documents(tmp_path)[0]
    assert doc.title == TITLE and doc.year == 2026
    assert [p.text for p in doc.paragraphs] == SOURCE  # character for character, across page breaks
    assert doc.paragraphs[6].section_path == "二、2026年重点工作" and doc.paragraphs[5].heading
    text = " ".join(p.text for p in doc.paragraphs)
    assert "— " not in text and "草案" not in text and "1月15日" not in text


def test_compatibility_forms_are_folded_and_no_space_is_invented():
    assert clean_text("ﬁnance \u2f00年 增长 6% 以上，“ 十四五 ”") == "finance一年增长6%以上，“十四五”"
    assert clean_text("PM 2.5 and 5G") == "PM 2.5 and 5G"  # spaces between Latin words stay


def test_scan_without_text_layer_is_refused_with_a_reason(tmp_path):
    pytest.importorskip("reportlab")
    from reportlab.pdfgen import canvas

    c = canvas.Canvas(str(tmp_path / "scan.pdf"))
    c.rect(100, 100, 300, 300, fill=1)  # a picture, no text
    c.save()
    (tmp_path / "ok.txt").write_text("政府工作报告\n\n今年增长5%。\n", encoding="utf-8")
    warnings = []
    docs = read_documents(tmp_path, warn=warnings.append)
    assert [d.doc_id for d in docs] == ["ok"]
    assert any("scan.pdf" in w and "no text" in w for w in warnings)


CHROMIUM = "/usr/bin/chromium"


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed")
def test_bundled_report_printed_by_chromium_reads_as_the_text_file(tmp_path):
    """Printed with Chromium's own header (date and time) and footer (the file's URL and `2/7`)."""
    report = Path(__file__).resolve().parent.parent / "reports" / "shenyang-2024.txt"
    src = tmp_path / "src"
    src.mkdir()
    shutil.copy(report, src / report.name)
    out = tmp_path / "pdf"
    out.mkdir()
    subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", f"--print-to-pdf={out / 'shenyang-2024.pdf'}",
                    (src / report.name).as_uri()], check=True, capture_output=True, timeout=120)
    printed = read_documents(out)[0]
    text = read_documents(src)[0]
    assert printed.title == text.title
    assert [p.text for p in printed.paragraphs] == [p.text for p in text.paragraphs]
    assert [p.section_path for p in printed.paragraphs] == [p.section_path for p in text.paragraphs]


def test_pdf_paragraphs_are_cited_with_their_page_and_open_the_file_there(tmp_path, embedder):
    from kb import store
    from kb.build import build
    from kb.search import search
    from webapp import create_app

    docs = tmp_path / "reports"
    docs.mkdir()
    _reportlab_pdf(docs / "city-2026.pdf")
    (docs / "notes.txt").write_text("这不是报告\n\n今年增长5%。\n", encoding="utf-8")
    build(docs, tmp_path / "index", embedder=embedder)
    index = store.load(tmp_path / "index")
    pages = [p.pages for p in index.documents["city-2026"].paragraphs]
    assert pages[0] == (1, 1) and pages[-1][1] >= 2 and any(a < b for a, b in pages)  # one runs onto the next page
    top = search(index, embedder, "今年经济增长预期目标是多少", k=1)[0]
    assert top.doc_id == "city-2026" and top.page
    first, last = index.documents["city-2026"].paragraphs[top.paragraph - 1].pages
    assert top.page == first
    assert top.citation.endswith(f"第{top.paragraph}段（第{first}页）" if first == last
                                 else f"第{top.paragraph}段（第{first}–{last}页）")
    assert top.file_url == f"/files/city-2026.pdf#page={top.page}"

    client = create_app({"INDEX": str(tmp_path / "index"), "DOCS": str(docs)}).test_client()
    res = client.get(top.file_url.split("#")[0])
    assert res.status_code == 200 and res.mimetype == "application/pdf" and res.data[:5] == b"%PDF-"
    for bad in ("/files/notes.txt", "/files/../reports/city-2026.pdf", "/files/city-2026.txt", "/files/missing.pdf"):
        assert client.get(bad).status_code == 404, bad
    page = client.get("/?q=今年经济增长预期目标是多少").get_data(as_text=True)
    assert f"第{top.page}页" in page and f'href="/files/city-2026.pdf#page={top.page}"' in page
    api = client.get("/api/search", query_string={"q": "今年经济增长预期目标是多少", "k": 1}).get_json()
    assert api["results"][0]["page"] == top.page and api["results"][0]["file_url"] == top.file_url


def _scan(pdf: Path, out: Path, dpi: int) -> None:
    """The PDF as a scanner gives it: every page a picture, no text layer."""
    import pypdfium2

    doc = pypdfium2.PdfDocument(str(pdf))
    pages = [doc[i].render(scale=dpi / 72).to_pil().convert("RGB") for i in range(len(doc))]
    pages[0].save(out, save_all=True, append_images=pages[1:], resolution=dpi)


@pytest.fixture(scope="module")
def scanned_report(tmp_path_factory):
    pytest.importorskip("rapidocr", reason='the OCR extra: pip install -e ".[ocr]"')
    folder = tmp_path_factory.mktemp("scan")
    _reportlab_pdf(folder / "typeset.pdf")
    reports = folder / "reports"
    reports.mkdir()
    _scan(folder / "typeset.pdf", reports / "report.pdf", dpi=300)
    return reports


@pytest.mark.slow
def test_scanned_pdf_is_read_by_ocr_into_the_same_paragraphs(scanned_report, tmp_path, monkeypatch):
    import kb.ocr

    monkeypatch.setenv("KB_OCR_CACHE", str(tmp_path / "ocr"))
    doc = read_documents(scanned_report)[0]
    assert doc.title == TITLE
    assert [p.text for p in doc.paragraphs] == SOURCE  # running header and `— N —` footer dropped too
    assert doc.paragraphs[-1].pages[1] >= 2
    # a rebuild reads the pages from the cache, not by OCR again
    monkeypatch.setattr(kb.ocr, "_engine", lambda: pytest.fail("OCR ran again on an unchanged page"))
    assert [p.text for p in read_documents(scanned_report)[0].paragraphs] == SOURCE


@pytest.mark.slow
def test_page_images_are_read_as_a_report(scanned_report, tmp_path, monkeypatch):
    import pypdfium2

    monkeypatch.setenv("KB_OCR_CACHE", str(tmp_path / "ocr"))
    folder = tmp_path / "images"
    folder.mkdir()
    doc = pypdfium2.PdfDocument(str(scanned_report / "report.pdf"))
    frames = [doc[i].render(scale=300 / 72).to_pil().convert("L") for i in range(len(doc))]
    frames[0].save(folder / "report.tif", save_all=True, append_images=frames[1:], compression="tiff_lzw")
    read = read_documents(folder)[0]
    assert read.title == TITLE and [p.text for p in read.paragraphs] == SOURCE


def test_a_text_layer_keeps_its_quotes_as_printed(tmp_path):
    pytest.importorskip("reportlab")
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    c = canvas.Canvas(str(tmp_path / "q.pdf"))
    c.setFont("STSong-Light", 12)
    c.drawString(72, 700, TITLE)
    body = ['推进"一网通办"改革。', "今年增长5%。", '建设"数字政府"。']
    for n, line in enumerate(body):
        c.drawString(72, 660 - 20 * n, line)
    c.save()
    assert [p.text for p in read_documents(tmp_path)[0].paragraphs] == body


def test_ocr_punctuation_is_made_full_width_only_in_chinese_text():
    from kb.ocr import cjk_punctuation

    read = '中欧班列(沈阳)集结中心全面运营,同心奋斗!推进"一网通办"改革:好。11/30/26, 3:33 AM (see p. 2)'
    assert cjk_punctuation(read) == '中欧班列（沈阳）集结中心全面运营，同心奋斗！推进“一网通办”改革：好。11/30/26, 3:33 AM (see p. 2)'
    assert cjk_punctuation("GDP grew (5%), as planned: yes!") == "GDP grew (5%), as planned: yes!"
