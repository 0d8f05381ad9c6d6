"""Word, PDF and HTML files to blocks of text, as a reader of the original sees its paragraphs.

Each reader returns (blocks, title) where a block is (text, heading level or None). Headings
come from the format itself where it has them (Word's Heading styles, HTML's h1-h6); else
the structure step infers them from the text, as for plain text.
"""
from __future__ import annotations

import io
import re

from .errors import DocumentError

Block = tuple  # (text, heading level or None[, (first page, last page)])
_WS = re.compile(r"[ \t\u3000\xa0]+")


def _clean(text: str) -> str:
    return _WS.sub(" ", text.replace("\u200b", "")).strip()


def read_docx(data: bytes, name: str) -> tuple[list[Block], str | None]:
    try:
        import docx
    except ImportError as exc:  # pragma: no cover - a dependency of kb
        raise DocumentError(f"{name}: python-docx is needed for .docx files") from exc
    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as exc:  # noqa: BLE001 - python-docx raises many kinds for a broken file
        raise DocumentError(f"{name}: not a readable Word file ({type(exc).__name__})") from exc
    blocks: list[Block] = []
    title = (document.core_properties.title or "").strip() or None
    for para in document.paragraphs:
        text = _clean(para.text)
        if not text:
            continue
        style = (para.style.name if para.style is not None else "") or ""
        m = re.match(r"(?:Heading|标题)\s*(\d)", style)
        if style == "Title":
            title = title or text
            continue
        blocks.append((text, int(m.group(1)) if m else None))
    return blocks, title


def read_pdf(data: bytes, name: str) -> tuple[list[Block], str | None]:
    """PDFs, read by the geometry of their characters (kb/pdf.py); pages without a text layer
    (scans) by OCR when the OCR extra is installed, else the file is skipped with a warning."""
    from .pdf import page_lines

    lines, heights, title = page_lines(data, name)
    if title and (re.search(r"\.\w{2,4}$", title) or "://" in title):
        title = None  # a file name or an address, as browsers set it: not the report's title
    return _page_blocks(lines, heights, name), title


def _page_blocks(lines, heights: list[float], name: str) -> list[Block]:
    from .documents import _heading_level, _is_heading_line
    from .pdf import drop_furniture, paragraphs

    lines = drop_furniture(lines, heights)
    if not lines:
        raise DocumentError(f"{name}: no text found on its pages")
    from .ocr import cjk_punctuation

    read_by_ocr = any(x.ocr for x in lines)  # a text layer's punctuation stays as printed
    return [(cjk_punctuation(text) if read_by_ocr else text, None, pages)
            for text, pages in paragraphs(lines, lambda t: bool(_heading_level(t) and _is_heading_line(t)))]


def read_image(data: bytes, name: str) -> tuple[list[Block], str | None]:
    """A scanned report as picture files (a multi-page TIFF is one report): OCR, offline (kb/ocr.py)."""
    from PIL import Image, ImageSequence, UnidentifiedImageError

    from . import ocr

    if not ocr.available():
        raise DocumentError(f'{name}: an image; to read scans, install the OCR extra: pip install -e ".[ocr]"')
    from .limits import Budget, check_pages

    budget = Budget(name)
    try:
        image = Image.open(io.BytesIO(data))
        check_pages(getattr(image, "n_frames", 1), name)
        frames = [f.copy() for f in ImageSequence.Iterator(image)]
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
        raise DocumentError(f"{name}: not a readable image ({exc})") from exc
    lines = []
    for number, frame in enumerate(frames, 1):
        budget.check()
        lines += ocr.read_page(frame, number)
    return _page_blocks(lines, [float(f.height) for f in frames], name), None


def read_html(data: bytes, name: str) -> tuple[list[Block], str | None]:
    from bs4 import BeautifulSoup

    from .documents import decode

    soup = BeautifulSoup(decode(data, name), "html.parser")
    for tag in soup(["script", "style", "nav", "header", "footer", "aside", "form", "noscript", "template"]):
        tag.decompose()
    title = None
    if soup.title and soup.title.string:
        title = _clean(soup.title.string)
    body = soup.find("article") or soup.find("main") or soup.body or soup
    blocks: list[Block] = []
    for el in body.find_all(["h1", "h2", "h3", "h4", "h5", "h6", "p", "li", "td", "pre", "blockquote", "div"]):
        if el.name == "div" and el.find(["p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "li", "table"]):
            continue  # a wrapper: its children are read on their own
        if el.find_parent(["p", "li"]) is not None and el.name in ("p", "div"):
            continue
        text = _clean(el.get_text(" ", strip=True))
        text = re.sub(r"(?<=[\u4e00-\u9fff]) (?=[\u4e00-\u9fff])", "", text)
        if not text:
            continue
        if el.name == "h1":
            title = title if title and blocks else text
            if not blocks:
                continue
        level = int(el.name[1]) - 1 if el.name in ("h2", "h3", "h4", "h5", "h6") else None
        blocks.append((text, level or None))
    return blocks, title


ZIPPED = (".docx",)  # zip containers: their inflated size is checked before they are read (kb/limits.py)
READERS = {".docx": read_docx, ".pdf": read_pdf, ".html": read_html, ".htm": read_html,
           **{s: read_image for s in (".png", ".jpg", ".jpeg", ".tif", ".tiff")}}
