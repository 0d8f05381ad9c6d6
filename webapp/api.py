"""The JSON API: search, status, health, reindex, and an OpenAPI description of them."""
from __future__ import annotations

import hmac
import threading

from flask import Blueprint, current_app, jsonify, request

from kb.errors import KbError
from kb.search import MAX_K, MAX_QUERY_CHARS, QueryError

bp = Blueprint("api", __name__)
_build_lock = threading.Lock()


def holder():
    return current_app.extensions["kb"]


def error(code: int, name: str, message: str):
    return jsonify({"error": {"code": name, "message": message}}), code


def status_data() -> dict:
    index = holder().get()
    m = index.manifest
    return {
        "documents": [{"doc_id": d.doc_id, "title": d.title, "year": d.year, "region": d.region,
                       "paragraphs": len(d.paragraphs), "url": f"/docs/{d.doc_id}"}
                      for d in index.documents.values()],
        "chunks": index.chunk_count,
        "model": m["model"],
        "built_at": m["built_at"],
        "version": index.version,
    }


@bp.get("/api/search")
def api_search():
    q = request.args.get("q", "")
    k = request.args.get("k", "10")
    doc = request.args.getlist("doc") or None
    try:
        index = holder().get()
        unknown = [d for d in doc or () if d not in index.documents]
        if unknown:
            return error(404, "unknown_document", f"no document {unknown[0]!r} in the index")
        per_doc = {"1": True, "true": True, "0": False, "false": False}.get(request.args.get("per_doc", ""))
        spell, rerank = request.args.get("spell", "1"), request.args.get("rerank", "0")
        for name, value in (("spell", spell), ("rerank", rerank)):
            if value not in ("1", "0", "true", "false"):
                return error(400, "bad_query", f"{name} must be 1 or 0")
        results, facets, ms = holder().search(q, k, doc, request.args.get("year"), request.args.get("region"),
                                              per_doc, spell in ("1", "true"), rerank in ("1", "true"))
    except QueryError as exc:
        return error(400, "bad_query", str(exc))
    except KbError as exc:
        return error(503, "index_unavailable", str(exc))
    return jsonify({"query": q, "corrected": results.corrected, "took_ms": ms, "per_document": results.per_document,
                    "reranked": rerank in ("1", "true"), "missing_places": list(results.missing_places),
                    "results": [r.to_dict() for r in results], "facets": facets})


@bp.get("/api/compare")
def api_compare():
    """One row per report: the sentence that answers and the figure it gives (kb/compare.py); for
    one place's reports over the years also the timeline (each year's target beside its outcome)."""
    from kb.compare import SORTS, table
    from kb.regions import short_name
    from kb.scope import missing_places
    from kb.search import clean_query, make_filters

    q = request.args.get("q", "")
    doc = request.args.getlist("doc") or None
    sort = request.args.get("sort", "rank")
    if sort not in SORTS:
        return error(400, "bad_sort", f"sort by one of {', '.join(SORTS)}")
    try:
        clean_query(q)
        index = holder().get()
        unknown = [d for d in doc or () if d not in index.documents]
        if unknown:
            return error(404, "unknown_document", f"no document {unknown[0]!r} in the index")
        filters = make_filters(doc, request.args.get("year"), short_name(request.args.get("region")))
        rows, years = table(index, holder().embedder(), q, filters, sort)
    except QueryError as exc:
        return error(400, "bad_query", str(exc))
    except KbError as exc:
        return error(503, "index_unavailable", str(exc))
    return jsonify({"query": q, "rows": [r.to_dict() for r in rows],
                    "timeline": [y.to_dict() for y in years] if years is not None else None,
                    "missing_places": list(missing_places(index, q, filters))})


@bp.get("/api/status")
def api_status():
    try:
        return jsonify(status_data())
    except KbError as exc:
        return error(503, "index_unavailable", str(exc))


@bp.get("/healthz")
def healthz():
    try:
        index = holder().get()
        live = holder().ping()  # the store itself (a Milvus server) answers now
    except KbError as exc:
        return error(503, "index_unavailable", str(exc))
    switching = {"switching_to": live} if live != index.version else {}
    return jsonify({"status": "ok", "version": index.version, **switching})


@bp.post("/api/reindex")
def api_reindex():
    token = current_app.config.get("ADMIN_TOKEN")
    if not token:
        return error(403, "disabled", "reindexing from the web is disabled: set KB_ADMIN_TOKEN to enable it")
    sent = request.headers.get("Authorization", "")
    if not hmac.compare_digest(sent.encode(), f"Bearer {token}".encode()):
        return error(401, "unauthorized", "send Authorization: Bearer <KB_ADMIN_TOKEN>")
    if not _build_lock.acquire(blocking=False):
        return error(409, "busy", "a rebuild is already running")
    try:
        from kb.build import build

        stats = build(current_app.config["DOCS"], holder().store, holder().get().model_name)
        holder().refresh()
    except KbError as exc:
        return error(422, "build_failed", str(exc))
    finally:
        _build_lock.release()
    return jsonify(stats.to_dict())


@bp.get("/api/openapi.json")
def openapi():
    result = {"type": "object", "properties": {
        k: {"type": t} for k, t in (("rank", "integer"), ("score", "number"), ("doc_id", "string"),
                                    ("title", "string"), ("year", "integer"), ("region", "string"), ("section", "string"), ("paragraph", "integer"),
                                    ("chunk_id", "string"), ("text", "string"), ("citation", "string"),
                                    ("url", "string"), ("page", "integer"), ("file_url", "string"))}}
    result["properties"]["highlights"] = {"type": "array", "items": {"type": "array", "items": {"type": "integer"}}}
    result["properties"]["best_sentence"] = {"type": "object", "properties": {
        "start": {"type": "integer"}, "end": {"type": "integer"}, "text": {"type": "string"}}}
    err = {"description": "error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    spec = {
        "openapi": "3.0.3",
        "info": {"title": "kb", "version": "1", "description": "Search reports; cite the paragraph. With sign-in "
                 "on (kb serve --auth), every call but /healthz needs Authorization: Bearer <kb user token>."},
        "security": [{"bearer": []}],
        "paths": {
            "/api/search": {"get": {
                "summary": "Search the reports; one result per paragraph.",
                "parameters": [
                    {"name": "q", "in": "query", "required": True,
                     "schema": {"type": "string", "minLength": 1, "maxLength": MAX_QUERY_CHARS}},
                    {"name": "k", "in": "query", "required": False,
                     "schema": {"type": "integer", "minimum": 1, "maximum": MAX_K, "default": 10}},
                    {"name": "doc", "in": "query", "required": False, "description": "document id (repeatable)",
                     "schema": {"type": "string"}},
                    {"name": "year", "in": "query", "required": False, "schema": {"type": "integer"}},
                    {"name": "region", "in": "query", "required": False, "description": "e.g. 北京 or Beijing",
                     "schema": {"type": "string"}},
                    {"name": "per_doc", "in": "query", "required": False,
                     "description": "1: one paragraph per report; 0: the most relevant paragraphs. Default: per "
                                    "report when many reports answer the question (the answer's per_document says)",
                     "schema": {"type": "string", "enum": ["1", "0", "true", "false"]}},
                    {"name": "spell", "in": "query", "required": False,
                     "description": "1 (default): a character typed for another of its sound (扶务) is searched as the "
                                    "reports' word (服务), and `corrected` gives the question searched; 0: as typed",
                     "schema": {"type": "string", "enum": ["1", "0", "true", "false"], "default": "1"}},
                    {"name": "rerank", "in": "query", "required": False,
                     "description": "1: the first three results are read again by the cross-encoder (for articles "
                                    "whose paragraphs share their words; 0.15-0.3 s more); 0 (default): the ranker's order",
                     "schema": {"type": "string", "enum": ["1", "0", "true", "false"], "default": "0"}}],
                "responses": {"200": {"description": "results", "content": {"application/json": {"schema": {
                    "type": "object", "properties": {"query": {"type": "string"},
                                                     "corrected": {"type": ["string", "null"]},
                                                     "took_ms": {"type": "number"},
                                                     "per_document": {"type": "boolean"},
                                                     "reranked": {"type": "boolean"},
                                                     "missing_places": {"type": "array", "items": {"type": "string"},
                                                                        "description": "the place asked about, when "
                                                                        "no report searched is about it (the results "
                                                                        "are the others')"},
                                                     "results": {"type": "array", "items": result}, "facets": {"type": "object"}}}}}},
                              "400": err, "401": err, "404": err, "429": err, "503": err}}},
            "/api/compare": {"get": {
                "summary": "One answer per report: the sentence that answers and the figure it gives.",
                "parameters": [
                    {"name": "q", "in": "query", "required": True,
                     "schema": {"type": "string", "minLength": 1, "maxLength": MAX_QUERY_CHARS}},
                    {"name": "doc", "in": "query", "required": False, "schema": {"type": "string"}},
                    {"name": "year", "in": "query", "required": False, "schema": {"type": "integer"}},
                    {"name": "region", "in": "query", "required": False, "schema": {"type": "string"}},
                    {"name": "sort", "in": "query", "required": False,
                     "schema": {"type": "string", "enum": ["rank", "region", "year", "figure"]}}],
                "responses": {"200": {"description": "rows: doc_id, title, region, year, sentence, figure, value, "
                                                     "unit, paragraph, citation, url, about_year; timeline (one "
                                                     "place's reports over the years, else null): year, target, "
                                                     "outcome (rows)"},
                              "400": err, "401": err, "404": err, "429": err, "503": err}}},
            "/api/status": {"get": {"summary": "Documents, chunks, model and build time (of what the reader may see).",
                                    "responses": {"200": {"description": "status"}, "401": err, "503": err}}},
            "/healthz": {"get": {"summary": "Liveness: answers when an index is loaded.",
                                 "responses": {"200": {"description": "ok"}, "503": err}}},
            "/api/reindex": {"post": {"summary": "Rebuild the index from the reports folder (admin token).",
                                      "security": [{"bearer": []}],
                                      "responses": {"200": {"description": "build statistics"},
                                                    "401": err, "403": err, "409": err, "422": err}}},
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {"Error": {"type": "object", "properties": {"error": {"type": "object", "properties": {
                "code": {"type": "string"}, "message": {"type": "string"}}}}}},
        },
    }
    return jsonify(spec)
