"""Load test of `kb serve` on 127.0.0.1, optionally with a rebuild in the middle.

    python scripts/loadtest.py --clients 8 --seconds 60 [--rebuild] [--hostile] [--auth] [--index DIR]

Starts its own server on a copy of the reports and index (so nothing of yours is
touched), sends dev-set questions from N concurrent clients for a bounded time
and number of requests, and prints JSON: requests, errors, p50/p95 latency and
the server's RSS after warm-up and at the end. With --rebuild it edits a report
halfway and runs `kb build`, then checks the server answers from the edited text.
With --hostile a decompression bomb and a link leaving the folder lie among the reports: the builds
skip both, and the server must never answer with the linked file's text. With --auth the server runs
with sign-in and its default limits: each client is a user with its own bearer token, three reports
move into internal/ (readable by the group of every other client), a client that gets 429 waits as
Retry-After says (counted as `limited`, not as errors), and an answer to a client outside the group
that names an internal report is an error. --index copies a built index of the same reports first
(the build then reuses its vectors).
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


def get(url: str, timeout: float = 30, token: str | None = None) -> tuple[int, bytes, dict]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as res:
            return res.status, res.read(), dict(res.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(), dict(exc.headers)


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
@click.option("--auth", "signin", is_flag=True, help="Serve with sign-in: a user and token per client, "
                                                     "internal/ readable by half of them.")
@click.option("--index", "index_copy", default=None, help="A built index of these reports to start from.")
@click.option("--warmup", default=10.0, show_default=True, help="Seconds of load before measuring.")
def main(clients, seconds, max_requests, questions, docs, rebuild, hostile, signin, index_copy, warmup):
    qs = [json.loads(line)["q"] for line in Path(questions).read_text(encoding="utf-8").splitlines() if line.strip()]
    work = Path(tempfile.mkdtemp(prefix="kb-load-"))
    try:
        shutil.copytree(docs, work / "docs")
        if index_copy:
            shutil.copytree(index_copy, work / "index")
        tokens, internal, serve_args = [None] * (clients + 1), [], []
        if signin:
            tokens, internal = _sign_in_setup(work, clients)
            serve_args = ["--auth", str(work / "users.toml")]
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
        proc = subprocess.Popen([sys.executable, "-m", "kb", "serve", "--host", HOST, "--port", str(port),
                                 *serve_args], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            ready = wait_ready(base, proc)
            for i, q in enumerate(qs):  # warm-up: every question once
                get(f"{base}/api/search?q={urllib.parse.quote(q)}", token=tokens[-1])
            latencies: list[float] = []
            errors: list[str] = []
            limited = [0]
            lock = threading.Lock()
            measuring = [False]  # the first `warmup` seconds under load are not counted: the server's
            # threads get their memory arenas and caches fill then, and RSS is read at their end
            stop = time.perf_counter() + warmup + seconds
            sent = [0]

            def client(seed: int):
                rng = random.Random(seed)
                outsider = signin and seed % 2 == 1  # not in the group that reads internal/
                while time.perf_counter() < stop:
                    with lock:
                        if sent[0] >= max_requests:
                            return
                        sent[0] += 1
                    q = rng.choice(qs)
                    t = time.perf_counter()
                    try:
                        status, body, headers = get(f"{base}/api/search?q={urllib.parse.quote(q)}&k=5",
                                                    token=tokens[seed])
                        if status == 429 and signin:
                            with lock:
                                limited[0] += measuring[0]
                            time.sleep(min(5.0, float(headers.get("Retry-After", "1"))))
                            continue
                        ok = status == 200 and "results" in json.loads(body)
                        if ok and outsider and any(f'"doc_id":"{d}"' in body.decode("utf-8") for d in internal):
                            status, ok = "leak: an internal report answered a reader outside its group", False
                    except (OSError, ValueError) as exc:
                        status, ok = repr(exc), False
                    if not measuring[0]:
                        continue
                    with lock:
                        latencies.append((time.perf_counter() - t) * 1000)
                        if not ok:
                            errors.append(str(status))

            threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
            for th in threads:
                th.start()
            time.sleep(warmup)
            rss_warm = rss_kb(proc.pid)
            measuring[0] = True
            samples = _sample_rss(proc.pid, stop)
            rebuild_info = None
            if rebuild:
                time.sleep(seconds / 2)
                report = next(p for p in (work / "docs").rglob("*.txt") if EDIT_FROM in p.read_text(encoding="utf-8"))
                report.write_text(report.read_text(encoding="utf-8").replace(EDIT_FROM, EDIT_TO), encoding="utf-8")
                t = time.perf_counter()
                out = subprocess.run([sys.executable, "-m", "kb", "build", "--json"], env=env, check=True,
                                     capture_output=True, text=True)
                built = time.perf_counter() - t
                time.sleep(2)
                status, body, _ = get(f"{base}/api/search?q={urllib.parse.quote('世界最长的滑板公园')}&k=1",
                                      token=tokens[-1])
                top = json.loads(body)["results"][0]["text"]
                rebuild_info = {"build_seconds": round(built, 2), "build": json.loads(out.stdout),
                                "serves_edited_text": EDIT_TO in top}
                if hostile:
                    status, body, _ = get(f"{base}/api/search?q={urllib.parse.quote(SECRET[:12])}&k=10",
                                          token=tokens[-1])
                    rebuild_info["outside_file_served"] = SECRET[6:14] in body.decode("utf-8")
            for th in threads:
                th.join()
            rss_end = rss_kb(proc.pid)
            samples.append(round(rss_end / 1024, 1))
        finally:
            proc.terminate()
            proc.wait(timeout=30)
        report = {
            "clients": clients, "seconds": seconds, "requests": len(latencies), "errors": len(errors),
            "sign_in": signin, "limited_429": limited[0],
            "error_samples": errors[:5], "p50_ms": percentile(latencies, 50), "p95_ms": percentile(latencies, 95),
            "mean_ms": round(statistics.fmean(latencies), 1) if latencies else 0,
            "server_ready_seconds": round(ready, 2), "rss_after_warmup_mb": round(rss_warm / 1024, 1),
            "rss_end_mb": round(rss_end / 1024, 1),
            "rss_growth_pct": round(100 * (rss_end - rss_warm) / rss_warm, 1) if rss_warm else None,
            "rss_samples_mb": samples, "warmup_seconds": warmup,
            "rebuild": rebuild_info,
        }
        print(json.dumps(report, ensure_ascii=False, indent=1))
        if errors or (rebuild_info and (not rebuild_info["serves_edited_text"]
                                        or rebuild_info.get("outside_file_served"))):
            sys.exit(1)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _sample_rss(pid: int, until: float, every: float = 60.0) -> list[float]:
    """RSS in MB every minute until `until`, in a thread (the list fills as it runs)."""
    out: list[float] = []

    def run():
        while time.perf_counter() < until - 1:
            out.append(round(rss_kb(pid) / 1024, 1))
            time.sleep(every)

    threading.Thread(target=run, daemon=True).start()
    return out


def _sign_in_setup(work: Path, clients: int) -> tuple[list[str], list[str]]:
    """users.toml with one user and token per client (even ones in `staff`) and one more for the
    warm-up and the checks (staff), and three reports moved into docs/internal/ (staff only); the
    tokens by client (the checker's last) and the internal reports' ids."""
    sys.path.insert(0, str(ROOT))
    from kb import users

    internal_dir = work / "docs" / "internal"
    internal_dir.mkdir()
    moved = [p for p in sorted((work / "docs").glob("*.txt")) if EDIT_FROM not in p.read_text(encoding="utf-8")][:3]
    for p in moved:
        p.rename(internal_dir / p.name)
    path = work / "users.toml"
    tokens = []
    for i in range(clients + 1):
        users.add_user(path, f"reader{i}", f"password-{i}-long", ["staff"] if i % 2 == 0 else [])
        tokens.append(users.new_token(path, f"reader{i}"))
    auth = users.load(path)
    auth.access = {"internal/": ("staff",)}
    users.save(auth)
    return tokens, [f"internal/{p.stem}" for p in moved]


if __name__ == "__main__":
    main()
