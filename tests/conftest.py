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


COMPARE_REPORTS = {
    "2026-beijing": ("2026年北京市政府工作报告", "今年经济社会发展主要预期目标是：地区生产总值增长5%左右，"
                     "一般公共预算收入增长4%左右，城镇新增就业26万人以上。"),
    # titled as Guangdong's 2026 report is: neither place nor year (the file's name gives both)
    "2026-guangdong": ("政府工作报告", "主要预期目标是：地区生产总值增长4.5%—5%，"
                       "城镇新增就业110万人以上，居民消费价格涨幅2%左右。"),
    "2026-jiangxi": ("2026年江西省政府工作报告", "经济社会发展主要预期目标是：地区生产总值增长5%-5.5%，"
                     "规模以上工业增加值增长7.3%以上，城镇新增就业45万人。"),
}


def _library(tmp_path_factory, embedder, name: str, reports: dict[str, str]) -> Path:
    """A folder with the given reports (folder/reports/<id>.txt) and one index of them (folder/index)."""
    from kb.build import build

    folder = tmp_path_factory.mktemp(name)
    docs = folder / "reports"
    docs.mkdir()
    for doc_id, body in reports.items():
        (docs / f"{doc_id}.txt").write_text(body, encoding="utf-8")
    build(docs, folder / "index", embedder=embedder)
    return folder


@pytest.fixture(scope="session")
def compare_library(tmp_path_factory, embedder) -> Path:
    """Three provincial reports with their plans."""
    return _library(tmp_path_factory, embedder, "library", {
        doc_id: (f"{title}\n\n一、2025年工作回顾\n\n过去一年，地区生产总值增长5.2%，经济运行稳中向好。\n\n"
                 f"二、2026年工作安排\n\n{plan}\n\n今年要持续优化营商环境，扩大有效投资。\n")
        for doc_id, (title, plan) in COMPARE_REPORTS.items()})


# One city's reports over three years: each reviews the year before and plans its own year
SERIES = {2023: ("5.5%左右", "4.8%"), 2024: ("6%以上", "5.3%"), 2025: ("5.5%以上", "5.6%")}  # year: (target, outcome of the year before)


@pytest.fixture(scope="session")
def series_library(tmp_path_factory, embedder) -> Path:
    """A city's yearly reports 2023-2025."""
    return _library(tmp_path_factory, embedder, "series", {
        f"dalian-{year}": (f"{year}年大连市政府工作报告\n\n一、{year - 1}年工作回顾\n\n"
                           f"过去一年，全市地区生产总值比上年增长{outcome}，港口货物吞吐量稳步增加。\n\n"
                           f"二、{year}年工作安排\n\n今年全市经济社会发展主要预期目标是：地区生产总值增长{target}，"
                           f"城镇新增就业10万人以上。\n\n今年要建设东北亚国际航运中心，扩大有效投资。\n")
        for year, (target, outcome) in SERIES.items()})
