"""Hostile input on the API: always a 2xx or a JSON 4xx, never a 500 or a stack trace."""
import json
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from webapp import create_app

OUTCOMES: Counter = Counter()
TALLY = Path(__file__).resolve().parent.parent / "build" / "hostile-tally.json"


@pytest.fixture(scope="module")
def client(built_index, report_dir):
    yield create_app({"INDEX": str(built_index), "DOCS": str(report_dir)}).test_client()
    TALLY.parent.mkdir(exist_ok=True)
    TALLY.write_text(json.dumps({"requests": sum(OUTCOMES.values()), "by_status": dict(OUTCOMES)}, indent=1))


def _check(res):
    OUTCOMES[str(res.status_code)] += 1
    assert res.status_code < 500, res.get_data(as_text=True)[:200]
    body = res.get_data(as_text=True)
    assert "Traceback" not in body
    if res.status_code >= 400:
        assert res.get_json()["error"]["code"]


queries = st.one_of(
    st.text(max_size=60),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=0, max_size=300),
    st.sampled_from(["", " ", "\x00", "\u202e", "%", "%zz", "<script>alert(1)</script>", "'; DROP TABLE x;--",
                     "../../etc/passwd", "沈" * 1001, "\ud7ff", "𝕏" * 50]),
)
ks = st.one_of(st.integers(min_value=-10, max_value=10**12).map(str), st.text(max_size=8),
               st.sampled_from(["", "1e3", "0x10", "NaN", "5.5", " 3"]))


@settings(max_examples=1000, deadline=None, suppress_health_check=list(HealthCheck))
@given(q=queries, k=ks)
def test_search_never_fails_on_generated_input(client, q, k):
    _check(client.get("/api/search", query_string={"q": q, "k": k}))


@pytest.mark.parametrize("raw", [
    b"/api/search?q=%ff%fe%fd", b"/api/search?q=%E4%B8", b"/api/search?q=%zz%&k=%", b"/api/search?q=a&k=1&k=2",
    b"/api/search?q=" + b"a" * 100_000, b"/api/search?q=%00%01%02", b"/docs/..%2f..%2fetc%2fpasswd",
    b"/docs/%2e%2e/%2e%2e/etc/passwd", b"/docs/shenyang-2024/../../../etc/passwd", b"/api/search?q=%3Cscript%3E",
])
def test_raw_paths(client, raw):
    res = client.get(raw.decode("latin-1"))
    OUTCOMES[str(res.status_code)] += 1
    assert res.status_code < 500
    assert "root:" not in res.get_data(as_text=True)


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
def test_wrong_methods_and_big_bodies(client, method):
    res = client.open("/api/search?q=x", method=method, data=b"x" * 200_000)
    _check(res)
    assert res.status_code in (405, 413)
    res = client.post("/api/reindex", data=b"x" * 200_000)
    _check(res)
    assert 400 <= res.status_code < 500
