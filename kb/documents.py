"""Report files to documents: decoded text, a title, numbered paragraphs and their section path.

Paragraph numbers are what a reader counts in the document view (every block of
text, headings included, from 1), so a citation's "第N段" can be found by eye.
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from .errors import DocumentError

SUFFIXES = (".txt", ".md", ".markdown", ".jsonl")
SECTION_SEP = " › "

# Heading patterns of Chinese reports, by level.
_LEVELS = [
    (1, re.compile(r"^(第[一二三四五六七八九十百零]+[章篇部分]|[一二三四五六七八九十]+、)")),
    (2, re.compile(r"^(（[一二三四五六七八九十]+）|\([一二三四五六七八九十]+\)|第[一二三四五六七八九十]+节)")),
    (3, re.compile(r"^(\d{1,2}[\.．、](?!\d)|（\d{1,2}）)")),
]
_SENTENCE_END = "。！？；"
_HEADING_MAX = 40  # a numbered line this short, with no sentence inside, is a heading
_LEAD_IN_MAX = 16  # "做大做强城市经济实力。" opening a paragraph names its topic
_TITLE_WORDS = re.compile(r"(报告|规划|纲要|公报|决定|意见|方案|通知|讲话)$")


@dataclass(frozen=True)
class Paragraph:
    number: int  # 1-based, as a reader counts blocks in the document view
    text: str
    section: tuple[str, ...]  # section path of headings above it (and its own lead-in)
    heading: bool = False  # a heading line: shown and counted, but not a search result

    @property
    def section_path(self) -> str:
        return SECTION_SEP.join(self.section)


@dataclass(frozen=True)
class Document:
    doc_id: str
    title: str
    path: str
    checksum: str
    paragraphs: tuple[Paragraph, ...] = field(default_factory=tuple)
    year: int | None = None  # the year the report speaks from: its "今年"


def decode(data: bytes, name: str = "file") -> str:
    """Decode report bytes: UTF-8 (with or without BOM), else GB18030 (a superset of GBK)."""
    if b"\x00" in data[:8192] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise DocumentError(f"{name}: binary file, not text")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise DocumentError(f"{name}: cannot decode as UTF-16") from exc
    for enc in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(enc)
        except UnicodeDecodeError:
            continue
    raise DocumentError(f"{name}: not UTF-8 or GB18030 text")


def _clean(line: str) -> str:
    line = line.replace("\u3000", " ").replace("\xa0", " ").strip()
    return re.sub(r"[ \t]+", " ", line)


def _is_cjk(ch: str) -> bool:
    return "\u2e80" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff" or "\uff00" <= ch <= "\uffef"


def _join(lines: list[str]) -> str:
    """Join the lines of one wrapped paragraph: no space between Chinese characters."""
    out = lines[0]
    for line in lines[1:]:
        if out and line and (_is_cjk(out[-1]) or _is_cjk(line[0])):
            out += line
        else:
            out += " " + line
    return out


def split_blocks(text: str, markdown: bool = False) -> list[str]:
    """Blocks of text as a reader sees them.

    Chinese reports usually put one paragraph per line; wrapped text separates
    paragraphs by blank lines. A heading always stands alone.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    raw = [_clean(x) for x in text.split("\n")]
    has_blank = any(not x for x in raw) and any(
        raw[i] and raw[i + 1] for i in range(len(raw) - 1)
    )
    blocks: list[str] = []
    pending: list[str] = []

    def flush():
        if pending:
            blocks.append(_join(pending))
            pending.clear()

    for line in raw:
        if not line:
            flush()
            continue
        if (markdown and line.startswith("#")) or _heading_level(line) and _is_heading_line(line):
            flush()
            blocks.append(line)
            continue
        if has_blank:
            pending.append(line)
        else:
            blocks.append(line)
    flush()
    return blocks


def _heading_level(text: str) -> int:
    for level, pat in _LEVELS:
        if pat.match(text):
            return level
    return 0


def _is_heading_line(text: str) -> bool:
    body = text.rstrip("。：:")
    return len(text) <= _HEADING_MAX and not any(c in body for c in _SENTENCE_END)


def _first_sentence(text: str) -> str:
    m = re.search(f"[{_SENTENCE_END}]", text)
    return text[: m.start()] if m else text


def _is_lead_in(block: str) -> bool:
    first = _first_sentence(block)
    return (len(first) <= _LEAD_IN_MAX and len(first) < len(block) - 1
            and block[len(first)] == "。" and "，" not in first)


def _label(sentence: str) -> str:
    """A section label short enough for a breadcrumb: cut at the first comma."""
    sentence = sentence.rstrip("。：:；;")
    for sep in ("，", ","):
        if sep in sentence:
            return sentence.split(sep, 1)[0] + "…"
    return sentence


def _title_from(blocks: list[str], markdown: bool) -> str | None:
    if not blocks:
        return None
    first = blocks[0]
    if markdown and first.startswith("# "):
        return first[2:].strip()
    if len(first) <= 50 and _TITLE_WORDS.search(first) and not any(c in first for c in "。，："):
        return first
    return None


def parse_text(text: str, doc_id: str, path: str = "", title: str | None = None,
               markdown: bool = False) -> Document:
    """Structure decoded text into a Document with numbered paragraphs and section paths."""
    blocks = split_blocks(text, markdown)
    found = _title_from(blocks, markdown)
    if found:
        blocks = blocks[1:]
    title = title or found or Path(path or doc_id).stem
    section: dict[int, str] = {}
    paragraphs = []
    for number, block in enumerate(blocks, start=1):
        level, is_heading, own = 0, False, None
        if markdown and block.startswith("#"):
            hashes = len(block) - len(block.lstrip("#"))
            block = block.lstrip("#").strip()
            level, is_heading = hashes, True
        else:
            level = _heading_level(block)
            if level:
                is_heading = _is_heading_line(block)
            elif section and _is_lead_in(block):
                own = _label(_first_sentence(block))  # a lead-in names this paragraph only
        if level:
            section = {k: v for k, v in section.items() if k < level}
            section[level] = _label(block if is_heading else _first_sentence(block))
        path_ = tuple(section[k] for k in sorted(section))
        if own:
            path_ = path_ + (own,)
        paragraphs.append(Paragraph(number, block, path_, is_heading))
    checksum = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return Document(doc_id, title, path, checksum, tuple(paragraphs), year_of(title, path))


def year_of(*names: str) -> int | None:
    """The year in a title like "2024年沈阳市政府工作报告" or a file name like "2024-beijing"."""
    for name in names:
        m = re.search(r"(?<!\d)(19[4-9]\d|20\d\d)(?!\d)", name or "")
        if m:
            return int(m.group(1))
    return None


def doc_id_for(path: Path, root: Path) -> str:
    """A stable id from the path below the reports folder, without its suffix."""
    rel = path.relative_to(root).with_suffix("")
    return rel.as_posix()


def read_jsonl(path: Path, text: str, warn=None) -> list[Document]:
    """A JSON Lines corpus: one document a line, `{"id", "title", "text"}`."""
    docs = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            doc_id, body = str(row["id"]), str(row["text"])
        except (ValueError, KeyError, TypeError):
            if warn:
                warn(f"skipped {path}, line {n}: expected JSON with \"id\" and \"text\"")
            continue
        docs.append(parse_text(body, doc_id, f"{path}#{n}", title=row.get("title") or None))
    return docs


def read_file(path: Path, root: Path, warn=None) -> list[Document]:
    """The documents in one file: one, or one per line of a JSON Lines corpus."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DocumentError(f"{path}: cannot read ({exc.strerror or exc})") from exc
    text = decode(data, str(path))
    if not text.strip():
        raise DocumentError(f"{path}: empty file")
    if path.suffix.lower() == ".jsonl":
        return read_jsonl(path, text, warn)
    return [parse_text(text, doc_id_for(path, root), str(path),
                       markdown=path.suffix.lower() in (".md", ".markdown"))]


def find_files(root: Path) -> list[Path]:
    """Report files below `root`, in a stable order; hidden files and folders are skipped."""
    root = Path(root)
    if not root.exists():
        raise DocumentError(f"reports folder {root} does not exist")
    if root.is_file():
        return [root]
    files = [p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES
             and not any(part.startswith(".") for part in p.relative_to(root).parts)]
    return sorted(files)


def read_documents(root: Path, warn=None, files: list[Path] | None = None) -> list[Document]:
    """Read every report below `root` (or the given `files` of it); a file that cannot be
    read, or vanished since it was listed, is reported via `warn(message)` and skipped,
    so one bad file never stops the rest."""
    root = Path(root)
    files = find_files(root) if files is None else files
    base = root.parent if root.is_file() else root
    docs: list[Document] = []
    seen: dict[str, str] = {}
    for path in files:
        try:
            found = read_file(path, base, warn)
        except DocumentError as exc:
            if warn:
                warn(f"skipped {exc}")
            continue
        for doc in found:
            if doc.doc_id in seen:
                if warn:
                    warn(f"skipped {doc.path}: its id {doc.doc_id!r} is taken by {seen[doc.doc_id]}")
                continue
            seen[doc.doc_id] = doc.path
            docs.append(doc)
    return docs
