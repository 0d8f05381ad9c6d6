"""Scanned pages to text lines with their positions, offline: PP-OCRv6 as the rapidocr wheel ships it.

Most archives of older reports are scans: PDFs whose pages are pictures, or image files. Each page
is read by the Chinese detection and recognition models inside the rapidocr wheel (no download;
`pip install -e ".[ocr]"`), into the same `Line`s a text PDF gives, so the same furniture
removal and paragraph rebuilding follow (kb/pdf.py). OCR takes seconds a page on a laptop CPU, so
each page's lines are cached by a hash of its pixels (`KB_OCR_CACHE`, else ~/.cache/kb/ocr): a
rebuild reads a page again only if it changed.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
from functools import lru_cache
from pathlib import Path

from .errors import DocumentError
from .pdf import Line, clean_text

OCR_DPI = 200  # pages of a PDF are rendered at this resolution for OCR
_ENGINE_ID = "rapidocr-ppocrv6-small-nocls-1"  # part of the cache key: another engine reads pages afresh


def available() -> bool:
    import importlib.util

    return importlib.util.find_spec("rapidocr") is not None


@lru_cache(maxsize=1)
def _engine():
    try:
        from rapidocr import ModelType, OCRVersion, RapidOCR
    except ImportError as exc:
        raise DocumentError('reading scans needs the OCR extra: pip install -e ".[ocr]"') from exc
    # the models it names are the ones inside its wheel (PP-OCRv6 small, measured against
    # rapidocr-onnxruntime's PP-OCRv4 and Tesseract in the README); nothing is downloaded.
    # No text-direction classifier: report pages are upright, and it turned whole lines of
    # them upside down (read as nothing) on the bundled report's scan.
    engine = RapidOCR(params={"Global.use_cls": False, "Global.log_level": "error",
                              "Det.ocr_version": OCRVersion.PPOCRV6, "Det.model_type": ModelType.SMALL,
                              "Rec.ocr_version": OCRVersion.PPOCRV6, "Rec.model_type": ModelType.SMALL})

    def read(image):
        out = engine(image, use_cls=False)
        if out.boxes is None:
            return []
        return [(box.tolist(), text) for box, text in zip(out.boxes, out.txts)]

    return read


def cache_dir() -> Path:
    from .provision import user_cache

    return Path(os.environ["KB_OCR_CACHE"]) if os.environ.get("KB_OCR_CACHE") else user_cache() / "ocr"


_CJK = "\u3400-\u9fff\uf900-\ufaff"
_FULL = str.maketrans("(),:;!?", "（），：；！？")


def cjk_punctuation(text: str) -> str:
    """OCR reads the punctuation of Chinese text as ASCII: （） as (), ！ as !, and “ ” as " or one
    as the other (read_page makes quotes all ASCII). Brackets, commas, colons, semicolons and
    marks next to a Chinese character are made full-width, as Chinese text prints them ("3:33 AM"
    and "(1)" stay); then, in a paragraph, a quote that opens it or follows punctuation opens, one
    before punctuation or its end closes, and between words they take turns."""
    if not re.search(f"[{_CJK}]", text):
        return text
    text = re.sub(f"(?<=[{_CJK}“”])[,:;!?]|[,:;!?](?=[{_CJK}])", lambda m: m.group().translate(_FULL), text)
    text = re.sub(r"\(([^()]*)\)", lambda m: f"（{m.group(1)}）" if re.search(f"[{_CJK}]", m.group(1))
                  or re.search(f"[{_CJK}]$", text[: m.start()]) else m.group(), text)
    if '"' not in text:
        return text
    out, last = [], None
    for i, ch in enumerate(text):
        if ch in '"“”':
            before, after = text[i - 1] if i else "", text[i + 1] if i + 1 < len(text) else ""
            if not before or before in "，。、；：！？（(《 ":
                ch = "“"
            elif not after or after in "，。、；：！？）)》":
                ch = "”"
            else:
                ch = "”" if last == "“" else "“"
            last = ch
        out.append(ch)
    return "".join(out)


def read_page(image, page: int) -> list[Line]:
    """The text lines of one page image (a PIL image), top to bottom; cached by its pixels."""
    image = image.convert("RGB")
    key = hashlib.sha256(_ENGINE_ID.encode() + repr(image.size).encode() + image.tobytes()).hexdigest()
    path = cache_dir() / f"{key}.json"
    try:
        rows = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        rows = [[[float(v) for v in box[0]] + [float(v) for v in box[2]], text] for box, text in _engine()(image)]
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            tmp.write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")
            tmp.replace(path)
        except OSError:
            pass  # a read-only cache only costs time
    lines = []
    for (x0, top, x1, bottom), text in rows:
        text = clean_text(re.sub("[“”]", '"', text))  # which way each quote faces is decided per paragraph
        if text:
            wide = sum(1 for ch in text if ord(ch) > 0x2e80) + 0.5 * sum(1 for ch in text if ord(ch) <= 0x2e80)
            lines.append(Line(page, text, x0, x1, top, bottom, max((x1 - x0) / max(wide, 1), 1.0), ocr=True))
    return sorted(lines, key=lambda x: (x.top, x.x0))
