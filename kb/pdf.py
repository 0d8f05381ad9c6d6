"""Text PDFs to the paragraphs a reader sees: characters by position, lines by geometry, no page furniture.

A PDF holds glyphs at positions, not paragraphs. Text extractors that read it as a stream put spaces
between Chinese and digits ("增长 6% 以上"), cut a paragraph at every page break, and keep the running
header and footer a browser prints on every page (the date, the file's URL, `7/15`) glued to real
text. Here (pdfplumber, over pdfminer.six) each page's characters are grouped into lines; lines that
repeat at the top or bottom of the pages, or are page numbers there, are dropped; and lines are joined
into paragraphs across pages the way they look: a paragraph starts after a blank line, at an indented
line, at a heading, or after a line that stops short of the right margin.
"""
from __future__ import annotations

import io
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass

from .errors import DocumentError

# characters whose compatibility form is what the reader sees: ligatures (ﬁ), Kangxi and CJK radicals
# that fonts map ideographs to (⼀ for 一), CJK compatibility ideographs; full-width punctuation is
# kept as printed (NFKC would turn ， into ,)
_COMPAT = re.compile("[\ufb00-\ufb4f\u2e80-\u2fdf\uf900-\ufaff]")
_CJK = "\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef\u3000-\u303f"
# a space that is not in the text: next to a Chinese character or full-width punctuation
_SPACE_BY_CJK = re.compile(f"(?<=[{_CJK}]) +| +(?=[{_CJK}])")
PAGE_NUMBER = re.compile(r"[-—–一_~\s]*\d+[-—–一_~\s]*|\d+\s*/\s*\d+|第\s*\d+\s*页(\s*[,，/]?\s*共\s*\d+\s*页)?|"
                         r"(page|p\.)\s*\d+(\s*(of|/)\s*\d+)?|\d+\s*页", re.I)
_PARAGRAPH_END = tuple("。！？；：!?;:”」』）)")
_GOES_ON = tuple("，、,（(“《—-")
FURNITURE_ZONE = 0.1  # the top and bottom tenth of a page: where running headers and footers are


@dataclass(frozen=True)
class Line:
    page: int  # from 1
    text: str
    x0: float
    x1: float
    top: float
    bottom: float
    size: float  # the median character width: the unit of indents and margins
    ocr: bool = False  # read from a picture of the page (kb/ocr.py)


def clean_text(text: str) -> str:
    text = _COMPAT.sub(lambda m: unicodedata.normalize("NFKC", m.group()), text)
    return _SPACE_BY_CJK.sub("", re.sub(r"[ \t\u00a0]+", " ", text)).strip()


def _line_text(chars: list[dict], size: float) -> str:
    """A line's characters in order, with a space where the PDF has one or leaves a gap wider than
    the line's usual spacing by a fifth of a character (a word space); justified text spaces every
    character out, so a fixed gap would split "5.5%" there."""
    glyphs = sorted((c for c in chars if c["text"]), key=lambda c: c["x0"])
    gaps = sorted(b["x0"] - a["x1"] for a, b in zip(glyphs, glyphs[1:]))
    usual = gaps[len(gaps) // 2] if gaps else 0.0
    out, prev = [], None
    for c in glyphs:
        if prev is not None and c["x0"] - prev["x1"] > usual + 0.2 * size:
            out.append(" ")
        out.append(c["text"])
        prev = c
    return "".join(out)


def page_lines(data: bytes, name: str) -> tuple[list[Line], list[float], str | None]:
    """Every text line of the PDF with its position; the pages' heights; the metadata title."""
    try:
        import pdfplumber
        from pdfminer.pdfparser import PDFSyntaxError
        from pdfplumber.utils.exceptions import PdfminerException
    except ImportError as exc:  # pragma: no cover - a dependency of kb
        raise DocumentError(f"{name}: pdfplumber is needed for .pdf files") from exc
    from .limits import Budget, check_pages

    budget = Budget(name)
    lines: list[Line] = []
    heights: list[float] = []
    scanned: list[int] = []  # pages with no text layer
    try:
        with pdfplumber.open(io.BytesIO(data)) as pdf:
            title = (pdf.metadata or {}).get("Title")
            check_pages(len(pdf.pages), name)
            for number, page in enumerate(pdf.pages, 1):
                budget.check()
                heights.append(float(page.height))
                if not any(c["text"].strip() for c in page.chars):
                    scanned.append(number)
                    continue
                for row in page.extract_text_lines(strip=True, return_chars=True):
                    widths = sorted(c["x1"] - c["x0"] for c in row["chars"] if c["text"].strip())
                    size = widths[len(widths) // 2] if widths else float(row["bottom"] - row["top"])
                    text = clean_text(_line_text(row["chars"], size))
                    if not text:
                        continue
                    lines.append(Line(number, text, float(row["x0"]), float(row["x1"]), float(row["top"]),
                                      float(row["bottom"]), max(size, 1.0)))
    except (PdfminerException, PDFSyntaxError, ValueError, KeyError, TypeError, OSError) as exc:
        raise DocumentError(f"{name}: not a readable PDF ({exc})") from exc
    if isinstance(title, bytes):
        title = title.decode("utf-8", "ignore")
    if scanned:
        lines = sorted(lines + _ocr_pages(data, name, scanned, heights, budget), key=lambda x: x.page)
    return lines, heights, (title or "").strip() or None


def _ocr_pages(data: bytes, name: str, pages: list[int], heights: list[float], budget) -> list[Line]:
    """The pages that are pictures, read by OCR (kb/ocr.py); `heights` become theirs in pixels."""
    from . import ocr

    if not ocr.available():
        raise DocumentError(f'{name}: the PDF has no text layer (scanned?); to read scans, install the OCR '
                            f'extra: pip install -e ".[ocr]"')
    import pypdfium2
    from tqdm import tqdm

    pdf = pypdfium2.PdfDocument(data)
    lines: list[Line] = []
    for number in tqdm(pages, desc=f"OCR {name.rsplit('/', 1)[-1]}", unit="page", disable=None, leave=False):
        budget.check()
        image = pdf[number - 1].render(scale=ocr.OCR_DPI / 72).to_pil()
        heights[number - 1] = float(image.height)
        lines += ocr.read_page(image, number)
    return lines


def _shape(text: str) -> str:
    """A line with its figures blanked: a running header is the same on every page but for them."""
    return re.sub(r"\d+", "#", re.sub(r"[-—–一_~]+", "-", re.sub(r"\s+", "", text)))


def drop_furniture(lines: list[Line], heights: list[float]) -> list[Line]:
    """Lines in a page's top or bottom tenth that are page numbers, or whose shape is there on at
    least half the pages (two at least): running titles, print dates, file URLs, `— 3 —`."""
    pages = len(heights)

    def in_zone(line: Line) -> bool:
        h = heights[line.page - 1]
        return line.top < h * FURNITURE_ZONE or line.bottom > h * (1 - FURNITURE_ZONE)

    shapes = Counter()
    for page in range(1, pages + 1):
        shapes.update({_shape(x.text) for x in lines if x.page == page and in_zone(x)})
    repeated = {s for s, n in shapes.items() if n >= 2 and n >= pages / 2}
    return [x for x in lines if not (in_zone(x) and (_shape(x.text) in repeated or PAGE_NUMBER.fullmatch(x.text)))]


def paragraphs(lines: list[Line], is_heading) -> list[tuple[str, tuple[int, int]]]:
    """Lines joined into paragraphs, across pages, by how they sit on the page; each with the
    first and last page it is printed on."""
    if not lines:
        return []
    by_page: dict[int, list[Line]] = {}
    for x in lines:
        by_page.setdefault(x.page, []).append(x)
    # each page's text block: its left edge and right margin, and its line pitch
    left = {p: min(x.x0 for x in ls) for p, ls in by_page.items()}
    right = {p: sorted(x.x1 for x in ls)[int(len(ls) * 0.9)] if len(ls) > 3 else max(x.x1 for x in ls)
             for p, ls in by_page.items()}
    gaps = sorted(b.top - a.top for a, b in zip(lines, lines[1:]) if a.page == b.page and b.top > a.top)
    pitch = gaps[len(gaps) // 4] if gaps else 0.0  # a lower quartile: the pitch within a paragraph
    for p, ls in by_page.items():
        if not any(right[p] - x.x1 <= 1.5 * x.size and not x.text.endswith(_PARAGRAPH_END)
                   and (not pitch or nxt.top - x.top <= 1.6 * pitch) for x, nxt in zip(ls, ls[1:])):
            # no line reaches the margin and goes on to the next: nothing wraps on this page, so no
            # line is "full" (a short memo, a title above one-line paragraphs)
            right[p] = max(x.x1 for x in ls) + 10 * max(x.size for x in ls)

    out: list[list[Line]] = []
    prev: Line | None = None
    for x in lines:
        start = prev is None or is_heading(x.text) or is_heading(prev.text)
        if not start:
            indented = x.x0 > left[x.page] + 1.5 * x.size
            # a line that stops short: a browser leaves up to three characters at a line's end when
            # the next may not begin a line (“保交 / 楼”), so a short gap ends a paragraph only after
            # a full stop; and a line broken after a comma goes on whatever its length
            gap = (right[prev.page] - prev.x1) / prev.size
            short = (gap > 4 and not prev.text.endswith(_GOES_ON)) or (gap > 1.5 and prev.text.endswith(_PARAGRAPH_END))
            blank = x.page == prev.page and pitch and x.top - prev.top > 1.6 * pitch
            start = indented or short or bool(blank)
        if start:
            out.append([x])
        else:
            out[-1].append(x)
        prev = x
    return [(_join_wrapped([x.text for x in ls]), (ls[0].page, ls[-1].page)) for ls in out]


def _join_wrapped(parts: list[str]) -> str:
    """Wrapped lines back into one: no space where a line broke in Chinese text or inside a number,
    one where it broke between two words."""
    text = parts[0]
    for part in parts[1:]:
        end, start = text[-1], part[0]
        if end.isascii() and start.isascii() and (
                (end.isalpha() or end in ",;:") and (start.isalnum() or start == "(")
                or end == "." and start.isalpha()):  # "5." + "5%" is one number; "2024." + "The" two words
            text += " " + part
        else:
            text += part
    return clean_text(text)
