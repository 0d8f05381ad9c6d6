"""The web app through Flask's test client, on the real index and model."""
import json
import re
import shutil

import pytest

from kb.provision import default_model_name
from webapp import create_app


@pytest.fixture(scope="module")
def app(built_index, report_dir):
    return create_app({"INDEX": str(built_index), "DOCS": str(report_dir), "TESTING": True})


@pytest.fixture
def client(app):
    return app.test_client()


def test_api_search_parking_question(client):
    res = client.get("/api/search", query_string={"q": "停车难怎么解决"})
    assert res.status_code == 200
    top = res.get_json()["results"][0]
    assert "扩容停车泊位3万个以上" in top["text"]
    assert top["url"] == f"/docs/shenyang-2024#p{top['paragraph']}"
    page = client.get(top["url"].split("#")[0]).get_data(as_text=True)
    assert re.search(rf'<p id="p{top["paragraph"]}"[^>]*>.*扩容停车泊位3万个以上', page)


def test_search_page_without_javascript(client):
    html = client.get("/", query_string={"q": "沈阳鸡架得了什么奖"}).get_data(as_text=True)
    assert 'lang="zh-CN"' in html and "autofocus" in html
    assert "沈阳鸡架荣获中国特色旅游商品大赛金奖" in re.sub(r"<[^>]+>", "", html)
    assert "<mark>" in html and 'class="best"' in html
    assert "复制引用" in html and "在报告中打开" in html
    assert 'data-citation="《2024年沈阳市政府工作报告》' in html


def test_empty_and_error_states(client):
    assert "在报告中查找答案" in client.get("/").get_data(as_text=True)
    long = client.get("/", query_string={"q": "沈" * 2000}).get_data(as_text=True)
    assert "too long" in long and 'role="alert"' in long


def test_script_in_query_is_escaped_everywhere(client):
    q = '<script>alert("x")</script>'
    html = client.get("/", query_string={"q": q}).get_data(as_text=True)
    assert "<script>alert" not in html and "&lt;script&gt;alert" in html
    res = client.get("/api/search", query_string={"q": q})
    assert res.headers["Content-Type"].startswith("application/json")
    assert res.headers["Content-Security-Policy"].startswith("default-src 'self'")
    assert res.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("params, status", [
    ({"q": ""}, 400), ({"q": "   "}, 400), ({"q": "沈阳", "k": "0"}, 400), ({"q": "沈阳", "k": "-1"}, 400),
    ({"q": "沈阳", "k": "abc"}, 400), ({"q": "沈阳", "k": str(10**9)}, 400), ({"q": "x" * 100_000}, 400),
])
def test_api_errors_are_json_4xx(client, params, status):
    res = client.get("/api/search", query_string=params)
    assert res.status_code == status
    body = res.get_json()
    assert set(body["error"]) == {"code", "message"}


def test_unknown_document_wrong_method_and_traversal(client):
    page = client.get("/docs/no-such-report")
    assert page.status_code == 404
    html = page.get_data(as_text=True)  # in the page's language, and not claiming the index is missing
    assert "没有这个页面或文档" in html and "尚无可用索引" not in html
    assert client.get("/docs/../../etc/passwd").status_code == 404
    assert client.get("/docs/%2e%2e/%2e%2e/etc/passwd").status_code == 404
    res = client.post("/api/search")
    assert res.status_code == 405 and res.get_json()["error"]["code"] == "method_not_allowed"


def test_status_health_openapi(client):
    status = client.get("/api/status").get_json()
    assert status["documents"][0]["doc_id"] == "shenyang-2024"
    assert status["model"]["name"] == default_model_name()
    assert client.get("/healthz").get_json()["status"] == "ok"
    spec = client.get("/api/openapi.json").get_json()
    assert {"/api/search", "/api/status", "/healthz", "/api/reindex"} <= set(spec["paths"])
    footer = client.get("/").get_data(as_text=True)
    assert 'href="/docs/shenyang-2024"' in footer


def test_reindex_needs_the_token_and_serves_the_new_text(tmp_path, built_index, report_dir):
    docs, index = tmp_path / "docs", tmp_path / "index"
    shutil.copytree(report_dir, docs)
    shutil.copytree(built_index, index)
    closed = create_app({"INDEX": str(index), "DOCS": str(docs), "ADMIN_TOKEN": None}).test_client()
    assert closed.post("/api/reindex").status_code == 403
    app = create_app({"INDEX": str(index), "DOCS": str(docs), "ADMIN_TOKEN": "s3cret", "RELOAD_SECONDS": 0})
    client = app.test_client()
    assert client.post("/api/reindex", headers={"Authorization": "Bearer wrong"}).status_code == 401
    path = next(docs.iterdir())
    path.write_text(path.read_text(encoding="utf-8").replace("世界最大的泵道公园", "亚洲最长的滑板公园"),
                    encoding="utf-8")
    res = client.post("/api/reindex", headers={"Authorization": "Bearer s3cret"})
    assert res.status_code == 200 and res.get_json()["embedded"] >= 1
    top = client.get("/api/search", query_string={"q": "亚洲最长的滑板公园"}).get_json()["results"][0]
    assert "亚洲最长的滑板公园" in top["text"]


def test_server_picks_up_a_build_without_restart(tmp_path, built_index, report_dir, embedder):
    from kb.build import build

    docs, index = tmp_path / "docs", tmp_path / "index"
    shutil.copytree(report_dir, docs)
    shutil.copytree(built_index, index)
    client = create_app({"INDEX": str(index), "DOCS": str(docs), "RELOAD_SECONDS": 0}).test_client()
    before = client.get("/api/status").get_json()["version"]
    (docs / "new.txt").write_text("新的报告\n\n全市建成智慧停车场馆12座。\n", encoding="utf-8")
    build(docs, index, embedder=embedder)
    status = client.get("/api/status").get_json()
    assert status["version"] != before and len(status["documents"]) == 2
    res = client.get("/api/search", query_string={"q": "智慧停车场馆"}).get_json()
    assert res["results"][0]["doc_id"] == "new"
    assert json.dumps(res, ensure_ascii=False).count("智慧停车场馆") >= 1


def test_request_ids_access_log_and_metrics(built_index, report_dir, caplog):
    import logging

    from webapp import create_app

    app = create_app({"INDEX": str(built_index), "DOCS": str(report_dir), "TESTING": True, "LOG_QUERIES": False})
    client = app.test_client()
    access = logging.getLogger("kb.access")
    access.addHandler(caplog.handler)  # the CLI's setup may stop kb's records from reaching the root logger
    try:
        with caplog.at_level(logging.INFO, logger="kb.access"):
            res = client.get("/api/search?q=今年地区生产总值增长目标", headers={"X-Request-Id": "trace-42"})
            other = client.get("/healthz")
    finally:
        access.removeHandler(caplog.handler)
    assert res.headers["X-Request-Id"] == "trace-42" and len(other.headers["X-Request-Id"]) == 16
    lines = [r.getMessage() for r in caplog.records if r.name == "kb.access"]
    assert any(line.startswith("trace-42 ") and " GET /api/search 200 " in line for line in lines)
    assert not any("生产总值" in line or "q=" in line for line in lines)  # KB_LOG_QUERIES=0: no query text
    client.get("/api/search?q=")  # a 400
    text = client.get("/metrics").get_data(as_text=True)
    assert 'kb_requests_total{endpoint="/api/search",method="GET",status="200"} 1.0' in text
    assert 'kb_requests_total{endpoint="/api/search",method="GET",status="400"} 1.0' in text
    assert "kb_request_seconds_bucket" in text and "kb_index_chunks" in text and "kb_index_info{" in text
    far = client.get("/metrics", environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert far.status_code == 403 and far.get_json()["error"]["code"] == "forbidden"
