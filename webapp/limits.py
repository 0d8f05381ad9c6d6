"""Limits that keep one client from starving the others: requests per minute on search and compare
(429 with Retry-After, flask-limiter), searches running at once per client, and wrong passwords.

A client is its signed-in user where there is one (webapp/auth.py), else its address (behind a
reverse proxy, the address the proxy forwards: `kb serve --proxy`). On by default with sign-in;
without it (one person on a laptop) only when KB_RATE_LIMIT is set.
"""
from __future__ import annotations

import threading
from collections import Counter
from functools import wraps

from flask import Flask, g, request
from werkzeug.exceptions import TooManyRequests

LIMITED = ("api.api_search", "api.api_compare", "pages.index", "pages.compare_view", "pages.compare_csv")
DEFAULT_RATE = "120 per minute"
DEFAULT_CONCURRENT = 4
SIGNIN_LIMITS = {"address": "20 per 15 minutes", "user": "5 per 15 minutes"}  # wrong passwords only


def client() -> str:
    reader = g.get("reader")
    return f"user:{reader.name}" if reader is not None else f"addr:{request.remote_addr or '-'}"


def init_app(app: Flask) -> None:
    from flask_limiter import Limiter

    signin = "auth.signin_post" in app.view_functions
    rate = app.config.get("RATE_LIMIT") or (DEFAULT_RATE if signin else None)
    concurrent = int(app.config.get("MAX_CONCURRENT") or (DEFAULT_CONCURRENT if signin else 0))
    if rate == "off":
        rate = None
    if not (rate or concurrent or signin):
        return
    limiter = Limiter(client, app=app, storage_uri="memory://", headers_enabled=True)
    app.extensions["kb_limiter"] = limiter
    for endpoint in LIMITED:
        view = app.view_functions[endpoint]
        if concurrent:
            view = _capped(view, concurrent)
        if rate:
            view = limiter.limit(rate)(view)
        app.view_functions[endpoint] = view
    if signin:
        failed = lambda response: response.status_code == 401  # noqa: E731
        view = app.view_functions["auth.signin_post"]
        view = limiter.limit(SIGNIN_LIMITS["user"], key_func=lambda: "name:" + request.form.get("name", "")[:64],
                             deduct_when=failed)(view)
        view = limiter.limit(SIGNIN_LIMITS["address"], key_func=lambda: f"addr:{request.remote_addr or '-'}",
                             deduct_when=failed)(view)
        app.view_functions["auth.signin_post"] = view


def _capped(view, most: int):
    """At most `most` requests of one client running at once; the next gets 429 at once."""
    running: Counter = Counter()
    lock = threading.Lock()

    @wraps(view)
    def capped(*args, **kwargs):
        key = client()
        with lock:
            if running[key] >= most:
                raise TooManyRequests(retry_after=1)
            running[key] += 1
        try:
            return view(*args, **kwargs)
        finally:
            with lock:
                running[key] -= 1
                if not running[key]:
                    del running[key]

    return capped
