"""Load test of `kb serve` on 127.0.0.1, optionally with a rebuild in the middle.

    python scripts/loadtest.py --clients 8 --seconds 60 [--rebuild] [--hostile]

Starts its own server on a copy of the reports and index (so nothing of yours is
touched), sends dev-set questions from N concurrent clients for a bounded time
and number of requests, and prints JSON: requests, errors, p50/p95 latency and
the server's RSS after warm-up and at the end. With --rebuild it edits a report
halfway and runs `kb build`, then checks the server answers from the edited text.
With --hostile a decompression bomb and a link leaving the folder lie among the reports: the builds
skip both, and the server must never answer with the linked file's text.
Only loopback addresses are ever contacted.
"""
from __future__ import annotations

import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import click

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
EDIT_FROM, EDIT_TO = "世界最大的泵道公园建成开放", "世界最长的滑板公园建成开放"


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def get(url: str, timeout: float = 30) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as res:
            return res.status, res.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def wait_ready(base: str, proc, limit: float = 180) -> float:
    started = time.perf_counter()
    while time.perf_counter() - started < limit:
        if proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode}")
        try:
            if get(base + "/healthz", timeout=2)[0] == 200:
                return time.perf_counter() - started
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit("server did not become ready")


def percentile(values: list[float], p: float) -> float:
    values = sorted(values)
    return round(values[min(len(values) - 1, int(p / 100 * len(values)))], 1) if values else 0.0


@click.command()
@click.option("--clients", default=8, show_default=True)
@click.option("--seconds", default=60.0, show_default=True)
@click.option("--max-requests", default=20000, show_default=True)
@click.option("--questions", default=str(ROOT.parent / "shared" / "eval" / "seed_dev.jsonl"), show_default=True)
@click.option("--docs", default=str(ROOT / "reports"), show_default=True)
@click.option("--rebuild", is_flag=True, help="Edit a report and run kb build halfway through.")
@click.option("--hostile", is_flag=True, help="Put a decompression-bomb .docx and a link to a file outside "
                                               "the folder among the reports.")
def main(clients, seconds, max_requests, questions, docs, rebuild, hostile):
    qs = [json.loads(line)["q"] for line in Path(questions).read_text(encoding="utf-8").splitlines() if line.strip()]
    work = Path(tempfile.mkdtemp(prefix="kb-load-"))
    try:
        shutil.copytree(docs, work / "docs")
        if hostile:
            sys.path.insert(0, str(ROOT))
            from tests.test_boundary import SECRET, _bomb

            _bomb(work / "docs" / "bomb.docx", 300)
            (work / "secret.txt").write_text(SECRET, encoding="utf-8")
            (work / "docs" / "passwd.txt").symlink_to(work / "secret.txt")
        port = free_port()
        base = f"http://{HOST}:{port}"
        env = {**os.environ, "KB_DOCS": str(work / "docs"), "KB_INDEX": str(work / "index")}
        subprocess.run([sys.executable, "-m", "kb", "build"], env=env, check=True, capture_output=True)
        proc = subprocess.Popen([sys.executable, "-m", "kb", "serve", "--host", HOST, "--port", str(port)],
                                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            ready = wait_ready(base, proc)
            for q in qs:  # warm-up: every question once
                get(f"{base}/api/search?q={urllib.parse.quote(q)}")
            rss_warm = rss_kb(proc.pid)
            latencies: list[float] = []
            errors: list[str] = []
            lock = threading.Lock()
            stop = time.perf_counter() + seconds
            sent = [0]

            def client(seed: int):
                rng = random.Random(seed)
                while time.perf_counter() < stop:
                    with lock:
                        if sent[0] >= max_requests:
                            return
                        sent[0] += 1
                    q = rng.choice(qs)
                    t = time.perf_counter()
                    try:
                        status, body = get(f"{base}/api/search?q={urllib.parse.quote(q)}&k=5")
                        ok = status == 200 and "results" in json.loads(body)
                    except (OSError, ValueError) as exc:
                        status, ok = repr(exc), False
                    with lock:
                        latencies.append((time.perf_counter() - t) * 1000)
                        if not ok:
                            errors.append(str(status))

            threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
            for th in threads:
                th.start()
            rebuild_info = None
            if rebuild:
                time.sleep(seconds / 2)
                report = next((work / "docs").glob("*.txt"))
                report.write_text(report.read_text(encoding="utf-8").replace(EDIT_FROM, EDIT_TO), encoding="utf-8")
                t = time.perf_counter()
                out = subprocess.run([sys.executable, "-m", "kb", "build", "--json"], env=env, check=True,
                                     capture_output=True, text=True)
                built = time.perf_counter() - t
                time.sleep(2)
                status, body = get(f"{base}/api/search?q={urllib.parse.quote('世界最长的滑板公园')}&k=1")
                top = json.loads(body)["results"][0]["text"]
                rebuild_info = {"build_seconds": round(built, 2), "build": json.loads(out.stdout),
                                "serves_edited_text": EDIT_TO in top}
                if hostile:
                    status, body = get(f"{base}/api/search?q={urllib.parse.quote(SECRET[:12])}&k=10")
                    rebuild_info["outside_file_served"] = SECRET[6:14] in body.decode("utf-8")
            for th in threads:
                th.join()
            rss_end = rss_kb(proc.pid)
        finally:
            proc.terminate()
            proc.wait(timeout=30)
        report = {
            "clients": clients, "seconds": seconds, "requests": len(latencies), "errors": len(errors),
            "error_samples": errors[:5], "p50_ms": percentile(latencies, 50), "p95_ms": percentile(latencies, 95),
            "mean_ms": round(statistics.fmean(latencies), 1) if latencies else 0,
            "server_ready_seconds": round(ready, 2), "rss_after_warmup_mb": round(rss_warm / 1024, 1),
            "rss_end_mb": round(rss_end / 1024, 1),
            "rss_growth_pct": round(100 * (rss_end - rss_warm) / rss_warm, 1) if rss_warm else None,
            "rebuild": rebuild_info,
        }
        print(json.dumps(report, ensure_ascii=False, indent=1))
        if errors or (rebuild_info and (not rebuild_info["serves_edited_text"]
                                        or rebuild_info.get("outside_file_served"))):
            sys.exit(1)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
