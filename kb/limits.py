"""What one report file may cost a build: limits no real report comes near, each one a setting.

A reports folder is often a shared or synced folder: one hostile or broken file (a Word file that
inflates to gigabytes, a million empty paragraphs, a PDF of 100,000 pages, a scan that OCRs for an
hour) must cost a warning and that file, never the build or the machine. The 2024 Shenyang report
is 40 kB of text in 70 paragraphs; the longest national report in ../shared/corpora is ~100 kB.

| setting                | default | limits                                                     |
| KB_MAX_FILE_MB         |   512   | a file's size on disk (read only below it)                 |
| KB_MAX_UNZIPPED_MB     |   256   | all parts of a .docx (or any zip-based file) once inflated |
| KB_MAX_TEXT_MB         |    32   | the text of one document, in UTF-8                         |
| KB_MAX_PARAGRAPHS      |  50000  | paragraphs of one document                                 |
| KB_MAX_PDF_PAGES       |   2000  | pages of one PDF                                           |
| KB_MAX_FILE_SECONDS    |   900   | reading one file, OCR included (checked page by page)      |
"""
from __future__ import annotations

import io
import os
import time
import zipfile

from .errors import DocumentError, KbError

DEFAULTS = {"KB_MAX_FILE_MB": 512, "KB_MAX_UNZIPPED_MB": 256, "KB_MAX_TEXT_MB": 32,
            "KB_MAX_PARAGRAPHS": 50_000, "KB_MAX_PDF_PAGES": 2000, "KB_MAX_FILE_SECONDS": 900}
MB = 1 << 20


def limit(name: str) -> float:
    """The setting from the environment, else its default; a bad value is an error that says so."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return DEFAULTS[name]
    try:
        value = float(raw)
    except ValueError:
        raise KbError(f"{name}={raw!r} is not a number") from None
    if value <= 0:
        raise KbError(f"{name} must be above 0")
    return value


class Budget:
    """A time budget for reading one file, checked where the work is long (page by page)."""

    def __init__(self, name: str):
        self.name = name
        self.seconds = limit("KB_MAX_FILE_SECONDS")
        self.started = time.monotonic()

    def check(self) -> None:
        if time.monotonic() - self.started > self.seconds:
            raise DocumentError(f"{self.name}: reading took over {self.seconds:g} s (KB_MAX_FILE_SECONDS)")


def check_file_size(size: int, name: str) -> None:
    cap = limit("KB_MAX_FILE_MB")
    if size > cap * MB:
        raise DocumentError(f"{name}: {size / MB:.0f} MB is over the {cap:g} MB a report may have "
                            f"(KB_MAX_FILE_MB)")


def check_zip(data: bytes, name: str) -> None:
    """Inflate every part of a zip-based file once, counting, without keeping it: the sizes its
    headers declare are checked first, then what the parts really inflate to (a header can lie)."""
    cap = limit("KB_MAX_UNZIPPED_MB") * MB
    too_big = DocumentError(f"{name}: its parts inflate to over {cap / MB:g} MB (KB_MAX_UNZIPPED_MB)")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
            if sum(m.file_size for m in members) > cap:
                raise too_big
            total = 0
            for member in members:
                with archive.open(member) as part:
                    while chunk := part.read(MB):
                        total += len(chunk)
                        if total > cap:
                            raise too_big
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, NotImplementedError) as exc:
        raise DocumentError(f"{name}: not a readable Word file ({type(exc).__name__})") from exc


def check_text(chars: int, paragraphs: int, name: str) -> None:
    cap = limit("KB_MAX_TEXT_MB")
    if chars > cap * MB:
        raise DocumentError(f"{name}: over {cap:g} MB of text (KB_MAX_TEXT_MB)")
    most = limit("KB_MAX_PARAGRAPHS")
    if paragraphs > most:
        raise DocumentError(f"{name}: {paragraphs} paragraphs, over {most:g} (KB_MAX_PARAGRAPHS)")


def check_pages(pages: int, name: str) -> None:
    most = limit("KB_MAX_PDF_PAGES")
    if pages > most:
        raise DocumentError(f"{name}: {pages} pages, over {most:g} (KB_MAX_PDF_PAGES)")
