"""`kb serve` as a user starts it: a real process, waitress, and --watch picking up a new report."""
import os
import shutil
import subprocess
import sys
import urllib.parse
import urllib.request

import pytest
from helpers import free_port as _free_port
from helpers import get_json as _get
from helpers import wait_for as _wait

pytestmark = pytest.mark.slow


def test_kb_serve_with_watch(tmp_path, report_dir, built_index):
    docs, index = tmp_path / "docs", tmp_path / "index"
    shutil.copytree(report_dir, docs)
    shutil.copytree(built_index, index)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    proc = subprocess.Popen([sys.executable, "-m", "kb", "serve", "--port", str(port), "--docs", str(docs),
                             "--index", str(index), "--watch"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        assert _wait(lambda: _get(base + "/healthz")["status"] == "ok"), "kb serve did not come up"
        q = urllib.parse.quote("今年地区生产总值增长目标")
        top = _get(f"{base}/api/search?q={q}&k=1")["results"][0]
        assert top["paragraph"] == 20 and "地区生产总值增长6%以上" in top["text"]
        (docs / "2026-new.md").write_text("# 2026年某区政府工作报告\n\n今年全区新建智慧停车场12座。\n", encoding="utf-8")
        assert _wait(lambda: len(_get(base + "/api/status")["documents"]) == 2), "--watch did not rebuild"
        top = _get(f"{base}/api/search?q={urllib.parse.quote('智慧停车场')}&k=1")["results"][0]
        assert top["doc_id"] == "2026-new"
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=30)
    assert "kb serving" in err and "rebuilt:" in err and "Traceback" not in err
