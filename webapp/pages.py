"""The pages people use: the search page and the report view."""
from __future__ import annotations

from pathlib import Path

from flask import Blueprint, abort, current_app, render_template, request, send_file
from markupsafe import Markup, escape

from kb.errors import KbError
from kb.search import QueryError

bp = Blueprint("pages", __name__)

EXAMPLES = ["今年地区生产总值增长目标是多少", "停车难怎么解决", "沈阳鸡架得了什么奖", "What is the GDP growth target?"]


def marked(text: str, spans, best: dict | None) -> Markup:
    """Paragraph text as HTML: query terms in <mark>, the best sentence in <span class=best>.
    Every piece of user or report text is escaped."""
    cuts = {0, len(text)}
    for s, e in spans:
        cuts |= {s, e}
    if best:
        cuts |= {best["start"], best["end"]}
    cuts = sorted(c for c in cuts if 0 <= c <= len(text))
    in_best_open = False
    out = []
    for a, b in zip(cuts, cuts[1:]):
        piece = escape(text[a:b])
        inside_best = bool(best) and best["start"] <= a and b <= best["end"]
        if inside_best and not in_best_open:
            out.append(Markup('<span class="best">'))
            in_best_open = True
        elif not inside_best and in_best_open:
            out.append(Markup("</span>"))
            in_best_open = False
        if any(s <= a and b <= e for s, e in spans):
            piece = Markup("<mark>") + piece + Markup("</mark>")
        out.append(piece)
    if in_best_open:
        out.append(Markup("</span>"))
    return Markup("").join(out)


@bp.app_template_filter("report")
def report_filter(doc) -> str:
    """A report's title as lists show it: with its place and year where the title does not give them."""
    from kb.documents import title_note

    if isinstance(doc, dict):
        title, year, region = doc["title"], doc.get("year"), doc.get("region")
    else:
        title, year, region = doc.title, doc.year, doc.region
    return title + title_note(title, year, region)


@bp.app_template_filter("about")
def about_filter(result) -> str:
    """"讲的是2017年（计划）" / "（回顾）" / "讲的是2016–2020年": which year a result speaks about, and
    whether as its report's plan or its review, so that a question that names a year but no intent
    sees both answers told apart."""
    from kb.timeframe import label

    span = tuple(result.about_year) if result.about_year else None
    part = ""
    if span and span[0] == span[1] and result.year:
        part = "（计划）" if span[0] == result.year else "（回顾）" if span[0] == result.year - 1 else ""
    return f"讲的是{label(span)}{part}" if span else ""


def _status():
    from .api import status_data

    try:
        return status_data()
    except KbError:
        return None


@bp.get("/")
def index():
    q = request.args.get("q", "")
    doc, year = request.args.get("doc") or None, request.args.get("year") or None
    per_doc = {"1": True, "0": False}.get(request.args.get("per_doc", ""))
    spell = request.args.get("spell") != "0"
    rerank = request.args.get("rerank") == "1"
    results, facet_counts, ms, err = [], None, None, None
    if q.strip():
        try:
            results, facet_counts, ms = current_app.extensions["kb"].search(
                q, request.args.get("k", "10"), [doc] if doc else None, year, per_document=per_doc, spell=spell,
                rerank=rerank)
        except QueryError as exc:
            err = str(exc)
        except KbError as exc:
            err = f"索引不可用：{exc}"
    cards = [{"r": r, "html": marked(r.text, r.highlights, r.best_sentence)} for r in results]
    return render_template("search.html", q=q, cards=cards, ms=ms, error=err, facets=facet_counts,
                           doc=doc, doc_title=_title(doc), year=year, examples=EXAMPLES, status=_status(),
                           per_document=getattr(results, "per_document", False), chosen=per_doc is not None,
                           corrected=getattr(results, "corrected", None), rerank=rerank,
                           missing_places=getattr(results, "missing_places", ()))


def _title(doc_id):
    """The title a filter by document shows (the id when the index does not have it)."""
    if not doc_id:
        return None
    try:
        doc = current_app.extensions["kb"].get().documents.get(doc_id)
    except KbError:
        doc = None
    return report_filter(doc) if doc else doc_id


def _compare_rows():
    """The rows of /compare and /compare.csv for this request, its timeline (one place's reports
    over the years, else None), and an error message."""
    from kb.compare import SORTS, table
    from kb.regions import short_name
    from kb.search import make_filters

    q = request.args.get("q", "")
    sort = request.args.get("sort", "rank")
    if sort not in SORTS:
        sort = "rank"
    if not q.strip():
        return q, sort, [], None, None
    holder = current_app.extensions["kb"]
    try:
        doc, year = request.args.get("doc") or None, request.args.get("year") or None
        filters = make_filters([doc] if doc else None, year, short_name(request.args.get("region")))
        return q, sort, *table(holder.get(), holder.embedder(), q, filters, sort), None
    except QueryError as exc:
        return q, sort, [], None, str(exc)
    except KbError as exc:
        return q, sort, [], None, f"索引不可用：{exc}"


def bar_chart(rows) -> dict:
    """A horizontal bar per report with a figure, as numbers the template draws in SVG (no
    JavaScript): bars in one unit only (the most common one), each labelled with its region and
    the figure as written; a range is drawn from its low end to its high end."""
    from collections import Counter

    units = Counter(r.unit for r in rows if r.value is not None)
    if not units:
        return {"bars": [], "unit": "", "height": 0}
    unit = units.most_common(1)[0][0]
    shown = [r for r in rows if r.value is not None and r.unit == unit]
    top = max(_high(r) for r in shown) or 1.0
    bar_h, gap, left, width = 22, 6, 110, 420
    bars = []
    for i, r in enumerate(shown):
        lo, hi = r.value, _high(r)
        bars.append({"label": r.region or r.title, "figure": r.figure, "y": i * (bar_h + gap),
                     "x": left, "w": max(2.0, lo / top * width), "range_w": max(0.0, (hi - lo) / top * width),
                     "h": bar_h, "doc_id": r.doc_id})
    return {"bars": bars, "unit": unit, "height": len(bars) * (bar_h + gap), "left": left, "width": width}


def _high(row) -> float:
    """The high end of a range (4.5%—5% → 5), else the value."""
    import re

    numbers = [float(x) for x in re.findall(r"\d+(?:\.\d+)?", row.figure)]
    return max(numbers) if len(numbers) > 1 and re.search(r"[-—–~～至到]", row.figure) else row.value


def line_chart(years) -> dict:
    """A timeline as numbers the template draws in SVG: the targets and the outcomes as two
    lines over the years (in the most common unit of their figures; a range at its low end),
    with ticks every few years and at round values."""
    from collections import Counter

    points = [(y.year, kind, row) for y in years or () for kind, row in (("target", y.target), ("outcome", y.outcome))
              if row and row.value is not None]
    units = Counter(row.unit for _, _, row in points)
    if not units:
        return {"lines": [], "height": 0}
    unit = units.most_common(1)[0][0]
    points = [p for p in points if p[2].unit == unit]
    first, last = min(p[0] for p in points), max(p[0] for p in points)
    top = max(p[2].value for p in points)
    step = next(s for s in (1, 2, 5, 10, 20, 50, 100, 1000, 10**4, 10**5, 10**6, 10**9) if top / s <= 8)
    top = step * (int(top / step) + 1)
    left, width, height, pad = 48, 560, 240, 12

    def x(year):
        return left + (year - first) / max(1, last - first) * width

    def y(value):
        return pad + height - value / top * height

    lines = []
    for kind, name in (("target", "目标（当年报告）"), ("outcome", "实际（次年报告）")):
        mine = sorted((p for p in points if p[1] == kind), key=lambda p: p[0])
        lines.append({"kind": kind, "name": name,
                      "path": " ".join(f"{x(yr):.1f},{y(r.value):.1f}" for yr, _, r in mine),
                      "dots": [{"x": x(yr), "y": y(r.value), "label": f"{yr}年{name[:2]} {r.figure}"} for yr, _, r in mine]})
    every = next(s for s in (1, 2, 5, 10, 20) if (last - first) / s <= 12)
    return {"lines": lines, "unit": unit, "left": left, "width": width, "height": height + 2 * pad + 24,
            "xticks": [{"x": x(yr), "label": yr} for yr in range(first - first % every + every * (first % every > 0),
                                                                   last + 1, every)],
            "yticks": [{"y": y(v), "label": f"{v:g}"} for v in range(0, int(top) + 1, int(step)) if step >= 1],
            "base": pad + height}


@bp.get("/compare")
def compare_view():
    """One answer per report: a table (sortable by links), a bar chart and a CSV download; for one
    place's reports over the years, a timeline of targets and outcomes with a line chart."""
    from kb.scope import missing_places

    q, sort, rows, years, err = _compare_rows()
    missing = missing_places(current_app.extensions["kb"].get(), q) if rows else ()
    return render_template("compare.html", q=q, sort=sort, rows=rows, years=years, error=err,
                           chart=bar_chart(rows), lines=line_chart(years), status=_status(), missing_places=missing)


@bp.get("/compare.csv")
def compare_csv():
    from kb.compare import timeline_csv, to_csv

    q, _, rows, years, err = _compare_rows()
    if err or not q.strip():
        return render_template("error.html", code=400, message=err or "缺少问题 q"), 400
    text = timeline_csv(years) if years is not None else to_csv(rows)
    return current_app.response_class(text.encode("utf-8"), mimetype="text/csv",
                                      headers={"Content-Disposition": "attachment; filename=\"kb-compare.csv\""})


@bp.get("/files/<path:name>")
def original(name):
    """A report's original PDF (opened at a page: `#page=N`), read-only, and only a file the index
    has as a report: nothing else below the reports folder, nothing outside it. Other originals
    are not served: a Word file can carry its authors and tracked changes."""
    try:
        index = current_app.extensions["kb"].get()
    except KbError as exc:
        return render_template("error.html", code=503, message=str(exc)), 503
    stem, dot, suffix = name.rpartition(".")
    doc = index.documents.get(stem) if dot else None
    if doc is None or suffix.lower() != "pdf" or Path(doc.path).suffix.lower() != ".pdf":
        abort(404)
    root = Path(current_app.config["DOCS"]).resolve()
    path = (root / name).resolve()  # where that report's file is now (ids are paths below the folder)
    if not path.is_file() or not path.is_relative_to(root):
        abort(404)
    return send_file(path, mimetype="application/pdf", conditional=True)


@bp.get("/docs/<path:doc_id>")
def document(doc_id):
    try:
        index = current_app.extensions["kb"].get()
    except KbError as exc:
        return render_template("error.html", code=503, message=str(exc)), 503
    doc = index.documents.get(doc_id)
    if doc is None:
        abort(404)
    return render_template("document.html", doc=doc, library=len(index.documents) > 1, status=_status())
