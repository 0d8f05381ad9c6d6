"""Which reports a reader may see: the `[access]` table of the sign-in file against each report's folder.

The answer is a set of document ids; `Index.readable` turns it into a view of the index that holds
only those documents and searches only their chunks, so that everything computed from it — ranking,
highlights, facets, counts, compare rows, `/docs` pages, errors — is computed from what the reader may see.
"""
from __future__ import annotations

from pathlib import Path

from .documents import Document


def place(doc: Document, docs_root: Path | None) -> str:
    """The report's path below the reports folder ("internal/draft.txt"); its id (which is that path
    without the suffix) when the index was built from elsewhere."""
    if docs_root is not None:
        try:
            return Path(doc.path).resolve().relative_to(docs_root.resolve()).as_posix()
        except (ValueError, OSError):
            pass
    return doc.doc_id


def governing_entry(where: str, access: dict[str, tuple[str, ...]]) -> str | None:
    """The most specific `[access]` entry over a report's place: a folder it is below, or the file itself."""
    matches = [e for e in access if (e.endswith("/") and where.startswith(e)) or _stem(e) == _stem(where)]
    return max(matches, key=len) if matches else None


def _stem(path: str) -> str:
    return path.rsplit(".", 1)[0] if "." in path.rsplit("/", 1)[-1] else path


def readable_documents(documents, access: dict[str, tuple[str, ...]], groups, docs_root: Path | None) -> frozenset[str]:
    """Ids of the documents a member of `groups` may read."""
    groups = set(groups)
    out = set()
    for doc in documents:
        entry = governing_entry(place(doc, docs_root), access)
        if entry is None or groups & set(access[entry]):
            out.add(doc.doc_id)
    return frozenset(out)
