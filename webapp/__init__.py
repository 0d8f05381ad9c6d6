"""kb's web front end: a Flask app factory with a page blueprint and a JSON API blueprint."""
from __future__ import annotations

import os
from pathlib import Path

from flask import Flask, jsonify, render_template, request

from .holder import IndexHolder

SECURITY_HEADERS = {
    "Content-Security-Policy": ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                                "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


def create_app(config: dict | None = None) -> Flask:
    """Build the app for one index. `config` keys: INDEX (folder), DOCS (reports folder),
    MODEL (model name, default: the one the index was built with), ADMIN_TOKEN
    (enables POST /api/reindex; default: $KB_ADMIN_TOKEN), RELOAD_SECONDS."""
    app = Flask(__name__)
    app.config.from_mapping(
        INDEX=os.environ.get("KB_INDEX", "index"),
        DOCS=os.environ.get("KB_DOCS", "reports"),
        MODEL=None,
        ADMIN_TOKEN=os.environ.get("KB_ADMIN_TOKEN") or None,
        RELOAD_SECONDS=1.0,
        MAX_CONTENT_LENGTH=64 * 1024,
        JSON_AS_ASCII=False,
    )
    if config:
        app.config.from_mapping(config)
    app.json.ensure_ascii = False
    app.json.sort_keys = False
    app.extensions["kb"] = IndexHolder(Path(app.config["INDEX"]), app.config["MODEL"],
                                       reload_seconds=app.config["RELOAD_SECONDS"])

    from . import api, pages

    app.register_blueprint(pages.bp)
    app.register_blueprint(api.bp)

    @app.after_request
    def _headers(response):
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    def _error(code: int, name: str, message: str):
        if request.path.startswith("/api/") or request.path == "/healthz":
            return jsonify({"error": {"code": name, "message": message}}), code
        return render_template("error.html", code=code, message=message), code

    @app.errorhandler(400)
    def _bad_request(e):
        return _error(400, "bad_request", "the request could not be understood")

    @app.errorhandler(404)
    def _not_found(e):
        return _error(404, "not_found", "no such page or document")

    @app.errorhandler(405)
    def _bad_method(e):
        return _error(405, "method_not_allowed", f"{request.method} is not allowed here")

    @app.errorhandler(413)
    def _too_large(e):
        return _error(413, "too_large", "the request body is too large")

    @app.errorhandler(500)
    def _internal(e):
        return _error(500, "internal", "something went wrong on the server; the error was logged")

    return app
