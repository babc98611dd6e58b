"""End to end in a real browser (Debian's chromium): an assistant confirms a visit on a phone,
the opened bundle case appears for the back office. Screenshots go to test-output/screenshots/."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import pytest

from .conftest import fixed_clock
from .factories import PASSWORD

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--no-first-run", "--disable-sync"]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.filterwarnings("error"),
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs /usr/bin/chromium"),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(world):
    import uvicorn

    from wugan.web.app import create_app

    port = _free_port()
    config = uvicorn.Config(create_app(world.settings, clock=fixed_clock), host="127.0.0.1", port=port,
                            log_level="warning", lifespan="off")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not srv.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert srv.started
    yield f"http://127.0.0.1:{port}", world
    srv.should_exit = True
    thread.join(timeout=5)


def _login(page, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url)


def test_assistant_confirms_visit_and_reviewer_sees_case(server):
    from playwright.sync_api import expect, sync_playwright

    base, world = server
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            phone = browser.new_context(viewport={"width": 375, "height": 812}, device_scale_factor=2,
                                        is_mobile=True, has_touch=True, locale="zh-CN")
            page = phone.new_page()
            page.goto(f"{base}/")
            expect(page).to_have_url(f"{base}/login?next=/")
            page.screenshot(path=SHOTS / "01-login-phone.png", full_page=True)
            _login(page, base, "xly1")
            expect(page).to_have_url(f"{base}/tasks")
            expect(page.locator("h1")).to_have_text("我的任务")
            expect(page.get_by_text("孙秀英")).to_have_count(0)  # 西河村 is not hers
            page.screenshot(path=SHOTS / "02-assistant-tasks-phone.png", full_page=True)
            # the page is usable at 375 px: nothing wider than the screen
            assert page.evaluate("document.documentElement.scrollWidth") <= 375

            page.locator("a.card.task").first.click()
            expect(page).to_have_url(f"{base}/tasks/{world.tasks['t_east']}")
            expect(page.get_by_text("赵桂兰").first).to_be_visible()
            page.screenshot(path=SHOTS / "03-assistant-task-phone.png", full_page=True)
            assert page.evaluate("document.documentElement.scrollWidth") <= 375

            page.get_by_text("核实属实", exact=True).click()
            page.fill("textarea[name=notes]", "本人卧床，家属在场，已查看诊断证明。")
            page.get_by_role("button", name="提交走访结果").click()
            expect(page.locator(".flash.ok")).to_contain_text("已开启「残疾人救助一件事」")
            page.screenshot(path=SHOTS / "04-assistant-after-visit-phone.png", full_page=True)

            desk = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
            page = desk.new_page()
            _login(page, base, "shenhe")
            expect(page).to_have_url(f"{base}/review")
            page.screenshot(path=SHOTS / "05-reviewer-review-queue.png", full_page=True)
            page.goto(f"{base}/cases")
            row = page.locator("tr", has_text="残疾人救助一件事")
            expect(row).to_have_count(1)
            expect(row).to_contain_text("赵桂兰")
            page.screenshot(path=SHOTS / "06-reviewer-cases.png", full_page=True)
            row.get_by_role("link").click()
            expect(page.locator("h1")).to_have_text("残疾人救助一件事")
            expect(page.get_by_text("重度残疾人护理补贴")).to_be_visible()
            page.screenshot(path=SHOTS / "07-reviewer-case.png", full_page=True)
            page.goto(f"{base}/work")
            page.screenshot(path=SHOTS / "08-reviewer-work.png", full_page=True)
            page.goto(f"{base}/overdue")
            page.screenshot(path=SHOTS / "09-reviewer-overdue.png", full_page=True)

            reviewer_phone = browser.new_context(viewport={"width": 375, "height": 812}, device_scale_factor=2,
                                                 locale="zh-CN")
            page = reviewer_phone.new_page()
            _login(page, base, "shenhe")
            page.screenshot(path=SHOTS / "10-reviewer-review-phone.png", full_page=True)

            analyst = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
            page = analyst.new_page()
            _login(page, base, "fenxi")
            expect(page).to_have_url(f"{base}/analytics")
            expect(page.get_by_text("赵桂兰")).to_have_count(0)
            page.screenshot(path=SHOTS / "11-analyst.png", full_page=True)

            admin = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
            page = admin.new_page()
            _login(page, base, "admin")
            page.screenshot(path=SHOTS / "12-admin.png", full_page=True)
        finally:
            browser.close()


def test_every_page_works_under_its_content_security_policy(server):
    """No page breaks its own CSP: no refused script, style or frame in the console, and htmx runs."""
    from playwright.sync_api import sync_playwright

    base, world = server
    pages = {"xly1": ["/tasks", f"/tasks/{world.tasks['t_east']}"],
             "shenhe": ["/review", "/cases", f"/cases/{world.cases['death']}", "/work", "/overdue", "/held"],
             "fenxi": ["/analytics"], "admin": ["/admin"]}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            for username, paths in pages.items():
                context = browser.new_context(locale="zh-CN")
                page = context.new_page()
                refused: list[str] = []
                page.on("console", lambda m, r=refused: r.append(m.text) if "Content Security Policy" in m.text else None)
                _login(page, base, username)
                for path in ["/login", *paths]:
                    page.goto(f"{base}{path}")
                    page.wait_for_load_state("load")
                    if path != "/login":
                        assert page.evaluate("typeof window.htmx") == "object", path
                assert refused == [], (username, refused)
                context.close()
        finally:
            browser.close()
