"""A person in a real browser: Debian's Chromium driven by Playwright against `kb serve`'s WSGI server."""
import os
import threading
from contextlib import contextmanager
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = Path(os.environ.get("KB_SCREENSHOT_DIR", Path(__file__).resolve().parent.parent / "build"))

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed")]


@pytest.fixture(scope="module")
def server(built_index, report_dir):
    from waitress import create_server

    from webapp import create_app

    app = create_app({"INDEX": str(built_index), "DOCS": str(report_dir)})
    srv = create_server(app, host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{srv.effective_port}"
    srv.close()


@contextmanager
def serving(folder: Path, **config):
    """`kb serve`'s WSGI server over folder/index and folder/reports, on a free port."""
    from waitress import create_server

    from webapp import create_app

    srv = create_server(create_app({"INDEX": str(folder / "index"), "DOCS": str(folder / "reports"), **config}),
                        host="127.0.0.1", port=0, threads=2)
    threading.Thread(target=srv.run, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{srv.effective_port}"
    finally:
        srv.close()


def _screenshot_and_download(page, name: str) -> str:
    """Save the page's screenshot as `name`, then download its CSV and return the text."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / name), full_page=True)
    with page.expect_download() as download:
        page.locator("a.download").click()
    return Path(download.value.path()).read_bytes().decode("utf-8")


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync"])
        yield b
        b.close()


def test_search_copy_and_open_in_report(server, browser):
    context = browser.new_context(viewport={"width": 1100, "height": 900}, locale="zh-CN")
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server)
    page = context.new_page()
    page.goto(server + "/")
    assert page.evaluate("document.activeElement.id") == "q"  # the box has focus on load
    page.keyboard.type("停车难怎么解决")
    page.keyboard.press("Enter")
    first = page.locator("ol.results > li").first
    first.wait_for()
    assert "扩容停车泊位3万个以上" in first.locator(".text").inner_text()
    assert "停车难" in first.locator("mark").all_inner_texts()
    assert "扩容停车泊位" in first.locator(".best").inner_text()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "results.png"))

    citation = first.locator("button.copy").get_attribute("data-citation")
    first.locator("button.copy").click()
    first.locator(".copied:not(:empty)").wait_for()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied.startswith(citation) and "/docs/shenyang-2024#p" in copied

    href = first.locator("a.open").get_attribute("href")
    first.locator("a.open").click()
    page.wait_for_url("**/docs/**")
    anchor = href.split("#")[1]
    assert page.evaluate("document.querySelector(':target').id") == anchor
    target = page.locator(f"#{anchor}")
    assert "扩容停车泊位3万个以上" in target.inner_text()
    assert target.evaluate("e => getComputedStyle(e).backgroundColor") != "rgba(0, 0, 0, 0)"
    box = target.bounding_box()
    assert 0 <= box["y"] < 900  # scrolled into view
    context.close()


def test_phone_layout_and_keyboard(server, browser):
    page = browser.new_page(viewport={"width": 390, "height": 800})
    page.goto(server + "/?q=沈阳鸡架得了什么奖")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scrolling
    assert page.evaluate("document.activeElement.id") == "q"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "搜索"
    page.keyboard.press("Tab")  # the opt-in second reading, a checkbox a keyboard can tick
    assert page.evaluate("document.activeElement.name") == "rerank"
    page.keyboard.press("Tab")  # then straight to the first result's actions
    assert page.evaluate("document.activeElement.className") == "copy"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "在报告中打开"
    page.close()


def test_compare_view_table_chart_and_csv(compare_library, browser, tmp_path):
    with serving(compare_library) as base:
        context = browser.new_context(viewport={"width": 1100, "height": 900}, locale="zh-CN", accept_downloads=True)
        page = context.new_page()
        page.goto(base + "/compare")
        page.keyboard.type("各省2026年地区生产总值增长目标是多少")
        page.keyboard.press("Enter")
        page.locator("table.compare tbody tr").first.wait_for()
        cells = {tr.locator("td").nth(0).inner_text(): tr.locator("td.figure").inner_text()
                 for tr in page.locator("table.compare tbody tr").all()}
        assert cells == {"北京": "5%左右", "广东": "4.5%—5%", "江西": "5%-5.5%"}
        chart = page.locator("figure.chart svg")
        assert chart.is_visible() and chart.locator("g.bar").count() == 3
        assert "北京 5%左右" in chart.locator("desc").text_content()  # the chart's text for screen readers
        page.locator("th a", has_text="数字").click()  # sorting is a link: no JavaScript needed
        page.wait_for_url("**sort=figure**")
        assert page.locator("td.figure").first.inner_text() in ("5%左右", "5%-5.5%")
        text = _screenshot_and_download(page, "compare.png")
        assert text.startswith("\ufeffdoc_id,") and "《政府工作报告》（广东省，2026年）" in text and "4.5%—5%" in text
        context.close()


def test_timeline_chart_and_csv(series_library, browser):
    """One city's reports over the years: the compare view is a timeline, targets beside outcomes."""
    with serving(series_library) as base:
        context = browser.new_context(viewport={"width": 1100, "height": 900}, locale="zh-CN", accept_downloads=True)
        page = context.new_page()
        page.goto(base + "/compare?q=历年地区生产总值增长目标")
        rows = page.locator("table.timeline tbody tr")
        rows.first.wait_for()
        years = [tr.locator("td").nth(0).inner_text() for tr in rows.all()]
        assert years == ["2022", "2023", "2024", "2025"]
        row_2024 = rows.nth(2).locator("td.figure")
        assert [row_2024.nth(0).inner_text(), row_2024.nth(1).inner_text()] == ["6%以上", "5.6%"]
        chart = page.locator("figure.timeline svg")
        assert chart.is_visible() and chart.locator("polyline").count() == 2
        assert chart.locator("g.target circle").count() == 3 and chart.locator("g.outcome circle").count() == 3
        assert "2024年目标 6%以上" in chart.locator("desc").text_content()
        text = _screenshot_and_download(page, "timeline.png")
        assert text.startswith("\ufeffyear,target_figure") and "6%以上" in text and "2025年大连市政府工作报告" in text
        context.close()


def test_sign_in_search_and_sign_out_in_a_browser(built_index, report_dir, tmp_path, browser):
    """With sign-in on: the page sends a stranger to the sign-in form, the form signs in (its CSRF
    token and cookie work in a real browser under kb's Content-Security-Policy), the search answers,
    and signing out sends the reader back to the form."""
    from kb import users

    users.add_user(tmp_path / "users.toml", "alice", "a long password")
    folder = tmp_path / "site"
    folder.mkdir()
    (folder / "index").symlink_to(built_index)
    (folder / "reports").symlink_to(report_dir)
    with serving(folder, AUTH=str(tmp_path / "users.toml")) as base:
        page = browser.new_context(locale="zh-CN").new_page()
        page.goto(f"{base}/?q=今年地区生产总值增长目标是多少")
        assert "/signin" in page.url
        page.fill("#name", "alice")
        page.fill("#password", "a long password")
        page.click("form.signin button")
        page.wait_for_selector("li.card")
        assert "q=" in page.url and "第20段" in page.inner_text("main")
        assert "alice" in page.inner_text("header")
        page.click("form.signout button")
        page.wait_for_url("**/signin")
        page.goto(f"{base}/?q=停车")
        assert "/signin" in page.url
        page.context.close()
