"""A live folder: rebuild the index incrementally whenever reports change.

Changes arrive in bursts (an editor writes a temp file, renames it, touches it again),
so a rebuild starts only after the folder has been quiet for `debounce` seconds.
"""
from __future__ import annotations

import threading
import time
from pathlib import Path

from .build import BuildStats, build
from .documents import MANIFEST, META_SUFFIX, SUFFIXES
from .errors import KbError


def _relevant(path: str) -> bool:
    p = Path(path)
    if any(part.startswith(".") for part in p.parts):
        return False
    return p.suffix.lower() in SUFFIXES or p.name.endswith(META_SUFFIX) or p.name == MANIFEST


def watch(docs: Path, index_dir: Path | str, on_build=None, on_error=None, model: str | None = None,
          debounce: float = 1.0, stop: threading.Event | None = None, warn=None,
          build_first: bool = True) -> None:
    """Block, rebuilding on changes, until `stop` is set (or forever)."""
    from watchdog.events import FileSystemEventHandler
    from watchdog.observers import Observer

    docs = Path(docs)
    stop = stop or threading.Event()
    changed = {"at": time.monotonic() if build_first else None}
    lock = threading.Lock()

    class Handler(FileSystemEventHandler):
        def on_any_event(self, event):
            paths = [event.src_path, getattr(event, "dest_path", "") or ""]
            if any(p and _relevant(p) for p in paths) or event.is_directory:
                with lock:
                    changed["at"] = time.monotonic()

    observer = Observer()
    observer.schedule(Handler(), str(docs), recursive=True)
    observer.start()
    try:
        while not stop.is_set():
            stop.wait(0.2)
            with lock:
                due = changed["at"] is not None and time.monotonic() - changed["at"] >= debounce
                if due:
                    changed["at"] = None
            if not due:
                continue
            try:
                stats: BuildStats = build(docs, index_dir, model=model, warn=warn)
                if on_build:
                    on_build(stats)
            except KbError as exc:
                if on_error:
                    on_error(exc)
    finally:
        observer.stop()
        observer.join()
