"""Shared fixtures: the real model and one real index of the bundled report per test session."""
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
REPORT = ROOT / "reports" / "shenyang-2024.txt"


@pytest.fixture(scope="session")
def embedder():
    from kb.embedding import load_embedder

    return load_embedder()


@pytest.fixture(scope="session")
def report_dir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("reports")
    shutil.copy(REPORT, folder / REPORT.name)
    return folder


@pytest.fixture(scope="session")
def built_index(tmp_path_factory, report_dir, embedder) -> Path:
    """One index of the bundled report, built once; tests must not modify it."""
    from kb.build import build

    index_dir = tmp_path_factory.mktemp("index")
    build(report_dir, index_dir, embedder=embedder)
    return index_dir


@pytest.fixture(scope="session")
def loaded_index(built_index):
    from kb import store

    return store.load(built_index)
