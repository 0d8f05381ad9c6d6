"""Report files to documents: decoded text, a title, numbered paragraphs and their section path.

Paragraph numbers are what a reader counts in the document view (every block of
text, headings included, from 1), so a citation's "第N段" can be found by eye.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from .errors import DocumentError
from .regions import names_of, region_from_name, region_from_title, short_name

SUFFIXES = (".txt", ".md", ".markdown", ".jsonl", ".docx", ".pdf", ".html", ".htm",
            ".png", ".jpg", ".jpeg", ".tif", ".tiff")  # pictures: scanned pages, read by OCR
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
# a title ends on what the text is, or on a short note after it: "1964年国务院政府工作报告（摘要）"
_TITLE_WORDS = re.compile(r"(报告|规划|纲要|公报|决定|意见|方案|通知|讲话)(?:[（(][^（）()]{1,8}[）)])?$")


@dataclass(frozen=True)
class Paragraph:
    number: int  # 1-based, as a reader counts blocks in the document view
    text: str
    section: tuple[str, ...]  # section path of headings above it (and its own lead-in)
    heading: bool = False  # a heading line: shown and counted, but not a search result
    pages: tuple[int, int] | None = None  # first and last page it is printed on (PDFs)

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
    region: str | None = None  # short name of the place it is about: 沈阳, 北京, 全国


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
    lines = [x for x in raw if x]
    ended = sum(1 for x in lines if x[-1] in "。！？：；.!?:;”\"」』)）") / max(1, len(lines))
    # Hard-wrapped text: paragraphs separated by blank lines, most lines stopping mid-sentence.
    inner_blank = any(not x for x in raw[raw.index(lines[0]):len(raw) - raw[::-1].index(lines[-1])]) if lines else False
    has_blank = inner_blank and ended < 0.5
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


def _is_short_heading(block: str, following: str) -> bool:
    """A short line of one clause (no comma), ending in 。 or nothing, before a longer paragraph."""
    body = block.rstrip("。")
    return (len(block) <= _LEAD_IN_MAX + 4 and len(following) > 2 * len(block) + 10
            and not any(c in body for c in "，。！？：；:,") and not block.endswith(("：", "！", ":"))
            and not _heading_level(following) and not is_furniture(block))


def _is_bare_heading(block: str, following: str) -> bool:
    """A short line with no punctuation at all before a longer paragraph: a part's heading in a
    report that does not number its parts ("2024年工作回顾", "“十五五”时期的主要目标任务")."""
    return (len(block) <= _LEAD_IN_MAX + 8 and len(following) > 2 * len(block) + 10
            and not any(c in block for c in "，。！？：；:,、—…") and not any(c.isspace() for c in block)
            and _heading_level(following) != 1 and not is_furniture(block))


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


# Web copies of reports carry page furniture: buttons, font-size controls, source and date lines.
_FURNITURE = re.compile(
    r"^(下载|打印|全屏|收藏|分享|分享到.*|加大|还原|减小|关闭|返回顶部|【?字号[：:].*|[【】]|"
    r"(来源|时间|发布时间|发布日期|日期|作者|编辑|责任编辑|浏览次数|点击数|访问量)[：:].{0,40}|"
    r"(扫一扫|打印本页|关闭窗口|【打印】|【关闭】).*)$")


# A news site's photo caption over the report: "省长…作政府工作报告。本报记者 朱江 摄".
_PHOTO_CAPTION = re.compile(r"记者\s*[\u4e00-\u9fff·]{1,4}(?:\s*[\u4e00-\u9fff·]{1,4})?\s*摄[。]?$")


def is_furniture(block: str) -> bool:
    return len(block) <= 60 and bool(_FURNITURE.match(block) or _PHOTO_CAPTION.search(block))


def text_blocks(text: str, markdown: bool = False) -> list[tuple[str, int | None]]:
    """Plain text or Markdown as (block, heading level or None to infer) pairs."""
    out = []
    for block in split_blocks(text, markdown):
        if markdown and block.startswith("#"):
            out.append((block.lstrip("#").strip(), len(block) - len(block.lstrip("#"))))
        else:
            out.append((block, None))
    return out


def _find_title(blocks: list[tuple[str, int | None]]) -> int | None:
    """Index of the title among the first blocks: a Markdown H1, or a short line naming a report."""
    for i, (block, level, *_) in enumerate(blocks[:12]):
        if level == 1 and i == 0:
            return i
        if len(block) <= 50 and _TITLE_WORDS.search(block) and not any(c in block for c in "。，："):
            return i
    return None


def structure(blocks: list[tuple], doc_id: str, path: str = "",
              title: str | None = None, checksum: str = "", title_hint: str | None = None) -> Document:
    """Blocks to a Document: the title found, furniture dropped, paragraphs numbered,
    each with its section path. A block is (text, level) or (text, level, pages); `level`
    None means: infer a heading from the text; `pages` (first, last) are where a PDF prints it."""
    blocks = [(b[0], b[1], b[2] if len(b) > 2 else None) for b in blocks if b[0] and not is_furniture(b[0])]
    found = _find_title(blocks)
    if found is not None:
        found_title = blocks[found][0]
        blocks = blocks[found + 1:] if found < 3 or all(
            len(b[0]) <= 60 for b in blocks[:found]) else blocks[:found] + blocks[found + 1:]
    else:
        found_title = None
    if title_hint and title_hint.lower() in ("untitled", "无标题", "document"):
        title_hint = None
    title = title or found_title or title_hint or Path(path or doc_id).stem
    section: dict[int, str] = {}
    paragraphs = []
    short_level = 0  # level of the last unnumbered short heading line, for its siblings
    # Where no numbered part (一、…) has come yet, in a text that marks no levels (Markdown, Word styles), a
    # part is headed by a bare line once the text has begun (after a sentence: not the speaker's name under
    # the title): a report that numbers none of its parts, or only those after an unnumbered first one
    bare_parts = not any(b[1] for b in blocks)
    begun = False
    for number, (block, explicit, pages) in enumerate(blocks, start=1):
        level, is_heading, own = 0, False, None
        following = blocks[number][0] if number < len(blocks) else ""
        if explicit:
            level, is_heading = explicit, True
        else:
            level = _heading_level(block)
            if level:
                is_heading = _is_heading_line(block)
                short_level = 0
                bare_parts = bare_parts and not (level == 1 and is_heading)
            elif bare_parts and begun and _is_bare_heading(block, following):
                level, is_heading, short_level = 1, True, 0
            elif section and _is_short_heading(block, following):
                # "加快促进农民增收。" on a line of its own above its paragraphs: a sub-heading
                level = short_level or max(section) + 1
                short_level, is_heading = level, True
            elif section and _is_lead_in(block):
                own = _label(_first_sentence(block))  # a lead-in names this paragraph only
        if level:
            section = {k: v for k, v in section.items() if k < level}
            section[level] = _label(block if is_heading else _first_sentence(block))
        path_ = tuple(section[k] for k in sorted(section))
        if own:
            path_ = path_ + (own,)
        paragraphs.append(Paragraph(number, block, path_, is_heading, pages))
        begun = begun or any(c in block for c in _SENTENCE_END)
    if not checksum:
        checksum = hashlib.sha256("\n".join(b[0] for b in blocks).encode("utf-8")).hexdigest()
    stem = Path(path.split("#")[0]).stem if path else doc_id
    if "#" in path:  # a line of a JSON Lines corpus: the corpus's file name says nothing of it
        stem = ""
    region = region_from_title(title) or region_from_name(stem)
    return Document(doc_id, title, path, checksum, tuple(paragraphs), year_of(title, stem), region)


def parse_text(text: str, doc_id: str, path: str = "", title: str | None = None,
               markdown: bool = False) -> Document:
    """Structure decoded text into a Document with numbered paragraphs and section paths."""
    checksum = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return structure(text_blocks(text, markdown), doc_id, path, title, checksum)


def year_of(*names: str) -> int | None:
    """The year in a title like "2024年沈阳市政府工作报告" or a file name like "2024-beijing"."""
    for name in names:
        m = re.search(r"(?<![\dA-Za-z])(19[4-9]\d|20\d\d)(?!\d)", name or "")
        if m:
            return int(m.group(1))
    return None


def title_note(title: str, year: int | None, region: str | None = None) -> str:
    """"（广东省，2026年）" after a title that gives neither its report's place nor its year, "（2024年）"
    or "（广东省）" after one that lacks one of them, else "": every national report, and some
    provinces' (Guangdong's, Guizhou's 2026), are titled 政府工作报告, and a citation or a list of
    reports must say whose and which year's. The country is not named (a national report is the
    one with no place)."""
    place = region if region and region != "全国" and not any(n in title for n in names_of(region)) else None
    parts = [names_of(place)[1] if place and len(names_of(place)) > 1 else place,
             f"{year}年" if year and str(year) not in title else None]
    parts = [p for p in parts if p]
    return f"（{'，'.join(parts)}）" if parts else ""


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


def file_key(path: Path, data: bytes | None = None) -> str:
    """What a skipped file is remembered by: its bytes' checksum (size and time when it was too big
    to read)."""
    if data is None:
        st = path.stat()
        return f"size-{st.st_size}-mtime-{st.st_mtime_ns}"
    return hashlib.sha256(data).hexdigest()


def read_file(path: Path, root: Path, warn=None, known: dict[str, str] | None = None,
              failed=None) -> list[Document]:
    """The documents in one file: one, or one per line of a JSON Lines corpus.

    A file over a limit (kb/limits.py) or unreadable raises DocumentError; `failed(path, key,
    reason)` hears of it first, so the next build can skip it unread while it is unchanged:
    `known` maps such keys to the reason they were skipped."""
    from . import limits

    key = None
    try:
        try:
            size = path.stat().st_size
        except OSError as exc:
            raise DocumentError(f"{path}: cannot read ({exc.strerror or exc})") from exc
        if size > limits.limit("KB_MAX_FILE_MB") * limits.MB:
            key = file_key(path)
            if known and key in known:
                raise DocumentError(f"{path}: {known[key]} (unchanged since; not read again)")
            limits.check_file_size(size, str(path))
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise DocumentError(f"{path}: cannot read ({exc.strerror or exc})") from exc
        key = file_key(path, data)
        if known and key in known:
            raise DocumentError(f"{path}: {known[key]} (unchanged since; not read again)")
        docs = _read_data(path, root, data, key, warn)
        for doc in docs:
            limits.check_text(sum(len(p.text) for p in doc.paragraphs), len(doc.paragraphs),
                              doc.path if len(docs) > 1 else str(path))
        return docs
    except DocumentError as exc:
        if failed and key:
            failed(path, key, str(exc).removeprefix(f"{path}: "))
        raise


def _read_data(path: Path, root: Path, data: bytes, checksum: str, warn) -> list[Document]:
    from . import limits

    if not data.strip():
        raise DocumentError(f"{path}: empty file")
    suffix = path.suffix.lower()
    from .formats import READERS, ZIPPED

    if suffix in READERS:
        if suffix in ZIPPED:
            limits.check_zip(data, str(path))
        blocks, title = READERS[suffix](data, str(path))
        if not blocks:
            raise DocumentError(f"{path}: no text found")
        limits.check_text(sum(len(b[0]) for b in blocks), len(blocks), str(path))
        return [structure(blocks, doc_id_for(path, root), str(path), checksum=checksum, title_hint=title)]
    if suffix != ".jsonl" and len(data) > 4 * limits.limit("KB_MAX_TEXT_MB") * limits.MB:
        limits.check_text(len(data), 0, str(path))  # over the limit in any encoding
    text = decode(data, str(path))
    if not text.strip():
        raise DocumentError(f"{path}: empty file")
    if suffix == ".jsonl":
        return read_jsonl(path, text, warn)
    limits.check_text(len(text.encode("utf-8")), 0, str(path))
    return [parse_text(text, doc_id_for(path, root), str(path),
                       markdown=path.suffix.lower() in (".md", ".markdown"))]


def following_links() -> bool:
    """Whether links that leave the reports folder are followed (`--follow-links`, KB_FOLLOW_LINKS=1)."""
    return os.environ.get("KB_FOLLOW_LINKS", "").strip().lower() in ("1", "yes", "true", "on")


def find_files(root: Path, warn=None, follow_links: bool | None = None) -> list[Path]:
    """Report files below `root`, in a stable order; hidden files and folders are skipped.

    The folder is a boundary: a file is read only if its real path lies inside it. A link that
    leaves it (a file, or a folder of files) is skipped with a warning naming it, unless links
    are followed; a loop of linked folders is walked once."""
    root = Path(root)
    if not root.exists():
        raise DocumentError(f"reports folder {root} does not exist")
    if root.is_file():
        return [root]
    follow = following_links() if follow_links is None else follow_links
    inside = root.resolve()
    files, walked = [], set()
    for folder, dirs, names in os.walk(root, followlinks=follow):
        here = Path(folder)
        real = here.resolve()
        if real in walked:
            dirs[:] = []
            continue
        walked.add(real)
        for d in list(dirs):
            link = here / d
            if d.startswith("."):
                dirs.remove(d)
            elif not follow and link.is_symlink() and not link.resolve().is_relative_to(inside) and warn:
                warn(f"skipped {link}: a link to {link.resolve()}, outside the reports folder "
                     f"(kb build --follow-links reads it)")
        for name in names:
            path = here / name
            if name.startswith(".") or path.suffix.lower() not in SUFFIXES or not path.is_file():
                continue
            if not follow and not path.resolve().is_relative_to(inside):
                if warn:
                    warn(f"skipped {path}: a link to {path.resolve()}, outside the reports folder "
                         f"(kb build --follow-links reads it)")
                continue
            files.append(path)
    return sorted(files)


META_SUFFIX = ".meta.json"
MANIFEST = "manifest.csv"


def _side_metadata(path: Path, root: Path, manifests: dict[Path, dict]) -> dict:
    """Metadata a user gave beside a report: `<file>.meta.json`, or a row of the folder's
    manifest.csv (columns file, title, year, region). The file wins over the manifest."""
    folder = path.parent
    if folder not in manifests:
        rows: dict = {}
        try:
            import csv

            with open(folder / MANIFEST, encoding="utf-8-sig", newline="") as fh:
                rows = {row.get("file", ""): row for row in csv.DictReader(fh)}
        except (OSError, UnicodeDecodeError, csv.Error):
            rows = {}
        manifests[folder] = rows
    meta = dict(manifests[folder].get(path.name, {}))
    side = path.with_name(path.name + META_SUFFIX)
    if side.is_file():
        try:
            meta.update(json.loads(side.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            pass
    return {k: v for k, v in meta.items() if k in ("title", "year", "region") and v not in (None, "")}


def with_metadata(doc: Document, meta: dict) -> Document:
    from dataclasses import replace

    if not meta:
        return doc
    year = meta.get("year")
    try:
        year = int(year) if year is not None else doc.year
    except (TypeError, ValueError):
        year = doc.year
    title = meta.get("title") or doc.title
    region = short_name(meta.get("region")) or region_from_title(title) or doc.region
    return replace(doc, title=title, year=year, region=region)


def read_documents(root: Path, warn=None, files: list[Path] | None = None,
                   known: dict[str, str] | None = None, failed=None) -> list[Document]:
    """Read every report below `root` (or the given `files` of it); a file that cannot be
    read, is over a limit, or vanished since it was listed, is reported via `warn(message)`
    and skipped, so one bad file never stops the rest (`known`, `failed`: see read_file)."""
    root = Path(root)
    files = find_files(root, warn) if files is None else files
    base = root.parent if root.is_file() else root
    docs: list[Document] = []
    seen: dict[str, str] = {}
    manifests: dict[Path, dict] = {}
    for path in files:
        try:
            found = read_file(path, base, warn, known, failed)
        except DocumentError as exc:
            if warn:
                warn(f"skipped {exc}")
            continue
        meta = _side_metadata(path, base, manifests) if path.suffix.lower() != ".jsonl" else {}
        for doc in found:
            doc = with_metadata(doc, meta)
            if doc.doc_id in seen:
                if warn:
                    warn(f"skipped {doc.path}: its id {doc.doc_id!r} is taken by {seen[doc.doc_id]}")
                continue
            seen[doc.doc_id] = doc.path
            docs.append(doc)
    return docs
