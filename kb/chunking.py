"""Paragraphs to chunks: pieces small enough for the model, never crossing a paragraph.

A short paragraph is one chunk. A long one is cut at sentence ends into
overlapping windows, so a fact near a window's edge is still seen with the
sentence before it. Each chunk keeps its character span in the paragraph, so a
result can show where in the paragraph it matched.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from .documents import SECTION_SEP, Document
from .regions import names_of

DEFAULT_MAX_CHARS = 90  # scripts/tune_chunks.py: 60-150 tried, 90 best on seed_dev
DEFAULT_OVERLAP = 1
MIN_CHARS = 8  # "各位代表：" is shown in the report, but answers nothing  # sentences shared by neighbouring windows
_SENTENCE = re.compile(r"[^。！？；!?;]*[。！？；!?;]+[”’」』）)]*|[^。！？；!?;]+$")


@dataclass(frozen=True)
class ChunkSettings:
    max_chars: int = DEFAULT_MAX_CHARS
    overlap: int = DEFAULT_OVERLAP
    context: bool = True  # prefix the document title and section path for the retrievers


@dataclass(frozen=True)
class Chunk:
    chunk_id: str  # "<doc_id>#p<paragraph>.<n>"
    doc_id: str
    paragraph: int
    start: int  # character span of the chunk in its paragraph's text
    end: int
    text: str
    embed_text: str  # what the retrievers see: context + text

    @property
    def key(self) -> str:
        """Content hash: the same text in the same context is never embedded twice."""
        return hashlib.sha1(self.embed_text.encode("utf-8")).hexdigest()


def sentences(text: str) -> list[tuple[int, int]]:
    """Character spans of the sentences of `text`."""
    return [(m.start(), m.end()) for m in _SENTENCE.finditer(text) if m.group().strip()]


def _pieces(text: str, max_chars: int) -> list[tuple[int, int]]:
    """Sentence spans, with any sentence longer than `max_chars` cut at commas or hard."""
    out = []
    for s, e in sentences(text):
        while e - s > max_chars:
            window = text[s : s + max_chars]
            cut = max(window.rfind("，"), window.rfind(","), window.rfind("、"))
            cut = s + cut + 1 if cut > max_chars // 3 else s + max_chars
            out.append((s, cut))
            s = cut
        out.append((s, e))
    return out


def windows(text: str, max_chars: int, overlap: int) -> list[tuple[int, int]]:
    """Spans of overlapping sentence windows covering `text`."""
    if len(text) <= max_chars:
        return [(0, len(text))]
    pieces = _pieces(text, max_chars)
    spans = []
    i = 0
    while i < len(pieces):
        j = i
        while j + 1 < len(pieces) and pieces[j + 1][1] - pieces[i][0] <= max_chars:
            j += 1
        spans.append((pieces[i][0], pieces[j][1]))
        if j == len(pieces) - 1:
            break
        i = max(i + 1, j + 1 - overlap)
    return spans


def relative_year(doc: Document, section_path: str) -> str:
    """"今年" or "去年" for a section headed by the report's own year or the year before.

    People ask "去年建了多少高标准农田" of a 2024 report whose review is headed
    "一、2023年工作回顾": the words they use are relative to the report.
    """
    if not doc.year or not section_path:
        return ""
    top = section_path.split(SECTION_SEP)[0]
    m = re.search(r"(?<!\d)(\d{4})年", top)
    if not m:
        return ""
    return {doc.year: "今年", doc.year - 1: "去年"}.get(int(m.group(1)), "")


def heading_of(title: str, section_path: str) -> str:
    """The heading a paragraph sits under, which the dense retriever sees before each of its chunks
    and the reader (kb/rerank.py) before each passage. In a report that is the top-level section,
    which tells last year's review from this year's plan; under no section (an article, a report's
    opening) it is the document's title. An article's later paragraphs name their subject as 本鱼 or
    该校, so without its title a question naming the subject finds the opening paragraph that names
    it, not the paragraph that answers (docs/quality.md, twelfth session: dense R@1 0.860 -> 0.927 on
    CMRC trial's articles cut in two)."""
    return section_path.split(SECTION_SEP)[0] if section_path else title


def lexical_text(doc: Document, chunk: Chunk) -> str:
    """What BM25 sees: the chunk with its document's title and region (in Chinese and English)
    and its full section path, so words of a heading ("碳达峰") or a place named in a
    question ("北京", "Beijing") match the paragraphs below them."""
    section = doc.paragraphs[chunk.paragraph - 1].section_path
    place = " ".join(names_of(doc.region))
    return f"{doc.title} {place} {section} {relative_year(doc, section)}\n{chunk.text}"


def chunk_document(doc: Document, settings: ChunkSettings = ChunkSettings()) -> list[Chunk]:
    chunks = []
    for para in doc.paragraphs:
        if para.heading or len(para.text) < MIN_CHARS:
            continue
        ctx = heading_of(doc.title, para.section_path) if settings.context else ""
        for n, (s, e) in enumerate(windows(para.text, settings.max_chars, settings.overlap)):
            text = para.text[s:e]
            embed_text = f"{ctx}\n{text}" if ctx else text
            chunks.append(Chunk(f"{doc.doc_id}#p{para.number}.{n}", doc.doc_id, para.number,
                                s, e, text, embed_text))
    return chunks
