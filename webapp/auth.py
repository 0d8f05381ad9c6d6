"""Sign-in for a kb an office shares (off unless `kb serve --auth FILE`).

With it on, every page and API call needs a signed-in reader: pages redirect to /signin, the API
answers 401 without `Authorization: Bearer <token>` (`kb user token`). `/healthz` stays open. What a
reader may see is decided once: `view` gives the request the index as that reader has it
(`Index.readable`, from the `[access]` table of the sign-in file), and the holder hands every
endpoint that view, so nothing is computed from a report the reader may not open.

Sessions: a signed cookie (HttpOnly, SameSite=Lax, Secure when the request came over https) that
names a session this process keeps; signing out ends it here, so a copy of the cookie stops working,
and so does a new password (`kb user passwd`). A restart signs everyone out. Wrong passwords are slowed down per user name and per address
(webapp/limits.py). The sign-in file is read again when it changes, so a revoked
token or a removed user stops working at the next request.
"""
from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections import OrderedDict
from pathlib import Path
from urllib.parse import urlsplit

from flask import (Blueprint, Flask, current_app, g, has_request_context, jsonify, redirect, render_template,
                   request, session, url_for)
from flask.sessions import SecureCookieSessionInterface

from kb import users as userfile
from kb.access import readable_documents

bp = Blueprint("auth", __name__)
OPEN_ENDPOINTS = {"auth.signin", "auth.signin_post", "api.healthz", "static"}
SESSION_HOURS = 12


class _Sessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, Secure whenever the request itself came over https
    (directly, or through a proxy kb is told to trust: `kb serve --proxy`)."""

    def get_cookie_secure(self, app):
        return bool(app.config.get("SESSION_COOKIE_SECURE")) or (has_request_context() and request.is_secure)


class Gate:
    """The sign-in file (read again when it changes), the live sessions, and readers' views."""

    def __init__(self, path: Path, docs_root: Path):
        self.path = Path(path)
        self.docs_root = Path(docs_root)
        self._file: userfile.AuthFile = userfile.load(self.path)
        self._stamp = self._stat()
        self._lock = threading.Lock()
        # session id → (user, expires, the password hash it signed in with: a new password ends it)
        self.sessions: dict[str, tuple[str, float, str]] = {}
        self._views: OrderedDict = OrderedDict()

    def _stat(self):
        st = self.path.stat()
        return st.st_mtime_ns, st.st_size, st.st_ino

    def file(self) -> userfile.AuthFile:
        try:
            stamp = self._stat()
        except OSError:
            return self._file  # the file is being replaced: the last good one answers
        if stamp != self._stamp:
            with self._lock:
                try:
                    self._file, self._stamp = userfile.load(self.path), stamp
                except userfile.AuthError as exc:  # a half-edited file: keep the last good one
                    current_app.logger.error("sign-in file not reloaded: %s", exc)
        return self._file

    def user(self, name: str | None) -> userfile.User | None:
        return self.file().users.get(name) if name else None

    def start_session(self, user: userfile.User) -> str:
        sid = secrets.token_urlsafe(32)
        now = time.time()
        with self._lock:
            self.sessions = {k: v for k, v in self.sessions.items() if v[1] > now}
            self.sessions[sid] = (user.name, now + SESSION_HOURS * 3600, user.password)
        return sid

    def session_user(self, sid: str | None) -> userfile.User | None:
        live = self.sessions.get(sid or "")
        if not live or live[1] < time.time():
            return None
        user = self.user(live[0])
        return user if user is not None and hmac.compare_digest(user.password, live[2]) else None

    def end_session(self, sid: str | None) -> None:
        with self._lock:
            self.sessions.pop(sid or "", None)

    def view(self, index, user: userfile.User | None):
        """The index as `user` may see it (nothing at all for no user)."""
        auth = self.file()
        groups = tuple(sorted(user.groups)) if user else None
        key = (index.version, id(index), groups, tuple(sorted(auth.access.items())))
        with self._lock:
            if key in self._views:
                self._views.move_to_end(key)
                return self._views[key]
        readable = (readable_documents(index.documents.values(), auth.access, groups, self.docs_root)
                    if groups is not None else frozenset())
        view = index.readable(readable)
        with self._lock:
            for old in [k for k in self._views if k[:2] != key[:2]]:  # views of an index a rebuild replaced
                del self._views[old]  # would keep it in memory
            self._views[key] = view
            while len(self._views) > 32:
                self._views.popitem(last=False)
        return view


def init_app(app: Flask, path: Path) -> None:
    from datetime import timedelta

    from flask_wtf.csrf import CSRFProtect

    gate = Gate(path, Path(app.config["DOCS"]))
    app.extensions["kb_gate"] = gate
    app.secret_key = gate.file().secret
    app.session_interface = _Sessions()
    app.permanent_session_lifetime = timedelta(hours=SESSION_HOURS)
    app.config.update(SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax", SESSION_COOKIE_NAME="kb_session",
                      WTF_CSRF_TIME_LIMIT=None)
    csrf = CSRFProtect(app)
    from . import api

    csrf.exempt(api.bp)  # the API takes bearer tokens, not cookies, for what changes state
    app.before_request(_gate)
    # the sign-out form (with its CSRF token) only for a reader signed in with a session, not with a token
    app.context_processor(lambda: {"reader": g.get("reader"), "by_session": g.get("by_session", False)})


def _gate():
    """Who is asking; a redirect to /signin or a 401 when no one is signed in."""
    gate: Gate = current_app.extensions["kb_gate"]
    g.reader, g.reader_all = None, False
    header = request.headers.get("Authorization", "")
    if header:
        token = header.removeprefix("Bearer ").strip()
        admin = current_app.config.get("ADMIN_TOKEN")
        if admin and request.endpoint == "api.api_reindex" and hmac.compare_digest(token.encode(), admin.encode()):
            g.reader_all = True  # the reindex token rebuilds the whole index, as without sign-in
            return None
        g.reader = userfile.user_for_token(gate.file(), token)
        if g.reader is None:
            return _unauthorized("the bearer token is not valid (it may have been revoked)")
        return None
    g.reader = gate.session_user(session.get("sid"))
    g.by_session = g.reader is not None
    if g.reader is not None or request.endpoint in OPEN_ENDPOINTS:
        return None
    if request.endpoint == "observe.metrics":
        return None  # answers this machine only (webapp/observe.py)
    if request.path.startswith("/api/") or request.endpoint is None and request.path.startswith("/api"):
        return _unauthorized("sign in: send Authorization: Bearer <token> (kb user token NAME --auth FILE)")
    return redirect(url_for("auth.signin", next=request.full_path.rstrip("?")))


def _unauthorized(message: str):
    response = jsonify({"error": {"code": "unauthorized", "message": message}})
    response.status_code = 401
    response.headers["WWW-Authenticate"] = 'Bearer realm="kb"'
    return response


def view(index):
    """The index the current request may see: the whole index outside a request or without sign-in."""
    if not has_request_context() or "kb_gate" not in current_app.extensions or g.get("reader_all"):
        return index
    return current_app.extensions["kb_gate"].view(index, g.get("reader"))


def _safe_next(target: str | None) -> str:
    """Only a path on this site (no //host, no scheme): no open redirect after sign-in."""
    parts = urlsplit(target or "")
    if not target or parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("pages.index")
    return target


@bp.get("/signin")
def signin():
    if g.get("reader"):
        return redirect(_safe_next(request.args.get("next")))
    return render_template("signin.html", next=request.args.get("next", ""), error=None)


@bp.post("/signin")
def signin_post():
    gate: Gate = current_app.extensions["kb_gate"]
    name, password = request.form.get("name", ""), request.form.get("password", "")
    user = userfile.check_password(gate.file(), name, password)
    if user is None:
        return render_template("signin.html", next=request.form.get("next", ""), error="用户名或密码不对。"), 401
    session.clear()
    session["sid"] = gate.start_session(user)
    session.permanent = True
    return redirect(_safe_next(request.form.get("next")))


@bp.post("/signout")
def signout():
    current_app.extensions["kb_gate"].end_session(session.get("sid"))
    session.clear()
    return redirect(url_for("auth.signin"))
