"""Faults: killed builds, damaged index files, files vanishing mid-build, a deleted model cache."""
import json
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest
from click.testing import CliRunner

from kb import store
from kb.build import build
from kb.cli import cli
from kb.documents import find_files, read_documents
from kb.errors import KbError
from kb.search import search

pytestmark = pytest.mark.slow
GDP = "今年地区生产总值增长目标是多少"


def _copy(src, dst):
    shutil.copytree(src, dst)
    return dst


def _assert_serves_gdp(index_dir, embedder):
    top = search(store.load(index_dir), embedder, GDP, k=1)[0]
    assert "地区生产总值增长6%以上" in top.text


def test_build_killed_at_several_points_keeps_the_previous_index(tmp_path, report_dir, built_index, embedder):
    docs = _copy(report_dir, tmp_path / "docs")
    index_dir = _copy(built_index, tmp_path / "index")
    version = store.current_version(index_dir)
    text = next(docs.iterdir()).read_text(encoding="utf-8")
    # a second report whose every chunk is new, so the build spends seconds embedding
    (docs / "revised.txt").write_text("\n\n".join(p + "（修订稿）" for p in text.split("\n\n")), encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    for delay in (1.0, 4.0, 7.0):
        proc = subprocess.Popen([sys.executable, "-m", "kb", "build", "--docs", str(docs), "--index", str(index_dir)],
                                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        if proc.poll() is not None:
            break  # finished before the kill: the next assertions still hold for the new version
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        # killed before the switch to the new version: the previous one; after it (the build had
        # finished but not yet exited): the new one, whole
        assert (store.current_version(index_dir) == version
                or set(store.load(index_dir).documents) == {"shenyang-2024", "revised"})
        _assert_serves_gdp(index_dir, embedder)
    stats = build(docs, index_dir, embedder=embedder)
    assert stats.documents == 2 and store.current_version(index_dir) != version
    assert not [p for p in (index_dir / "versions").iterdir() if p.name.startswith(".tmp")]
    assert set(store.load(index_dir).documents) == {"shenyang-2024", "revised"}


@pytest.mark.parametrize("damage", ["truncate_faiss", "broken_manifest", "missing_chunks"])
def test_damaged_index_is_named_and_repaired_by_build(tmp_path, report_dir, built_index, embedder, damage):
    index_dir = _copy(built_index, tmp_path / "index")
    folder = index_dir / "versions" / store.current_version(index_dir)
    if damage == "truncate_faiss":
        data = (folder / "vectors.faiss").read_bytes()
        (folder / "vectors.faiss").write_bytes(data[: len(data) // 3])
    elif damage == "broken_manifest":
        (folder / "manifest.json").write_text('{"model": {"name": ', encoding="utf-8")
    else:
        (folder / "chunks.jsonl").unlink()
    with pytest.raises(KbError) as info:
        store.load(index_dir)
    message = str(info.value)
    assert str(index_dir) in message and "kb build" in message
    res = CliRunner().invoke(cli, ["search", GDP, "--index", str(index_dir), "--docs", str(report_dir)])
    assert res.exit_code == 1 and "kb build" in res.output and "Traceback" not in res.output
    check = CliRunner().invoke(cli, ["check", "--index", str(index_dir)])
    assert check.exit_code == 1 and "kb build --index" in check.output and "Traceback" not in check.output
    warnings = []
    build(report_dir, index_dir, embedder=embedder, warn=warnings.append)
    assert any("cannot be reused" in w for w in warnings)
    _assert_serves_gdp(index_dir, embedder)
    assert CliRunner().invoke(cli, ["check", "--index", str(index_dir)]).exit_code == 0


def test_check_finds_a_changed_file_that_still_loads(tmp_path, built_index):
    """A bit flipped in the vectors loads without an error; only the build's checksum tells."""
    index_dir = _copy(built_index, tmp_path / "index")
    ok = CliRunner().invoke(cli, ["check", "--index", str(index_dir), "--json"])
    report = json.loads(ok.output)
    assert ok.exit_code == 0 and report["ok"] and report["chunks"] > 0 and "checksums" not in report
    vectors = index_dir / "versions" / store.current_version(index_dir) / "vectors.faiss"
    data = bytearray(vectors.read_bytes())
    data[-5] ^= 0xFF
    vectors.write_bytes(bytes(data))
    store.load(index_dir)  # still loads
    bad = CliRunner().invoke(cli, ["check", "--index", str(index_dir)])
    assert bad.exit_code == 1 and "vectors.faiss does not match the checksum" in bad.output


def test_report_deleted_or_unreadable_mid_build(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    for name in ("a.txt", "b.txt", "c.txt"):
        (docs / name).write_text(f"报告{name}的内容。", encoding="utf-8")
    files = find_files(docs)
    (docs / "b.txt").unlink()  # gone between listing and reading
    (docs / "c.txt").write_bytes(b"\xff\xfe\x00\xd8" * 3 + b"\x00" * 100)  # now undecodable
    warnings = []
    docs_read = read_documents(docs, warn=warnings.append, files=files)
    assert [d.doc_id for d in docs_read] == ["a"]
    assert any("b.txt" in w for w in warnings) and any("c.txt" in w for w in warnings)


def test_deleted_model_cache_is_provisioned_again(tmp_path):
    from kb.provision import is_provisioned, provision

    target = provision(tmp_path / "model")
    shutil.rmtree(target)
    assert not is_provisioned(target)
    assert provision(target) == target and is_provisioned(target)
    (target / "kb_provenance.json").write_text("{broken", encoding="utf-8")  # a damaged cache is replaced too
    assert is_provisioned(provision(target))
    assert json.loads((target / "kb_provenance.json").read_text())["format"] >= 1
