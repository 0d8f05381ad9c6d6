"""The live index of a running server, swapped for a newer version without a restart.

A build switches the live version atomically (index/CURRENT, or the Milvus alias); the holder
notices (at most once per `reload_seconds`), loads the new version beside the old one and swaps the
reference. Requests already running keep the index they started with, so none fails during the
switch. Against Milvus the holder keeps documents and the chunk list only (kb/milvus.py): replicas
on several machines answer alike and follow the same alias.
"""
from __future__ import annotations

import threading
import time
from pathlib import Path

from kb import store
from kb.errors import KbError


TRIM_AFTER = 10.0  # seconds after a swap: the requests that held the old index are done by then


def _give_back_memory() -> None:
    """Return the replaced index's memory to the system: freed, it stays in the C heap otherwise, and
    a server that is rebuilt often would grow by an index each time (glibc's malloc_trim)."""
    import ctypes
    import gc

    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass  # not glibc: nothing to do


class IndexHolder:
    def __init__(self, root: Path | str, model: str | None = None, reload_seconds: float = 1.0):
        self.root = str(root)  # a folder or a Milvus location
        self.store = store.open_store(self.root)
        self.model = model
        self.reload_seconds = reload_seconds
        self._index: store.Index | None = None
        self._checked = 0.0
        self._lock = threading.Lock()
        self.last_error: str | None = None
        self._trim_at: float | None = None

    def get(self) -> store.Index:
        """The newest index as the current request's reader may see it (webapp/auth.py; the whole
        index without sign-in): the one way every endpoint reaches the index."""
        from .auth import view

        return view(self.latest())

    def latest(self) -> store.Index:
        """The newest readable index, whole; raises KbError only when none was ever loaded."""
        index = self._index
        now = time.monotonic()
        if index is not None and now - self._checked < self.reload_seconds:
            return index
        with self._lock:
            if self._index is not None and time.monotonic() - self._checked < self.reload_seconds:
                return self._index
            self._checked = time.monotonic()
            try:
                version = self.store.version()
                if self._index is None or version != self._index.version:
                    swapped = self._index is not None
                    self._index = self.store.load(self.model)
                    self._trim_at = time.monotonic() + TRIM_AFTER if swapped else None
                elif self._trim_at and time.monotonic() > self._trim_at:
                    self._trim_at = None
                    _give_back_memory()
                self.last_error = None
            except KbError as exc:
                self.last_error = str(exc)
                if self._index is None:
                    raise
            return self._index

    def ping(self) -> str:
        """The live version, asked of the store now (what /healthz reports): raises KbError when the
        store cannot be reached or holds no index."""
        version = self.store.version()
        if version is None:
            raise KbError(f"no index in {self.root}")
        return version

    def embedder(self):
        """The index's model; within a request, as its client asks (a signed-in reader, else an
        address): the question vectors it remembers are that client's alone (Embedder.asked_by)."""
        from flask import has_request_context

        from kb.embedding import load_embedder

        model = load_embedder(self.latest().model_name)
        if not has_request_context():
            return model
        from .limits import client

        return model.asked_by(client())

    def refresh(self) -> store.Index:
        """Load the newest version now (after a build in this process)."""
        self._checked = 0.0
        return self.get()

    def search(self, query: str, k=10, doc=None, year=None, region=None, per_document=None, spell=True,
               rerank=False):
        """Search the live index; returns (results, facets, milliseconds taken).

        Facets count documents and years over a wider set of results than shown, so a
        person sees where else the answer might be before narrowing the search."""
        from kb.regions import short_name
        from kb.search import check_k, facets, make_filters, search

        started = time.perf_counter()
        k = check_k(k)
        filters = make_filters(doc, year, short_name(region))
        index = self.get()
        wide = search(index, self.embedder(), query, max(k, 50), filters=filters, per_document=per_document,
                      marked=k, spell=spell, rerank=rerank)
        return wide.head(k), facets(wide), round((time.perf_counter() - started) * 1000, 1)
