"""kb's web front end: a Flask app factory with a page blueprint and a JSON API blueprint."""
from __future__ import annotations

import os
from pathlib import Path

from flask import Flask, jsonify, render_template, request

from .holder import IndexHolder

# What a page (not the API) says for each error: the page is in Chinese, the API's messages stay English
PAGE_ERRORS = {
    400: "请求无法识别。",
    404: "没有这个页面或文档。",
    405: "此处不接受这种请求方式。",
    413: "提交的内容太大。",
    429: "请求太多，请稍候再试。",
    500: "服务器出错，错误已记入日志。",
}
SECURITY_HEADERS = {
    "Content-Security-Policy": ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                                "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


def create_app(config: dict | None = None) -> Flask:
    """Build the app for one index. `config` keys: INDEX (a folder, or a Milvus location: milvus:PATH.db,
    http://HOST:PORT), DOCS (reports folder),
    MODEL (model name, default: the one the index was built with), ADMIN_TOKEN
    (enables POST /api/reindex; default: $KB_ADMIN_TOKEN), RELOAD_SECONDS, LOG_QUERIES (query text in
    the access log; default: unless $KB_LOG_QUERIES=0), AUTH (a sign-in file: readers must sign in and
    see only what its [access] table lets them; default: $KB_AUTH, else off), PROXY (trust one
    reverse proxy's X-Forwarded-For/-Proto; default: $KB_PROXY=1), RATE_LIMIT (searches and compares per
    client, e.g. "120 per minute", or "off"; default: $KB_RATE_LIMIT, else 120 per minute with sign-in
    and none without), MAX_CONCURRENT (searches of one client running at once; default:
    $KB_MAX_CONCURRENT, else 4 with sign-in)."""
    app = Flask(__name__)
    app.config.from_mapping(
        INDEX=os.environ.get("KB_INDEX", "index"),
        DOCS=os.environ.get("KB_DOCS", "reports"),
        MODEL=None,
        ADMIN_TOKEN=os.environ.get("KB_ADMIN_TOKEN") or None,
        RELOAD_SECONDS=1.0,
        RATE_LIMIT=os.environ.get("KB_RATE_LIMIT") or None,
        MAX_CONCURRENT=os.environ.get("KB_MAX_CONCURRENT") or None,
        MAX_CONTENT_LENGTH=64 * 1024,
        JSON_AS_ASCII=False,
        AUTH=os.environ.get("KB_AUTH") or None,
        PROXY=os.environ.get("KB_PROXY") == "1",
    )
    if config:
        app.config.from_mapping(config)
    app.json.ensure_ascii = False
    app.json.sort_keys = False
    app.extensions["kb"] = IndexHolder(str(app.config["INDEX"]), app.config["MODEL"],
                                       reload_seconds=app.config["RELOAD_SECONDS"])

    from . import api, limits, observe, pages

    app.register_blueprint(pages.bp)
    app.register_blueprint(api.bp)
    observe.init_app(app)
    if app.config["PROXY"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)
    if app.config["AUTH"]:
        from . import auth

        app.register_blueprint(auth.bp)
        auth.init_app(app, Path(app.config["AUTH"]))
    limits.init_app(app)  # after sign-in: a client is its user where there is one

    @app.after_request
    def _headers(response):
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    def _error(code: int, name: str, message: str, error=None):
        if request.path.startswith("/api/") or request.path == "/healthz":
            response = jsonify({"error": {"code": name, "message": message}})
        else:  # a page speaks the page's language
            response = app.make_response(render_template("error.html", code=code, message=PAGE_ERRORS.get(code, message)))
        response.status_code = code
        retry = getattr(error, "retry_after", None)
        if retry is not None:  # a 429: when to try again
            response.headers["Retry-After"] = str(retry if isinstance(retry, int) else 1)
        return response

    errors = {
        400: ("bad_request", lambda: "the request could not be understood"),
        404: ("not_found", lambda: "no such page or document"),
        405: ("method_not_allowed", lambda: f"{request.method} is not allowed here"),
        413: ("too_large", lambda: "the request body is too large"),
        429: ("too_many_requests", lambda: "too many requests: wait a little (see Retry-After) and try again"),
        500: ("internal", lambda: "something went wrong on the server; the error was logged"),
    }
    for status, (name, message) in errors.items():
        app.register_error_handler(
            status, lambda e, status=status, name=name, message=message: _error(status, name, message(), e))

    return app
