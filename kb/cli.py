"""The `kb` command: parses options, calls the library, prints for people or (--json) programs.

Heavy libraries (torch, faiss) are imported inside the commands, so `kb --help`
answers at once. Library errors become one line on stderr and a non-zero exit.
"""
from __future__ import annotations

import json
import sys
import unicodedata
from pathlib import Path

import click

from .errors import KbError

DEFAULT_DOCS = "reports"
DEFAULT_INDEX = "index"

docs_option = click.option("--docs", type=click.Path(path_type=Path), default=DEFAULT_DOCS,
                           envvar="KB_DOCS", show_default=True, show_envvar=True,
                           help="Folder of reports (.txt .md .docx .pdf .html .jsonl), or one file.")
index_option = click.option("--index", "index_dir", default=DEFAULT_INDEX, envvar="KB_INDEX", show_default=True,
                            show_envvar=True, help="Where the index lives: a folder, a milvus-lite file "
                                                   "(milvus:PATH.db) or a Milvus server (http://HOST:19530).")
model_option = click.option("--model", default=None, envvar="KB_MODEL", show_envvar=True,
                            help="sentence-transformers model name or path "
                                 "[default: the bundled multilingual-e5-small].")
json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON for programs.")
auth_option = click.option("--auth", "auth_file", type=click.Path(path_type=Path), default=None, envvar="KB_AUTH",
                           show_envvar=True, help="Sign-in file (users, groups, [access] by folder).")
as_user_option = click.option("--as-user", default=None,
                              help="Answer as this user of --auth sees the reports (only what they may read).")


def _follow_links(ctx, param, value):
    if value:
        import os

        os.environ["KB_FOLLOW_LINKS"] = "1"  # read by kb.documents.find_files, in this process
    return value


follow_option = click.option("--follow-links", is_flag=True, expose_value=False, callback=_follow_links,
                             is_eager=True, help="Also read links that leave the reports folder "
                                                 "[env var: KB_FOLLOW_LINKS=1].")


def _echo_json(data) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))


def _warn(msg: str) -> None:
    click.echo(f"warning: {msg}", err=True)


def _progress(total: int):
    """A progress bar on stderr, shown only on a terminal."""
    from tqdm import tqdm

    bar = tqdm(total=total, unit="chunk", desc="embedding", file=sys.stderr,
               disable=not sys.stderr.isatty(), leave=False)
    return bar.update


def _quiet_libraries() -> None:
    import logging
    import os

    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    for name in ("sentence_transformers", "transformers", "jieba", "faiss"):
        logging.getLogger(name).setLevel(logging.ERROR)
    if not logging.getLogger("kb").handlers:  # kb's own notices (e.g. a model export) as warnings
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("warning: %(message)s"))
        logging.getLogger("kb").addHandler(handler)
        logging.getLogger("kb").propagate = False


class KbGroup(click.Group):
    """Turns kb's own errors into one clear line and exit status 1."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except KbError as exc:
            raise click.ClickException(str(exc)) from None


@click.group(cls=KbGroup)
@click.version_option(package_name="kb")
def cli():
    """kb: search your reports in plain language, and cite the paragraph.

    \b
    Quick start:
      kb build                      index the reports in ./reports
      kb search "今年地区生产总值增长目标"
      kb serve                      open http://127.0.0.1:8000
    """
    _quiet_libraries()


def _run_build(docs: Path, index_dir: Path, model: str | None, device: str | None = None):
    from .build import build

    return build(docs, index_dir, model=model, warn=_warn, progress=_progress, device=device)


@cli.command("build")
@follow_option
@docs_option
@index_option
@model_option
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), default="auto", envvar="KB_DEVICE",
              show_default=True, show_envvar=True,
              help="Where to embed: a GPU (cuda, half precision) when auto finds one, else the CPU.")
@json_option
def build_cmd(docs, index_dir, model, device, as_json):
    """Build or update the index; only new or changed text is embedded."""
    stats = _run_build(docs, index_dir, model, device)
    if as_json:
        keys = ("documents", "paragraphs", "chunks", "embedded", "reused", "removed", "seconds")
        data = stats.to_dict()
        _echo_json({**{k: data[k] for k in keys},
                    "changes": {k: data[k] for k in ("added_documents", "changed_documents",
                                                     "removed_documents", "skipped")}})
        return
    click.echo(f"Indexed {stats.documents} documents, {stats.paragraphs} paragraphs, "
               f"{stats.chunks} chunks in {stats.seconds:.1f} s "
               f"(embedded {stats.embedded}, reused {stats.reused}, removed {stats.removed}).")
    for label, ids in (("added", stats.added_documents), ("changed", stats.changed_documents),
                       ("removed", stats.removed_documents)):
        if ids:
            click.echo(f"  {label}: {', '.join(ids)}")


def open_index(docs: Path, index_dir: Path, model: str | None):
    """Load the index, building it first when there is none, so a first search works; and
    re-embedding it when it was made with other weights of the bundled model (a kb from before
    its adapter, or KB_ADAPTER switched), so an upgrade does not stop the README's commands; and
    cutting its text into words again when an older kb cut it (kb.lexical.CUT_VERSION)."""
    from .build import copy_index
    from .lexical import CUT_VERSION
    from .provision import default_model_name, is_default_model
    from .store import open_store

    target = open_store(index_dir)
    if not target.exists():
        click.echo(f"No index in {index_dir} yet: building it from {docs} first…", err=True)
        _run_build(docs, index_dir, model)
    elif model is None and is_default_model(built := target.manifest()["model"].get("name", "")) \
            and built != default_model_name():
        click.echo(f"The index in {index_dir} was embedded with other weights of the bundled model ({built}): "
                   f"re-embedding it from {docs} first…", err=True)
        _run_build(docs, index_dir, model)
    elif target.manifest().get("cut") != CUT_VERSION:
        # its words were cut by an older kb (a fix to BM25's terms): cut again from its own chunks, nothing
        # embedded and no report read, so an upgrade reaches an index whose reports did not change
        click.echo(f"The index in {index_dir} was cut into words by an older kb: cutting it again first…", err=True)
        try:
            copy_index(index_dir, index_dir)
        except (OSError, KbError) as exc:
            _warn(f"could not cut it again ({exc}); searching it as it is")
    from .embedding import model_name

    return target.load(model_name(model) if model else None)


def _scoped(query, doc_ids, year, region, docs, index_dir, model, auth_file=None, as_user=None):
    """The index (as `as_user` may see it, with a sign-in file), its model and the filters a
    question is asked with; a bad question or an unknown document fails before any model is loaded."""
    from .embedding import load_embedder
    from .regions import short_name
    from .search import clean_query, make_filters

    clean_query(query)
    filters = make_filters(doc_ids, year, short_name(region))
    reader = _reader(auth_file, as_user)
    index = open_index(docs, index_dir, model)
    if reader is not None:
        from .access import readable_documents

        auth, user = reader
        index = index.readable(readable_documents(index.documents.values(), auth.access, user.groups, docs))
    unknown = [d for d in doc_ids if d not in index.documents]
    if unknown:
        raise click.ClickException(f"no document {unknown[0]!r} in the index; `kb status` lists them")
    return index, load_embedder(index.model_name), filters


def _no_results(index, filters) -> str:
    from .scope import why_nothing

    why = why_nothing(index.documents.values(), filters)
    return f"No results: {why}." if why else "No results."


def _reader(auth_file, as_user):
    """(sign-in file, user) for --as-user, or None."""
    if as_user is None:
        return None
    if auth_file is None:
        raise click.UsageError("--as-user needs --auth FILE (or KB_AUTH)")
    from . import users

    auth = users.load(auth_file)
    if as_user not in auth.users:
        raise KbError(f"no user {as_user!r} in {auth_file}")
    return auth, auth.users[as_user]


@cli.command("compare")
@click.argument("question")
@click.option("--doc", "doc_ids", multiple=True, help="Only this document id (repeat for several).")
@click.option("--year", default=None, help="Only reports of this year.")
@click.option("--region", default=None, help="Only reports about this region (e.g. 北京, Beijing).")
@click.option("--sort", type=click.Choice(["rank", "region", "year", "figure"]), default="rank", show_default=True)
@click.option("--csv", "as_csv", is_flag=True, help="Print CSV (UTF-8 with BOM, for spreadsheets).")
@docs_option
@index_option
@model_option
@auth_option
@as_user_option
@json_option
def compare_cmd(question, doc_ids, year, region, sort, as_csv, docs, index_dir, model, auth_file, as_user, as_json):
    """One answer per report, side by side: the sentence and the figure it gives. Over one place's
    reports of several years, a timeline: each year's target beside the outcome the next report gives."""
    from .compare import COLUMNS, table, timeline_csv, to_csv
    from .scope import missing_places
    from .timeframe import label as label_years

    index, embedder, filters = _scoped(question, doc_ids, year, region, docs, index_dir, model, auth_file, as_user)
    rows, years = table(index, embedder, question, filters, sort)
    missing = missing_places(index, question, filters)
    if as_csv:  # as /compare.csv gives it
        click.echo(timeline_csv(years) if years is not None else to_csv(rows), nl=False)
        return
    if as_json:  # as /api/compare gives it
        _echo_json({"query": question, "columns": list(COLUMNS), "rows": [r.to_dict() for r in rows],
                    "timeline": [y.to_dict() for y in years] if years is not None else None,
                    "missing_places": list(missing)})
        return
    for place in missing:
        click.secho(f"No report in the index is for {place}: these rows are the others'.", fg="yellow")
    if years:
        _echo_timeline(years)
        return
    if not rows:
        click.echo(_no_results(index, filters))
    width = max((_width(r.region or r.doc_id) for r in rows), default=4)
    for r in rows:  # the year beside the place: one place's reports of several years are told apart
        label = _pad(r.region or r.doc_id, width)
        click.secho(f"{label}  {r.year or '':<4}  {_pad(r.figure or '—', 12)}", bold=True, nl=False)
        # the year the figure is about, where it is not the report's (a review: 2025's growth in the 2026 report)
        about = f"  [讲的是{label_years(r.about_year)}]" if r.about_year and r.about_year[0] != r.year else ""
        click.echo(f"  {r.sentence[:80]}  ({r.citation}){about}")


def _width(text: str) -> int:
    """Columns a terminal gives the text: two for a Chinese character or a full-width one."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _pad(text: str, width: int) -> str:
    return text + " " * max(0, width - _width(text))


def _echo_timeline(years) -> None:
    """A year a line, target beside outcome, then the sentences that give them and their citations."""
    click.secho(f"{'年份':<4}  {'目标':<10}  实际", bold=True)
    for y in years:
        target, outcome = (r.figure if r and r.figure else "—" for r in (y.target, y.outcome))
        click.secho(f"{y.year:<6}  {_pad(target, 12)}  {outcome}", bold=True)
        for name, row in (("目标", y.target), ("实际", y.outcome)):
            if row:
                click.secho(f"        {name}：{row.sentence[:70]}  ({row.citation})", dim=True)


rerank_option = click.option("--rerank", is_flag=True, help="Read the first three results again with the cross-encoder "
                             "(kb/rerank.py), for articles whose paragraphs share their words; 0.15-0.3 s more.")


@cli.command("search")
@click.argument("query")
@click.option("-k", "k", default=10, show_default=True, help="How many paragraphs to return.")
@click.option("--doc", "doc_ids", multiple=True, help="Only this document id (repeat for several).")
@click.option("--year", default=None, help="Only reports of this year.")
@click.option("--region", default=None, help="Only reports about this region (e.g. 北京, Beijing).")
@click.option("--per-doc/--per-paragraph", "per_doc", default=None,
              help="One paragraph per report, or the most relevant paragraphs wherever they are. "
                   "Default: per report for questions many reports answer (各省…, 今年GDP目标 in a library).")
@click.option("--exact", is_flag=True, help="Search the words as typed: no reading of a character mistyped "
              "for another of its sound (扶务 → 服务).")
@rerank_option
@docs_option
@index_option
@model_option
@auth_option
@as_user_option
@json_option
def search_cmd(query, k, doc_ids, year, region, per_doc, exact, rerank, docs, index_dir, model, auth_file, as_user,
               as_json):
    """Search the reports; one result per paragraph, with its citation."""
    from .search import check_k, search
    from .timeframe import label

    check_k(k)
    index, embedder, filters = _scoped(query, doc_ids, year, region, docs, index_dir, model, auth_file, as_user)
    results = search(index, embedder, query, k, filters=filters, per_document=per_doc, spell=not exact,
                     rerank=rerank)
    if as_json:
        _echo_json({"query": query, "corrected": results.corrected, "per_document": results.per_document,
                    "missing_places": list(results.missing_places), "results": [r.to_dict() for r in results]})
        return
    for place in results.missing_places:
        click.secho(f"No report in the index is for {place}: these results are from the others.", fg="yellow")
    if results.corrected:
        click.secho(f"Searched for: {results.corrected} (--exact to search {query} as typed)", dim=True)
    if not results:
        click.echo(_no_results(index, filters))
    elif results.per_document and per_doc is None:
        click.secho("Many reports answer this: one paragraph per report (--per-paragraph for the most "
                    "relevant paragraphs; kb compare for a table).", dim=True)
    for r in results:
        about = f" · 讲的是{label(r.about_year)}" if r.about_year else ""
        click.secho(f"{r.rank}. {r.citation}" + (f"  [{r.year}{about}]" if r.year else ""), bold=True)
        click.echo(f"   {r.text}")
        click.secho(f"   score {r.score:.3f} · {r.url}", dim=True)
        click.echo()


@cli.command("status")
@docs_option
@index_option
@json_option
def status_cmd(docs, index_dir, as_json):
    """What is indexed, with which model, when, and which reports changed since."""
    from .build import changed_since
    from .store import open_store

    target = open_store(index_dir)
    manifest = target.manifest()
    kept = target.versions()
    try:
        changes = changed_since(manifest, docs)
    except KbError as exc:
        changes = {"error": str(exc)}
    data = {
        "index": str(index_dir),
        "documents": [{"doc_id": d["doc_id"], "title": d["title"]} for d in manifest["documents"]],
        "chunks": manifest["counts"]["chunks"],
        "model": manifest["model"],
        "built_at": manifest["built_at"],
        "changed_since_build": changes,
        "skipped_files": [{"path": s["path"], "reason": s["reason"]} for s in manifest.get("skipped_files", [])],
        "versions": kept,
    }
    if as_json:
        _echo_json(data)
        return
    click.echo(f"Index {index_dir}: {len(data['documents'])} documents, {data['chunks']} chunks, "
               f"model {manifest['model']['name']} ({manifest['model']['dim']} dims), "
               f"built {manifest['built_at']}.")
    for d in data["documents"]:
        click.echo(f"  {d['doc_id']}: {d['title']}")
    for v in kept:
        click.echo(f"Version {v['version']} ({'live' if v['live'] else 'kept for kb rollback'}): "
                   f"{v.get('documents')} documents, {v.get('chunks')} chunks, built {v.get('built_at')}")
    if data["skipped_files"]:
        click.echo(f"Skipped {len(data['skipped_files'])} files (not read again until they change):")
        for s in data["skipped_files"]:
            click.echo(f"  {s['path']}: {s['reason']}")
    if "error" in changes:
        click.echo(f"Cannot compare with {docs}: {changes['error']}")
    elif any(changes.values()):
        for label in ("added", "changed", "removed"):
            if changes[label]:
                click.echo(f"{label} since build: {', '.join(changes[label])}")
        click.echo("Run `kb build` to update the index.")
    else:
        click.echo(f"Up to date with {docs}.")


def main() -> None:
    cli(prog_name="kb")


@cli.command("check")
@index_option
@json_option
def check_cmd(index_dir, as_json):
    """Verify the index: every file against the checksum its build recorded, the counts, the model."""
    from .store import open_store

    problems, info = open_store(index_dir).check()
    if as_json:
        _echo_json({"index": str(index_dir), "ok": not problems, "problems": problems, **info})
    elif problems:
        for line in problems:
            click.echo(line, err=True)
    else:
        sums = info.get("checksums", "every file matches the checksum its build recorded")
        click.echo(f"Index {index_dir} is sound: {info.get('documents')} documents, {info.get('chunks')} chunks, "
                   f"model {info['model']}, version {info['version']}; {sums}.")
    if problems:
        raise SystemExit(1)


@cli.command("copy")
@index_option
@click.argument("target")
def copy_cmd(index_dir, target):
    """Copy the live index into TARGET (a folder, milvus:PATH.db or http://HOST:PORT) as its new live
    version, nothing embedded again: e.g. a folder index into Milvus."""
    import time

    from .build import copy_index

    started = time.perf_counter()
    version = copy_index(index_dir, target)
    click.echo(f"Copied {index_dir} to {target}: version {version} is live there "
               f"({time.perf_counter() - started:.1f} s).")


@cli.command("rollback")
@index_option
@click.argument("version", required=False)
def rollback_cmd(index_dir, version):
    """Make the version before the live one (or VERSION, from kb status) live again."""
    from .store import open_store

    target = open_store(index_dir)
    kept = target.versions()
    live = next((v["version"] for v in kept if v["live"]), None)
    if version is None:
        older = [v["version"] for v in kept if not v["live"] and (live is None or v["version"] < live)]
        if not older:
            raise KbError(f"no earlier version kept in {index_dir} to roll back to (kb status lists them)")
        version = older[0]
    target.switch(version)
    click.echo(f"Index {index_dir}: version {version} is live (was {live}).")


@cli.command("eval")
@click.argument("questions", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("-k", "k", default=10, show_default=True, help="Results per question.")
@docs_option
@index_option
@model_option
@json_option
@click.option("--misses", is_flag=True, help="List questions whose answer was not first.")
@click.option("--mode", type=click.Choice(["hybrid", "dense", "lexical"]), default="hybrid", show_default=True,
              help="Retriever to score: kb's (fused, preferring named reports), or one side alone.")
@click.option("--doc", "doc_ids", multiple=True, help="Search only this document (repeat for several).")
@rerank_option
def eval_cmd(questions, k, docs, index_dir, model, as_json, misses, mode, doc_ids, rerank):
    """Score retrieval on a question set (seed format with "gold", or CMRC with "gold_ids")."""
    from .embedding import load_embedder
    from .evaluate import evaluate, read_questions
    from .search import make_filters, search

    qs = read_questions(questions)
    index = open_index(docs, index_dir, model)
    embedder = load_embedder(index.model_name)
    plain = mode != "hybrid"  # one retriever alone, without kb's document preference
    unknown = sorted({d for q in qs for d in (doc_ids or q.docs)} - set(index.documents))
    if unknown:
        raise KbError(f"no document {', '.join(unknown)} in {index_dir} (kb status lists the documents)")

    def run(q, kk, docs):  # --doc applies to every question; otherwise a question's own "doc"
        return search(index, embedder, q, kk, mode=mode, prefer_named=not plain,
                      filters=make_filters(doc_ids or docs), rerank=rerank)

    report = evaluate(qs, run, k)
    report["mode"] = mode
    report["rerank"] = rerank
    if not misses:
        report.pop("misses")
    if as_json:
        _echo_json(report)
        return
    click.echo(f"{mode}{', reranked' if rerank else ''}, {report['n']} questions: Recall@1 {report['recall@1']:.3f}  "
               f"Recall@5 {report['recall@5']:.3f}  MRR@10 {report['mrr@10']:.3f}")
    for t, s in report["by_type"].items():
        click.echo(f"  {t:<12} n={s['n']:<4} R@1 {s['recall@1']:.3f}  R@5 {s['recall@5']:.3f}  "
                   f"MRR@10 {s['mrr@10']:.3f}")
    for m in report.get("misses", []):
        first = m["first"]["citation"] if m["first"] else "nothing"
        click.echo(f"- [{m['rank'] or '-'}] {m['q']}  (first: {first})")


@cli.command("serve")
@follow_option
@click.option("--host", default="127.0.0.1", show_default=True, envvar="KB_HOST",
              help="Address to listen on; 0.0.0.0 exposes kb to your network.")
@click.option("--port", default=8000, show_default=True, type=int, envvar="KB_PORT")
@click.option("--threads", default=8, show_default=True, type=int, help="Worker threads.")
@click.option("--watch", "live", is_flag=True, help="Rebuild when reports change (like kb watch).")
@click.option("--proxy", is_flag=True, envvar="KB_PROXY",
              help="Behind one reverse proxy: trust its X-Forwarded-For and X-Forwarded-Proto.")
@docs_option
@index_option
@model_option
@auth_option
def serve_cmd(host, port, threads, docs, index_dir, model, live, proxy, auth_file):
    """Serve the search page and JSON API (waitress), building the index first if needed."""
    if auth_file is not None:
        from . import users

        users.load(auth_file)  # a missing or broken sign-in file stops here, with its reason
    elif host in ("0.0.0.0", "::", ""):
        _warn(f"listening on all interfaces ({host}) without --auth: anyone on your network can search these reports")
    index = open_index(docs, index_dir, model)
    from waitress import serve

    from webapp import create_app

    app = create_app({"INDEX": str(index_dir), "DOCS": str(docs), "MODEL": index.model_name,
                      "AUTH": str(auth_file) if auth_file else None, "PROXY": proxy})
    app.extensions["kb"].embedder()  # load the model now, not on the first request
    app.extensions["kb"].get()
    from .lexical import tokenize

    tokenize("预热")  # and jieba's dictionary (about 0.3 s)
    import threading

    from .lexicon import dictionary_terms

    # in the background, what the first English word the lexicon never met and the first mistyped
    # question would otherwise wait for: the dictionary (~3 s the first time on a machine) and the
    # sounds of the index's words (~0.5 s)
    threading.Thread(target=lambda: (dictionary_terms("warm"), app.extensions["kb"].get().speller("预热预执")),
                     daemon=True, name="kb-warm").start()
    if live:
        from .watch import watch

        threading.Thread(target=watch, daemon=True, name="kb-watch", kwargs=dict(
            docs=docs, index_dir=app.extensions["kb"].store, model=index.model_name, warn=_warn, build_first=False,
            on_build=lambda s: (_report_build(s), app.extensions["kb"].refresh()),
            on_error=lambda e: _warn(f"rebuild failed: {e}"))).start()
    signin = f", sign-in required ({auth_file})" if auth_file else ""
    click.echo(f"kb serving {len(index.documents)} documents on http://{host}:{port}/{signin}", err=True)
    import logging

    access = logging.getLogger("kb.access")  # one line per request (webapp/observe.py)
    if not access.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
        access.addHandler(handler)
        access.setLevel(logging.INFO)
        access.propagate = False
    serve(app, host=host, port=port, threads=threads, ident="kb", _quiet=True)


@cli.group("user")
def user_group():
    """Users of a shared kb (`kb serve --auth FILE`): add, passwd, token, revoke, remove, list."""


auth_required = click.option("--auth", "auth_file", type=click.Path(path_type=Path), required=True, envvar="KB_AUTH",
                             show_envvar=True, help="The sign-in file (created by the first `kb user add`).")


def _read_password() -> str:
    """A password asked for twice on a terminal, else the first line of standard input."""
    if sys.stdin.isatty():
        return click.prompt("Password", hide_input=True, confirmation_prompt=True)
    return sys.stdin.readline().rstrip("\r\n")


@user_group.command("add")
@click.argument("name")
@auth_required
@click.option("--group", "groups", multiple=True, help="A group the user belongs to (repeat for several).")
def user_add(name, auth_file, groups):
    """Add a user; the password is read from standard input (asked for on a terminal)."""
    from . import users

    users.add_user(auth_file, name, _read_password(), groups)
    click.echo(f"added {name}" + (f" ({', '.join(groups)})" if groups else "") + f" to {auth_file}", err=True)


@user_group.command("passwd")
@click.argument("name")
@auth_required
def user_passwd(name, auth_file):
    """A new password for NAME (from standard input, or asked for); their web sessions end."""
    from . import users

    users.set_password(auth_file, name, _read_password())
    click.echo(f"changed the password of {name}", err=True)


@user_group.command("token")
@click.argument("name")
@auth_required
def user_token(name, auth_file):
    """Print a new bearer token for NAME (for API clients; shown once, only its hash is kept)."""
    from . import users

    click.echo(users.new_token(auth_file, name))


@user_group.command("revoke")
@click.argument("name")
@auth_required
def user_revoke(name, auth_file):
    """End every token of NAME (a running server stops accepting them at its next request)."""
    from . import users

    n = users.revoke(auth_file, name)
    click.echo(f"revoked {n} token{'s' if n != 1 else ''} of {name}", err=True)


@user_group.command("remove")
@click.argument("name")
@auth_required
def user_remove(name, auth_file):
    """Remove NAME: their password, tokens and sessions stop working."""
    from . import users

    users.remove_user(auth_file, name)
    click.echo(f"removed {name}", err=True)


@user_group.command("list")
@auth_required
@json_option
def user_list(auth_file, as_json):
    """The users, their groups and how many tokens each has; and the [access] table."""
    from . import users

    auth = users.load(auth_file)
    rows = [{"name": u.name, "groups": list(u.groups), "tokens": len(u.tokens)} for u in auth.users.values()]
    if as_json:
        _echo_json({"users": rows, "access": {k: list(v) for k, v in auth.access.items()}})
        return
    for r in rows:
        click.echo(f"{r['name']}\t{','.join(r['groups']) or '-'}\t{r['tokens']} token(s)")
    for folder, groups in auth.access.items():
        click.echo(f"[access] {folder} → {', '.join(groups)}")


def _report_build(stats) -> None:
    changes = [f"{label} {', '.join(ids)}" for label, ids in (
        ("added", stats.added_documents), ("changed", stats.changed_documents),
        ("removed", stats.removed_documents)) if ids]
    click.echo(f"rebuilt: {stats.documents} documents, embedded {stats.embedded}, removed {stats.removed} "
               f"in {stats.seconds:.1f} s" + (f" ({'; '.join(changes)})" if changes else ""), err=True)


@cli.command("watch")
@follow_option
@docs_option
@index_option
@model_option
@click.option("--debounce", default=1.0, show_default=True, help="Seconds of quiet before a rebuild.")
def watch_cmd(docs, index_dir, model, debounce):
    """Keep the index up to date: rebuild incrementally whenever reports change (Ctrl-C stops)."""
    from .documents import find_files
    from .watch import watch

    find_files(docs)  # a missing folder is an error now, not a silent watch
    click.echo(f"watching {docs} → {index_dir} (Ctrl-C to stop)", err=True)
    try:
        watch(docs, index_dir, on_build=_report_build, model=model, debounce=debounce, warn=_warn,
              on_error=lambda e: _warn(f"rebuild failed: {e}"))
    except KeyboardInterrupt:
        pass
