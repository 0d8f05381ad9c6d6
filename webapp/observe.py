"""Operations: a request id on every request, one access-log line each, and /metrics for Prometheus.

The metrics live in a registry of the app's own (two apps in one process, as in the tests, do not
share counters). /metrics answers only a client on this machine (127.0.0.1 or ::1), or with sign-in
on a member of the `admin` group: it tells how busy the service is and which index it serves, which a
reader elsewhere has no need to know. Behind a
reverse proxy, scrape kb directly, not through the proxy.
"""
from __future__ import annotations

import logging
import os
import re
import time
import uuid

from flask import Blueprint, Flask, Response, current_app, g, jsonify, request

bp = Blueprint("observe", __name__)
log = logging.getLogger("kb.access")
REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
LOCAL = {"127.0.0.1", "::1"}
ADMIN_GROUP = "admin"  # with sign-in on, its members may read /metrics from elsewhere


def init_app(app: Flask) -> None:
    from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

    registry = CollectorRegistry()
    metrics = {
        "registry": registry,
        "requests": Counter("kb_requests", "Requests answered, by endpoint, method and status.",
                            ["endpoint", "method", "status"], registry=registry),
        "latency": Histogram("kb_request_seconds", "Time to answer a request, by endpoint.", ["endpoint"],
                             buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10), registry=registry),
        "errors": Counter("kb_errors", "Requests that ended in a server error (5xx), by endpoint.", ["endpoint"],
                          registry=registry),
        "documents": Gauge("kb_index_documents", "Documents in the index served.", registry=registry),
        "chunks": Gauge("kb_index_chunks", "Chunks in the index served.", registry=registry),
        "index": Gauge("kb_index_info", "The index served (its version and model, as labels).",
                       ["version", "model"], registry=registry),
    }
    app.extensions["kb_metrics"] = metrics
    app.config.setdefault("LOG_QUERIES", os.environ.get("KB_LOG_QUERIES", "1") != "0")
    app.before_request(_start)
    app.after_request(_finish)
    app.register_blueprint(bp)


def _start() -> None:
    sent = request.headers.get("X-Request-Id", "")
    g.request_id = sent if REQUEST_ID.match(sent) else uuid.uuid4().hex[:16]
    g.started = time.perf_counter()


def _finish(response):
    took = time.perf_counter() - g.get("started", time.perf_counter())
    endpoint = request.url_rule.rule if request.url_rule else "(none)"
    metrics = current_app.extensions["kb_metrics"]
    metrics["requests"].labels(endpoint, request.method, str(response.status_code)).inc()
    metrics["latency"].labels(endpoint).observe(took)
    if response.status_code >= 500:
        metrics["errors"].labels(endpoint).inc()
    rid = g.get("request_id") or uuid.uuid4().hex[:16]
    response.headers["X-Request-Id"] = rid
    # the query string holds what people ask: left out when KB_LOG_QUERIES=0
    target = request.full_path.rstrip("?") if current_app.config["LOG_QUERIES"] else request.path
    reader = g.get("reader")  # the signed-in user (webapp/auth.py), "-" without sign-in
    log.info("%s %s %s %s %s %d %.1fms", rid, request.remote_addr or "-", reader.name if reader else "-",
             request.method, target, response.status_code, took * 1000)
    return response


@bp.get("/metrics")
def metrics():
    """Prometheus text format, for a client on this machine only."""
    from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

    from kb.errors import KbError

    reader = g.get("reader")
    if request.remote_addr not in LOCAL and not (reader and ADMIN_GROUP in reader.groups):
        return jsonify({"error": {"code": "forbidden",
                                  "message": f"/metrics answers only on this machine or to the {ADMIN_GROUP} group"}}), 403
    m = current_app.extensions["kb_metrics"]
    try:
        index = current_app.extensions["kb"].latest()
        m["documents"].set(len(index.documents))
        m["chunks"].set(len(index.chunks))
        m["index"].clear()
        m["index"].labels(index.version, index.model_name).set(1)
    except KbError:
        pass  # no index yet: the counters still answer
    return Response(generate_latest(m["registry"]), mimetype=CONTENT_TYPE_LATEST)
