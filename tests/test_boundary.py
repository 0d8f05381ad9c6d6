"""The reports folder is a boundary: links that leave it, decompression bombs, giant files; a file
that was skipped is not read again until it changes."""
import json
import threading
import zipfile
from pathlib import Path

import pytest

from kb import store
from kb.build import build
from kb.search import search
from webapp import create_app

SECRET = "机密外部文件内容：邻省的预算草案不得外传。"
REPORT = "2024年某市政府工作报告\n\n今年地区生产总值预期增长6%左右。\n\n城镇新增就业12万人以上。\n"


def _folder(tmp_path: Path) -> Path:
    reports = tmp_path / "reports"
    reports.mkdir()
    (reports / "city.txt").write_text(REPORT, encoding="utf-8")
    return reports


@pytest.fixture
def outside(tmp_path):
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    (folder / "secret.txt").write_text(SECRET, encoding="utf-8")
    return folder / "secret.txt"


def _texts(index_dir: Path, embedder, query: str) -> list[str]:
    return [r.text for r in search(store.load(index_dir), embedder, query, 5)]


def test_a_link_that_leaves_the_folder_is_skipped_and_never_served(tmp_path, outside, embedder, monkeypatch):
    monkeypatch.delenv("KB_FOLLOW_LINKS", raising=False)
    reports = _folder(tmp_path)
    (reports / "passwd.txt").symlink_to(outside)
    (reports / "linked").symlink_to(outside.parent, target_is_directory=True)
    warnings = []
    stats = build(reports, tmp_path / "index", embedder=embedder, warn=warnings.append)
    assert stats.documents == 1
    assert any("passwd.txt" in w and "outside the reports folder" in w for w in warnings)
    assert any("linked" in w and "outside the reports folder" in w for w in warnings)
    assert all(SECRET not in t for t in _texts(tmp_path / "index", embedder, "邻省的预算草案"))
    client = create_app({"INDEX": str(tmp_path / "index"), "DOCS": str(reports), "TESTING": True}).test_client()
    assert client.get("/docs/passwd").status_code == 404
    assert "不得外传" not in client.get("/api/search?q=邻省的预算草案").get_data(as_text=True)


def test_follow_links_reads_them(tmp_path, outside, embedder, monkeypatch):
    reports = _folder(tmp_path)
    (reports / "passwd.txt").symlink_to(outside)
    monkeypatch.setenv("KB_FOLLOW_LINKS", "1")
    stats = build(reports, tmp_path / "index", embedder=embedder)
    assert stats.documents == 2
    assert SECRET in _texts(tmp_path / "index", embedder, "邻省的预算草案")[0]


def test_a_link_inside_the_folder_is_read(tmp_path, embedder, monkeypatch):
    monkeypatch.delenv("KB_FOLLOW_LINKS", raising=False)
    reports = _folder(tmp_path)
    (reports / "sub").mkdir()
    (reports / "sub" / "real.txt").write_text("2023年某县政府工作报告\n\n粮食总产量达到81.5亿斤。\n", encoding="utf-8")
    (reports / "alias.txt").symlink_to(reports / "sub" / "real.txt")
    (reports / "loop").symlink_to(reports, target_is_directory=True)  # walked once, not forever
    warnings = []
    stats = build(reports, tmp_path / "index", embedder=embedder, warn=warnings.append)
    assert set(store.load(tmp_path / "index").documents) == {"city", "sub/real", "alias"}
    assert stats.documents == 3 and not warnings


def _bomb(path: Path, megabytes: int) -> None:
    """A Word file whose document part inflates to `megabytes` MB of one repeated paragraph."""
    para = b"<w:p><w:r><w:t>\xe5\x90\x8c</w:t></w:r></w:p>" * 1000
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/'
                   'package/2006/content-types"/>')
        with z.open("word/document.xml", "w", force_zip64=True) as part:
            written = 0
            while written < megabytes << 20:
                part.write(para)
                written += len(para)


@pytest.mark.slow
def test_a_decompression_bomb_is_skipped_and_the_rest_indexed(tmp_path, embedder):
    reports = _folder(tmp_path)
    _bomb(reports / "bomb.docx", 300)
    assert (reports / "bomb.docx").stat().st_size < 3 << 20
    warnings = []
    stats = build(reports, tmp_path / "index", embedder=embedder, warn=warnings.append)
    assert stats.documents == 1 and "city" in store.load(tmp_path / "index").documents
    assert any("bomb.docx" in w and "KB_MAX_UNZIPPED_MB" in w for w in warnings)
    # reading it costs little memory: a process that reads the folder peaks far below the bomb's size
    import subprocess
    import sys

    code = ("import sys; from kb.documents import read_documents; read_documents(sys.argv[1]); "
            "print([x.split()[1] for x in open('/proc/self/status') if x.startswith('VmHWM')][0])")
    peak_kb = int(subprocess.run([sys.executable, "-c", code, str(reports)], capture_output=True, text=True,
                                 check=True).stdout.strip())
    assert peak_kb < 200 * 1024


def test_a_file_past_its_time_budget_is_skipped(tmp_path, embedder, monkeypatch):
    pytest.importorskip("reportlab")
    from tests.test_pdf import _reportlab_pdf

    reports = _folder(tmp_path)
    _reportlab_pdf(reports / "slow.pdf")
    monkeypatch.setenv("KB_MAX_FILE_SECONDS", "0.000001")
    warnings = []
    stats = build(reports, tmp_path / "index", embedder=embedder, warn=warnings.append)
    assert stats.documents == 1
    assert any("slow.pdf" in w and "KB_MAX_FILE_SECONDS" in w for w in warnings)


def test_a_text_over_the_limit_is_skipped(tmp_path, embedder, monkeypatch):
    reports = _folder(tmp_path)
    (reports / "huge.txt").write_text("2024年报告\n\n" + "增长目标。" * 4000, encoding="utf-8")  # 60 kB
    monkeypatch.setenv("KB_MAX_TEXT_MB", "0.05")
    warnings = []
    stats = build(reports, tmp_path / "index", embedder=embedder, warn=warnings.append)
    assert stats.documents == 1
    assert any("huge.txt" in w and "KB_MAX_TEXT_MB" in w for w in warnings)
    (reports / "many.txt").write_text("\n\n".join(f"第{i}项工作完成。" for i in range(6)), encoding="utf-8")
    monkeypatch.setenv("KB_MAX_PARAGRAPHS", "3")
    warnings.clear()
    stats = build(reports, tmp_path / "index2", embedder=embedder, warn=warnings.append)
    assert stats.documents == 1
    assert any("many.txt" in w and "KB_MAX_PARAGRAPHS" in w for w in warnings)


def test_a_bad_limit_setting_is_one_clear_error(tmp_path, embedder, monkeypatch):
    from kb.errors import KbError

    monkeypatch.setenv("KB_MAX_TEXT_MB", "lots")
    with pytest.raises(KbError, match="KB_MAX_TEXT_MB"):
        build(_folder(tmp_path), tmp_path / "index", embedder=embedder)


def test_a_skipped_file_is_not_read_again_until_it_changes(tmp_path, embedder, monkeypatch):
    import kb.formats

    reports = _folder(tmp_path)
    (reports / "broken.docx").write_bytes(b"PK\x03\x04 this is not really a zip")
    build(reports, tmp_path / "index", embedder=embedder)
    manifest = store.read_manifest(tmp_path / "index")
    assert [Path(s["path"]).name for s in manifest["skipped_files"]] == ["broken.docx"]

    def never(*_):
        raise AssertionError("a skipped, unchanged file was read again")

    monkeypatch.setattr(kb.formats, "read_docx", never)
    monkeypatch.setitem(kb.formats.READERS, ".docx", never)
    monkeypatch.setattr("kb.limits.check_zip", never)
    warnings = []
    build(reports, tmp_path / "index", embedder=embedder, warn=warnings.append)
    assert any("broken.docx" in w and "not read again" in w for w in warnings)
    # kb watch rebuilds through the same path
    from kb.watch import watch

    stop, seen = threading.Event(), []
    thread = threading.Thread(target=watch, args=(reports, tmp_path / "index"),
                              kwargs={"on_build": lambda s: (seen.append(s), stop.set()), "debounce": 0.1,
                                      "stop": stop, "on_error": lambda e: (seen.append(e), stop.set())})
    thread.start()
    thread.join(timeout=60)
    stop.set()
    assert seen and not isinstance(seen[0], Exception) and any("not read again" in m for m in seen[0].skipped)
    # once it changes, it is read again
    (reports / "broken.docx").write_bytes(b"PK\x03\x04 still not a zip, but other bytes")
    with pytest.raises(AssertionError, match="read again"):
        build(reports, tmp_path / "index", embedder=embedder)


def test_status_lists_skipped_files(tmp_path, embedder):
    from click.testing import CliRunner

    from kb.cli import cli

    reports = _folder(tmp_path)
    (reports / "broken.docx").write_bytes(b"PK\x03\x04 this is not really a zip")
    build(reports, tmp_path / "index", embedder=embedder)
    out = CliRunner().invoke(cli, ["status", "--docs", str(reports), "--index", str(tmp_path / "index"), "--json"])
    skipped = json.loads(out.output)["skipped_files"]
    assert len(skipped) == 1 and skipped[0]["path"].endswith("broken.docx") and "Word" in skipped[0]["reason"]


def test_an_index_naming_a_path_outside_is_not_served_from_it(tmp_path, embedder):
    reports = _folder(tmp_path)
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "secret.pdf").write_bytes(b"%PDF-1.4 secret")
    build(reports, tmp_path / "index", embedder=embedder)
    folder = tmp_path / "index" / "versions" / store.current_version(tmp_path / "index")
    docs = json.loads((folder / "documents.json").read_text(encoding="utf-8"))
    for doc_id in ("secret", "../elsewhere/secret"):
        docs.append({**docs[0], "doc_id": doc_id, "path": str(outside / "secret.pdf")})
    (folder / "documents.json").write_text(json.dumps(docs, ensure_ascii=False), encoding="utf-8")
    client = create_app({"INDEX": str(tmp_path / "index"), "DOCS": str(reports), "TESTING": True}).test_client()
    for url in ("/files/secret.pdf", "/files/../elsewhere/secret.pdf", "/files/..%2Felsewhere%2Fsecret.pdf"):
        res = client.get(url)
        assert res.status_code == 404 and b"secret" not in res.data, url
