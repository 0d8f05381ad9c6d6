"""Why a result matched: the query's terms in the paragraph, and the sentence that answers best.

Done without the model so it costs microseconds per result: terms come from the
same tokenizer BM25 uses, and the best sentence is the one covering most of the
query's terms, preferring the chunk that ranked the paragraph.
"""
from __future__ import annotations

from .chunking import sentences
from .lexical import fold, tokenize


def query_terms(query: str) -> list[str]:
    """Terms worth marking: single characters and letters say too little on their own."""
    return sorted({t for t in tokenize(query) if len(t) >= 2}, key=len, reverse=True)


def highlights(text: str, terms: list[str]) -> list[tuple[int, int]]:
    """Merged character spans of `terms` in `text` (matched in folded form: 瀋陽 marks 沈阳)."""
    folded = fold(text)
    if len(folded) != len(text):
        return []
    spans = []
    for term in terms:
        start = folded.find(term)
        while start >= 0:
            spans.append((start, start + len(term)))
            start = folded.find(term, start + 1)
    merged: list[tuple[int, int]] = []
    for s, e in sorted(spans):
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        else:
            merged.append((s, e))
    return merged


def best_sentence(text: str, spans: list[tuple[int, int]], chunk: tuple[int, int]) -> dict:
    """The sentence with the most highlighted characters; ties go to the best chunk's sentences."""
    best, best_key = None, None
    for s, e in sentences(text) or [(0, len(text))]:
        covered = sum(max(0, min(e, he) - max(s, hs)) for hs, he in spans)
        in_chunk = s < chunk[1] and e > chunk[0]
        key = (covered, in_chunk, -s)
        if best_key is None or key > best_key:
            best, best_key = (s, e), key
    s, e = best
    return {"start": s, "end": e, "text": text[s:e]}
