"""Query to cited results: one result per paragraph, with where it can be read and cited."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from urllib.parse import quote

import numpy as np

from .errors import KbError
from .store import Index

MAX_QUERY_CHARS = 1000
MAX_K = 100
CANDIDATES_PER_RESULT = 5  # chunks fetched per wanted result, before grouping by paragraph


class QueryError(KbError):
    """The query cannot be searched as given."""


@dataclass(frozen=True)
class SearchResult:
    rank: int
    score: float
    doc_id: str
    title: str
    section: str
    paragraph: int
    chunk_id: str
    text: str  # the whole paragraph: what the user reads and cites
    citation: str
    url: str

    def to_dict(self) -> dict:
        return asdict(self)


def clean_query(query: str) -> str:
    if query is None or not str(query).strip():
        raise QueryError("the query is empty: type a question or some words to search for")
    query = " ".join(str(query).split())
    if len(query) > MAX_QUERY_CHARS:
        raise QueryError(f"the query is too long ({len(query)} characters; at most {MAX_QUERY_CHARS})")
    return query


def check_k(k) -> int:
    try:
        k = int(k)
    except (TypeError, ValueError):
        raise QueryError(f"k must be a whole number from 1 to {MAX_K}, not {k!r}") from None
    if not 1 <= k <= MAX_K:
        raise QueryError(f"k must be from 1 to {MAX_K}, not {k}")
    return k


def citation(title: str, section: str, paragraph: int) -> str:
    return f"《{title}》{section + ' ' if section else ''}第{paragraph}段"


def paragraph_url(doc_id: str, paragraph: int) -> str:
    return f"/docs/{quote(doc_id, safe='/')}#p{paragraph}"


def search(index: Index, embedder, query: str, k: int = 10) -> list[SearchResult]:
    """Dense search over chunks, grouped so each paragraph appears once at its best chunk."""
    query = clean_query(query)
    k = check_k(k)
    n = index.faiss_index.ntotal
    if n == 0:
        return []
    qv = embedder.encode_queries([query])
    scores, ids = index.faiss_index.search(np.ascontiguousarray(qv, np.float32),
                                           min(n, k * CANDIDATES_PER_RESULT))
    results: list[SearchResult] = []
    seen: set[tuple[str, int]] = set()
    for score, i in zip(scores[0], ids[0]):
        if i < 0:
            continue
        chunk = index.chunks[i]
        where = (chunk.doc_id, chunk.paragraph)
        if where in seen:
            continue
        seen.add(where)
        doc = index.documents[chunk.doc_id]
        para = doc.paragraphs[chunk.paragraph - 1]
        results.append(SearchResult(
            rank=len(results) + 1, score=round(float(score), 4), doc_id=doc.doc_id,
            title=doc.title, section=para.section_path, paragraph=para.number,
            chunk_id=chunk.chunk_id, text=para.text,
            citation=citation(doc.title, para.section_path, para.number),
            url=paragraph_url(doc.doc_id, para.number)))
        if len(results) == k:
            break
    return results
