"""Helpers for tests that run kb (and Milvus) as real processes and talk to them over HTTP."""
import json
import socket
import time
import urllib.error
import urllib.request


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get_json(url: str, with_status: bool = False):
    """The JSON a URL answers (and its status, error statuses included, when `with_status`)."""
    try:
        with urllib.request.urlopen(url, timeout=30) as res:
            status, body = res.status, json.loads(res.read())
    except urllib.error.HTTPError as exc:
        if not with_status:
            raise
        status, body = exc.code, json.loads(exc.read())
    return (status, body) if with_status else body


def wait_for(predicate, limit: float = 120) -> bool:
    """Whether `predicate()` came true within `limit` seconds (a refused connection counts as not yet)."""
    deadline = time.time() + limit
    while time.time() < deadline:
        try:
            if predicate():
                return True
        except OSError:
            pass
        time.sleep(0.3)
    return False
