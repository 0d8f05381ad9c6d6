"""A kb an office shares: sign-in, sessions, tokens, limits, and permissions by folder that nothing leaks."""
import random
import re
import secrets
import stat
from urllib.parse import unquote

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kb import users
from kb.cli import cli
from webapp import create_app

FOLDERS = ["", "public/", "internal/", "internal/hr/", "drafts/"]
GROUPS = ["staff", "hr", "press"]
TOPICS = ["地区生产总值增长{n}%左右", "城镇新增就业{n}万人以上", "建设高标准农田{n}万亩", "改造老旧小区{n}个",
          "一般公共预算收入增长{n}%", "新建保障性住房{n}万套"]


def _reports(seed: int = 7) -> dict[str, str]:
    """Eight reports in random folders; every sentence, heading and title carries the report's code,
    so any piece of its text that reaches an answer is found by looking for the code."""
    rng = random.Random(seed)
    out = {}
    for i in range(8):
        code = f"QX{rng.randrange(1000, 9999)}{'ABCDEFGH'[i]}"
        folder = FOLDERS[i % len(FOLDERS)] if i < len(FOLDERS) else rng.choice(FOLDERS)
        body = [f"{code}工作报告", f"一、{code}过去一年回顾"]
        for _ in range(2):
            body.append("。".join(f"{code}专项{t.format(n=rng.randrange(2, 90))}" for t in rng.sample(TOPICS, 3)) + "。")
        body.append(f"二、{code}今年安排")
        body.append("。".join(f"{code}计划{t.format(n=rng.randrange(2, 90))}" for t in rng.sample(TOPICS, 3)) + "。")
        out[f"{folder}doc-{code.lower()}.txt"] = "\n\n".join(body) + "\n"
    return out


@pytest.fixture(scope="module")
def office(tmp_path_factory, embedder):
    """A reports folder with nested folders and one index of it."""
    from kb.build import build

    root = tmp_path_factory.mktemp("office")
    docs = root / "reports"
    codes = {}
    for rel, text in _reports().items():
        path = docs / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        codes[rel] = text.split("工作报告")[0]
    build(docs, root / "index", embedder=embedder)
    return root, codes


def _auth_file(path, access: dict, members: dict[str, list[str]]) -> dict[str, str]:
    """A sign-in file with these users (a bearer token each) and access table; the tokens by user."""
    tokens = {name: users.TOKEN_PREFIX + secrets.token_urlsafe(16) for name in members}
    auth = users.AuthFile(path, secrets.token_urlsafe(48), {
        name: users.User(name, "scrypt:1:1:1$x$0", tuple(groups), (users.token_hash(tokens[name]),))
        for name, groups in members.items()}, {k: tuple(v) for k, v in access.items()})
    users.save(auth)
    return tokens


def _may_read(rel: str, access: dict, groups) -> bool:
    """The test's own reading of the rule (not kb's): the longest folder entry over the file decides."""
    over = [folder for folder in access if rel.startswith(folder)]
    return not over or bool(set(access[max(over, key=len)]) & set(groups))


def _app(root, auth_path, **config):
    return create_app({"INDEX": str(root / "index"), "DOCS": str(root / "reports"), "AUTH": str(auth_path),
                       "RATE_LIMIT": "off", "RELOAD_SECONDS": 0, **config})


access_tables = st.dictionaries(st.sampled_from([f for f in FOLDERS if f]),
                                st.lists(st.sampled_from(GROUPS), max_size=2, unique=True), max_size=4)
memberships = st.lists(st.lists(st.sampled_from(GROUPS), max_size=2, unique=True), min_size=1, max_size=3)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(access=access_tables, groups=memberships)
def test_no_answer_holds_a_byte_of_what_its_reader_may_not_read(office, tmp_path, access, groups):
    root, codes = office
    members = {f"user{i}": g for i, g in enumerate(groups)}
    tokens = _auth_file(tmp_path / "users.toml", access, members)
    client = _app(root, tmp_path / "users.toml").test_client()
    runner = CliRunner()
    for name, token in tokens.items():
        h = {"Authorization": f"Bearer {token}"}
        readable = {rel for rel in codes if _may_read(rel, access, members[name])}
        hidden = [(rel, codes[rel]) for rel in codes if rel not in readable]
        ids = {rel: rel.removesuffix(".txt") for rel in codes}
        answers = []
        for rel, code in [(rel, codes[rel]) for rel in codes]:
            # asked in lower case (kb folds case), so that the question echoed back is not the code
            r = client.get("/api/search", query_string={"q": f"{code.lower()}专项", "k": 50}, headers=h)
            answers.append(r.get_data(as_text=True))
            if rel in readable:  # what the reader may see is there (so the test can fail)
                assert r.get_json()["results"][0]["doc_id"] == ids[rel]
                for url in (f"/docs/{ids[rel]}", f"/api/search?q=增长&doc={ids[rel]}", f"/?q=增长&doc={ids[rel]}"):
                    assert client.get(url, headers=h).status_code == 200
        for url in ("/api/search?q=地区生产总值增长目标&k=50&per_doc=1", "/api/search?q=各地城镇新增就业&k=50",
                    "/api/compare?q=地区生产总值增长目标", "/api/compare?q=历年地区生产总值增长", "/api/status",
                    "/?q=老旧小区改造", "/compare?q=城镇新增就业", "/compare.csv?q=地区生产总值增长",
                    "/docs/no-such-report", "/api/search?q=增长&doc=no-such-report"):
            answers.append(client.get(url, headers=h).get_data(as_text=True))
        for args in (["search", "地区生产总值增长", "-k", "50"], ["compare", "城镇新增就业"]):
            out = runner.invoke(cli, [*args, "--docs", str(root / "reports"), "--index", str(root / "index"),
                                      "--auth", str(tmp_path / "users.toml"), "--as-user", name, "--json"])
            assert out.exit_code == 0, out.output
            answers.append(out.output)
        for rel, code in hidden:
            for text in answers:
                assert code not in text and ids[rel] not in text, f"{name} was shown {rel}"
        for rel, _ in hidden:  # asked by name, a report the reader may not see answers as one that does not exist
            made_up = "zz/" + "x" * len(ids[rel])
            for url in ("/docs/{}", "/api/search?q=增长&doc={}", "/?q=增长&doc={}", "/api/compare?q=增长&doc={}"):
                there = client.get(url.format(ids[rel]), headers=h)
                nowhere = client.get(url.format(made_up), headers=h)
                assert there.status_code == nowhere.status_code and there.status_code in (200, 404)
                assert _same(there.get_data(as_text=True), ids[rel]) == _same(nowhere.get_data(as_text=True), made_up)


def _same(body: str, asked: str) -> str:
    """An answer with what was asked for, and the time it took, blanked."""
    return re.sub(r'"took_ms":[\d.]+|\d+(\.\d+)? ms', "", body.replace(asked, "?"))


@pytest.fixture
def signed(office, tmp_path):
    """An app with two users (alice in staff, bob in none), internal/ for staff."""
    root, codes = office
    path = tmp_path / "users.toml"
    users.add_user(path, "alice", "correct horse 1", ["staff"])
    users.add_user(path, "bob", "correct horse 2")
    auth = users.load(path)
    auth.access = {"internal/": ("staff",)}
    users.save(auth)
    return root, path, codes


def _csrf(client, base_url="http://localhost") -> str:
    """The CSRF token of the sign-in form, or of the sign-out form when signed in."""
    page = client.get("/signin", base_url=base_url, follow_redirects=True).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def _sign_in(client, name, password, base_url="http://localhost", **extra):
    # over https the CSRF check also wants the browser's Referer of this site (Flask-WTF's strict mode)
    return client.post("/signin", base_url=base_url, headers={"Referer": f"{base_url}/signin"},
                       data={"name": name, "password": password, "csrf_token": _csrf(client, base_url), **extra})


def test_everything_but_healthz_needs_a_signed_in_reader(signed):
    root, path, _ = signed
    client = _app(root, path).test_client()
    assert client.get("/healthz").status_code == 200
    api = client.get("/api/search?q=增长")
    assert api.status_code == 401 and api.headers["WWW-Authenticate"].startswith("Bearer")
    assert api.get_json()["error"]["code"] == "unauthorized"
    page = client.get("/?q=增长")
    assert page.status_code == 302 and page.headers["Location"].startswith("/signin?next=")
    assert client.get("/docs/anything").status_code == 302  # not a 404 that says what exists
    assert client.get("/api/search?q=增长", headers={"Authorization": "Bearer kb_wrong"}).status_code == 401


def test_sign_in_sets_a_safe_cookie_and_sign_out_ends_the_session(signed):
    root, path, codes = signed
    client = _app(root, path).test_client()
    wrong = _sign_in(client, "alice", "not her password")
    assert wrong.status_code == 401 and "用户名或密码不对" in wrong.get_data(as_text=True)
    ok = _sign_in(client, "alice", "correct horse 1", next="/?q=增长")
    assert ok.status_code == 302 and unquote(ok.headers["Location"]) == "/?q=增长"
    cookie = ok.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    page = client.get("/?q=增长").get_data(as_text=True)
    assert "alice" in page and "退出登录" in page
    stolen = client.get_cookie("kb_session").value
    assert client.post("/signout", data={"csrf_token": _csrf(client)}).status_code == 302
    client.set_cookie("kb_session", stolen)
    assert client.get("/?q=增长").status_code == 302  # ended here, not only forgotten by the browser
    https = _app(root, path).test_client()
    assert "Secure" in _sign_in(https, "alice", "correct horse 1", base_url="https://localhost").headers["Set-Cookie"]


def test_a_new_password_ends_the_sessions_signed_in_with_the_old_one(signed):
    root, path, _ = signed
    client = _app(root, path).test_client()
    assert _sign_in(client, "alice", "correct horse 1").status_code == 302
    assert client.get("/?q=增长").status_code == 200
    result = CliRunner().invoke(cli, ["user", "passwd", "alice", "--auth", str(path)], input="battery staple 3\n")
    assert result.exit_code == 0, result.output
    assert client.get("/?q=增长").status_code == 302
    assert _sign_in(client, "alice", "correct horse 1").status_code == 401
    assert _sign_in(client, "alice", "battery staple 3").status_code == 302


def test_forms_that_change_state_need_their_csrf_token(signed):
    root, path, _ = signed
    client = _app(root, path).test_client()
    assert client.post("/signin", data={"name": "alice", "password": "correct horse 1"}).status_code == 400
    assert _sign_in(client, "alice", "correct horse 1").status_code == 302
    assert client.post("/signout").status_code == 400
    assert client.get("/?q=增长").status_code == 200  # still signed in: the forged sign-out did nothing


def test_sign_in_never_redirects_off_the_site(signed):
    root, path, _ = signed
    client = _app(root, path).test_client()
    for target in ("//evil.example/", "https://evil.example/", "javascript:alert(1)"):
        assert _sign_in(client, "alice", "correct horse 1", next=target).headers["Location"] == "/"
        client.post("/signout", data={"csrf_token": _csrf(client)})


def test_a_revoked_token_stops_working_at_once(signed):
    root, path, _ = signed
    token = users.new_token(path, "bob")
    client = _app(root, path).test_client()
    h = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/search?q=增长", headers=h).status_code == 200
    result = CliRunner().invoke(cli, ["user", "revoke", "bob", "--auth", str(path)])
    assert result.exit_code == 0
    assert client.get("/api/search?q=增长", headers=h).status_code == 401


def test_the_sign_in_file_never_holds_a_password_or_a_token(signed):
    root, path, _ = signed
    token = users.new_token(path, "alice")
    result = CliRunner().invoke(cli, ["user", "add", "carol", "--auth", str(path), "--group", "press"],
                                input="carol's secret phrase\n")
    assert result.exit_code == 0, result.output
    text = path.read_text(encoding="utf-8")
    for secret in ("correct horse 1", "correct horse 2", "carol's secret phrase", token):
        assert secret not in text
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert users.check_password(users.load(path), "carol", "carol's secret phrase").groups == ("press",)
    assert users.load(path).access == {"internal/": ("staff",)}  # kept through the rewrite
    short = CliRunner().invoke(cli, ["user", "add", "dave", "--auth", str(path)], input="short\n")
    assert short.exit_code == 1 and "at least 8 characters" in short.output
    assert "Traceback" not in short.output


def test_wrong_passwords_are_slowed_down(signed):
    root, path, _ = signed
    client = _app(root, path).test_client()
    answers = [_sign_in(client, "alice", f"guess {i}").status_code for i in range(6)]
    assert answers == [401] * 5 + [429]
    late = _sign_in(client, "alice", "correct horse 1")
    assert late.status_code == 429 and int(late.headers["Retry-After"]) > 0  # even the right one, for a while
    assert _sign_in(client, "bob", "correct horse 2").status_code == 302  # another user is not locked out


def test_searches_past_the_rate_limit_get_429_with_retry_after(signed):
    root, path, _ = signed
    token = users.new_token(path, "bob")
    client = _app(root, path, RATE_LIMIT="3 per minute").test_client()
    h = {"Authorization": f"Bearer {token}"}
    codes = [client.get("/api/search?q=增长", headers=h).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    late = client.get("/api/search?q=增长", headers=h)
    assert late.get_json()["error"]["code"] == "too_many_requests" and int(late.headers["Retry-After"]) > 0
    other = users.new_token(path, "alice")
    assert client.get("/api/search?q=增长", headers={"Authorization": f"Bearer {other}"}).status_code == 200


def test_a_reader_sees_only_the_folders_of_their_groups(signed):
    root, path, codes = signed
    client = _app(root, path).test_client()
    assert any(rel.startswith("internal/") for rel in codes)
    _sign_in(client, "bob", "correct horse 2")
    some = client.get("/api/status").get_json()
    assert not any(d["doc_id"].startswith("internal/") for d in some["documents"]) and some["documents"]
    client.post("/signout", data={"csrf_token": _csrf(client)})
    _sign_in(client, "alice", "correct horse 1")
    every = client.get("/api/status").get_json()
    assert {d["doc_id"] for d in every["documents"]} == {rel.removesuffix(".txt") for rel in codes}
    assert every["chunks"] > some["chunks"]


def test_one_readers_questions_come_back_no_faster_for_another(signed, embedder, monkeypatch):
    """The server remembers question vectors per reader (a facet click asks again): how fast an
    answer comes back must not tell bob what alice asked."""
    root, path, _ = signed
    calls = []
    encode = embedder.encoder.encode
    monkeypatch.setattr(embedder.encoder, "encode", lambda texts, size: calls.append(texts) or encode(texts, size))
    question = "今年改造多少个老旧小区（办公室）"
    for name, password in (("alice", "correct horse 1"), ("bob", "correct horse 2")):
        client = _app(root, path).test_client()
        _sign_in(client, name, password)
        for _ in range(2):
            assert client.get("/api/search", query_string={"q": question}).status_code == 200
    assert sum(question in text for texts in calls for text in texts) == 2  # once for each of them


def test_one_client_cannot_run_more_than_its_share_of_searches_at_once():
    import threading

    from flask import Flask, g
    from werkzeug.exceptions import TooManyRequests

    from webapp.limits import _capped

    app, release, inside = Flask(__name__), threading.Event(), threading.Event()

    def slow():
        inside.set()
        release.wait(5)
        return "done"

    view = _capped(slow, 1)

    def ask(name, out):
        with app.test_request_context("/api/search"):
            g.reader = users.User(name, "")
            try:
                out.append(view())
            except TooManyRequests as exc:
                out.append(exc.code)

    first, second, other = [], [], []
    t = threading.Thread(target=ask, args=("alice", first))
    t.start()
    inside.wait(5)
    ask("alice", second)  # alice's second search while her first runs: 429 at once
    inside.clear()
    u = threading.Thread(target=ask, args=("bob", other))
    u.start()
    inside.wait(5)  # bob is let in while alice's search runs
    release.set()
    t.join(5), u.join(5)
    assert second == [429] and first == ["done"] and other == ["done"]


def test_the_reindex_token_still_rebuilds_with_sign_in_on(signed):
    root, path, _ = signed
    client = _app(root, path, ADMIN_TOKEN="an-admin-token-of-some-length").test_client()
    bob = {"Authorization": f"Bearer {users.new_token(path, 'bob')}"}
    assert client.post("/api/reindex", headers=bob).status_code == 401  # a reader's token is not the admin's
    done = client.post("/api/reindex", headers={"Authorization": "Bearer an-admin-token-of-some-length"})
    assert done.status_code == 200 and done.get_json()["documents"] == 8
