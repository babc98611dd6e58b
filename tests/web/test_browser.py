"""Each role's day in a real browser (Debian's chromium): one server and one browser for the module.

The assistant on a 375 px phone: a double tap, an outcome recorded offline and
sent once when the network returns, a session that ends mid-visit and keeps
the draft. The back office: search by ID and a logged reveal, a revocation
undone, a bulk release after its confirmation page. The admin deactivates a
user and the user's open page stops working. The analyst runs a what-if.
axe-core (vendored, ``vendor/axe-core``) checks every page: no serious or
critical violation. Screenshots go to ``test-output/screenshots/``.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import socket
import threading
import time
from pathlib import Path
from urllib.parse import unquote

import pytest
from sqlalchemy import delete, func, select, update

from wugan.cases.db import engine_for, session_scope
from wugan.cases.models import AccessLog, AuditLog, Decision, Event, Item, Task
from wugan.cases.users import User, WebSession

from .conftest import fixed_clock
from .factories import PASSWORD, WEEK

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"
AXE = (Path(__file__).with_name("vendor") / "axe-core" / "axe.min.js").read_text(encoding="utf-8")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-sync"]
PHONE = {"viewport": {"width": 375, "height": 812}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True,
         "locale": "zh-CN"}
DESK = {"viewport": {"width": 1366, "height": 900}, "locale": "zh-CN"}

pytestmark = [
    pytest.mark.browser,
    pytest.mark.filterwarnings("error"),
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs /usr/bin/chromium"),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(_template, tmp_path_factory):
    """The app on its own copy of the seeded store, served by uvicorn in a thread."""
    import uvicorn

    from wugan.web.app import create_app

    home = tmp_path_factory.mktemp("browser") / "home"
    shutil.copytree(_template.settings.home, home)
    world = dataclasses.replace(_template, settings=_template.settings.model_copy(update={"home": home}))
    with session_scope(world.settings.case_store_url) as s:  # three visits of hers this week
        s.execute(update(Task).where(Task.id == world.tasks["t_east2"]).values(status="assigned", week=WEEK))
    port = _free_port()
    srv = uvicorn.Server(uvicorn.Config(create_app(world.settings, clock=fixed_clock), host="127.0.0.1", port=port,
                                        log_level="warning", lifespan="off"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not srv.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert srv.started
    yield f"http://127.0.0.1:{port}", world
    srv.should_exit = True
    thread.join(timeout=5)
    engine_for(world.settings.case_store_url).dispose()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield chromium
        chromium.close()


def _login(page, base: str, username: str, password: str = PASSWORD) -> None:
    if "/login" not in page.url:
        page.goto(f"{base}/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(lambda url: "/login" not in url)


def axe(page) -> list[dict]:
    """Serious and critical accessibility violations of the page as it is now."""
    page.evaluate(AXE)  # evaluated by the debugger, not by the page: the page's CSP still forbids inline script
    found = page.evaluate("""async () => {
        const result = await axe.run(document, {resultTypes: ["violations"]});
        return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                            nodes: v.nodes.slice(0, 3).map(n => n.target.join(" "))}));
    }""")
    return [v for v in found if v["impact"] in ("serious", "critical")]


def _assert_accessible(page, what: str) -> None:
    assert axe(page) == [], what


SMALL_TARGETS = """() => {
  const small = [];
  for (const el of document.querySelectorAll('a[href], button, summary, select, textarea, input:not([type=hidden])')) {
    if (el.closest('[hidden]') || el.matches('.skip')) continue;
    const target = el.matches('input[type=checkbox], input[type=radio]') ? (el.closest('label') || el) : el;
    const box = target.getBoundingClientRect();
    if (box.width === 0 && box.height === 0) continue;
    if (box.width < 47.5 || box.height < 47.5) small.push(`${target.tagName} "${target.textContent.trim().slice(0, 20)}" ${Math.round(box.width)}x${Math.round(box.height)}`);
  }
  return small;
}"""


def _visits(world, task_id: str) -> int:
    with session_scope(world.settings.case_store_url) as s:
        return s.scalar(select(func.count()).select_from(AuditLog).where(
            AuditLog.action == "visit_recorded", AuditLog.entity_id == task_id))


KEPT_ALL = """async () => {
  const wanted = document.querySelectorAll('[data-offline]').length + 1;
  for (let i = 0; i < 200; i++) {
    if ((await caches.open('wugan-pages').then(c => c.keys())).length >= wanted) return;
    await new Promise(r => setTimeout(r, 50));
  }
}"""


def _workers_offline(browser, offline: bool) -> None:
    """Every service worker's own fetches offline (or back), through the browser's DevTools protocol."""
    cdp = browser.new_browser_cdp_session()
    for n, target in enumerate(t for t in cdp.send("Target.getTargets")["targetInfos"] if t["type"] == "service_worker"):
        session = cdp.send("Target.attachToTarget", {"targetId": target["targetId"], "flatten": False})["sessionId"]
        for k, (method, params) in enumerate((("Network.enable", {}), ("Network.emulateNetworkConditions", {
                "offline": offline, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1}))):
            cdp.send("Target.sendMessageToTarget", {"sessionId": session, "message": json.dumps(
                {"id": 100 * n + k + 1, "method": method, "params": params})})
    cdp.detach()


def _task_pages_served(world) -> int:
    with session_scope(world.settings.case_store_url) as s:
        return s.scalar(select(func.count()).select_from(AccessLog).where(AccessLog.path == "/tasks/{task_id}"))


def _settled(count, quiet: float = 1.0, seconds: float = 15.0) -> int:
    """The count once it has not changed for ``quiet`` seconds."""
    deadline = time.monotonic() + seconds
    last = count()
    while time.monotonic() < deadline:
        time.sleep(quiet)
        now = count()
        if now == last:
            return now
        last = now
    return last


def _wait_until(check, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.1)
    return check()


# ---------------------------------------------------------------- every page


def test_every_page_passes_axe_and_keeps_its_content_security_policy(server, browser):
    base, world = server
    pages = {
        "xly1": ["/tasks", f"/tasks/{world.tasks['t_east']}", f"/tasks/{world.tasks['t_death']}", "/password",
                 "/no-such-page", "/review"],  # the 404 and the 403 pages too
        "shenhe": ["/review", f"/decisions/{world.decisions['death']}", "/held", "/cases", "/cases?status=closed",
                   f"/cases/{world.cases['death']}", "/work", "/overdue", "/overdue?show=tasks",
                   f"/visits/{world.tasks['t_west']}", "/alerts", "/search", "/search?q=吴",
                   "/optouts", "/quality"],
        "fenxi": ["/analytics", "/whatif"],
        "admin": ["/admin", "/admin/users/xly1", "/admin/audit"],
    }
    anonymous = browser.new_context(**DESK)
    page = anonymous.new_page()
    page.goto(f"{base}/login")
    _assert_accessible(page, "/login")
    anonymous.close()
    for username, paths in pages.items():
        context = browser.new_context(**DESK)
        page = context.new_page()
        refused: list[str] = []
        page.on("console", lambda m, r=refused: r.append(m.text) if "Content Security Policy" in m.text else None)
        _login(page, base, username)
        for path in paths:
            page.goto(f"{base}{path}")
            page.wait_for_load_state("load")
            assert page.evaluate("document.documentElement.classList.contains('js')"), path  # app.js ran
            _assert_accessible(page, path)
        assert refused == [], (username, refused)
        context.close()


# ---------------------------------------------------------------- the assistant


def test_the_assistants_pages_fit_a_phone_at_twice_the_text_size_with_big_targets(server, browser):
    base, world = server
    context = browser.new_context(**PHONE)
    page = context.new_page()
    page.goto(f"{base}/login")
    page.screenshot(path=SHOTS / "375-login.png", full_page=True)
    _login(page, base, "xly1")
    for path in ("/tasks", f"/tasks/{world.tasks['t_east']}", f"/tasks/{world.tasks['t_death']}"):
        page.goto(f"{base}{path}")
        assert page.evaluate(SMALL_TARGETS) == [], path
    context.close()
    small = browser.new_context(**(PHONE | {"viewport": {"width": 360, "height": 740}}))
    page = small.new_page()
    _login(page, base, "xly1")
    for path in ("/tasks", f"/tasks/{world.tasks['t_east']}", f"/tasks/{world.tasks['t_death']}"):
        page.goto(f"{base}{path}")
        page.evaluate("document.documentElement.style.fontSize = '200%'")  # the phone's largest text setting
        assert page.evaluate("document.documentElement.scrollWidth") <= 360, path
    page.screenshot(path=SHOTS / "360-assistant-death-task-200pct.png", full_page=True)
    page.screenshot(path=SHOTS / "360-assistant-death-task-200pct-first-screen.png")
    small.close()


def test_an_assistant_records_a_visit_and_a_double_tap_records_it_once(server, browser):
    base, world = server
    task = world.tasks["t_east"]
    context = browser.new_context(**PHONE)
    page = context.new_page()
    _login(page, base, "xly1")
    page.wait_for_url(f"{base}/tasks")
    page.screenshot(path=SHOTS / "375-assistant-inbox.png", full_page=True)
    assert page.get_by_text("孙秀英").count() == 0  # 西河村 is not hers
    assert page.locator(".queued:visible").count() == 0  # nothing waits on this phone
    page.locator(f'a[href="/tasks/{task}"]').first.click()
    page.get_by_text("近期住院和用药情况").click()  # the checklist ticks
    page.get_by_text("核实属实", exact=True).click()
    page.fill("#notes", "本人卧床，家属在场，已查看诊断证明。")
    page.screenshot(path=SHOTS / "375-assistant-task.png", full_page=True)
    page.get_by_role("button", name="提交走访结果").dblclick()
    page.locator("#js-status.ok").wait_for()
    assert "已开启「残疾人救助一件事」" in page.locator("#js-status").inner_text()
    assert page.locator(".error-summary:visible").count() == 0
    assert _visits(world, task) == 1
    # the answer was lost and the phone sends the same outcome again: the same success, still one visit
    key = page.evaluate("Object.keys(localStorage).length")  # the draft is gone once it was sent
    assert key == 0
    with session_scope(world.settings.case_store_url) as s:
        assert s.get(Task, task).checklist == ["近期住院和用药情况"]
    page.screenshot(path=SHOTS / "375-assistant-after-visit.png", full_page=True)
    _assert_accessible(page, "the task after the visit")
    context.close()


def test_an_outcome_recorded_offline_is_sent_once_when_the_network_returns(server, browser):
    base, world = server
    task = world.tasks["t_death"]
    context = browser.new_context(**PHONE)
    page = context.new_page()
    _login(page, base, "xly1")
    page.wait_for_url(f"{base}/tasks")
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.reload()  # now controlled by the worker, which keeps this week's task pages
    assert _wait_until(lambda: page.evaluate(
        f"caches.open('wugan-pages').then(c => c.match('/tasks/{task}')).then(r => !!r)"))
    page.evaluate(KEPT_ALL)  # the worker has kept every task of the week
    shown = _settled(lambda: _task_pages_served(world))  # and its last fetch has been answered
    context.set_offline(True)
    _workers_offline(browser, True)  # the page's network emulation does not reach its worker's own fetches
    page.goto(f"{base}/tasks/{task}")  # on the doorstep, no network: the kept page
    assert _task_pages_served(world) == shown  # it came from the phone, not the server
    assert "郑晓燕" in page.inner_text("main")  # the family to talk to, and what to bring, readable
    page.get_by_text("已联系继承人，同意办理", exact=True).click()
    page.get_by_text("确认法定继承人及联系方式").click()
    page.get_by_role("button", name="提交走访结果").click()
    page.locator("#js-status").get_by_text("已保存在手机上").wait_for()
    assert page.locator(".queued").is_visible()
    page.screenshot(path=SHOTS / "375-assistant-offline-queued.png", full_page=True)
    assert _visits(world, task) == 0
    context.set_offline(False)  # the network is back: the page's next try sends the queue
    _workers_offline(browser, False)
    assert _wait_until(lambda: _visits(world, task) == 1, seconds=15)
    page.locator("#js-status").get_by_text("已提交").wait_for()
    assert page.evaluate("JSON.parse(localStorage.getItem('wugan-outbox') || '[]').length") == 0
    # the same entry replayed (its answer lost on the way back): still one visit, one case
    entry = {"task": task, "url": f"/api/tasks/{task}/visit", "key": page.input_value("input[name=idem]"),
             "body": {"outcome": "confirmed", "notes": "", "checklist": ["确认法定继承人及联系方式"]}, "label": ""}
    page.evaluate("e => { localStorage.setItem('wugan-outbox', JSON.stringify([e])); "
                  "window.dispatchEvent(new Event('online')); }", entry)
    assert _wait_until(lambda: page.evaluate("JSON.parse(localStorage.getItem('wugan-outbox') || '[]').length") == 0)
    assert _visits(world, task) == 1
    with session_scope(world.settings.case_store_url) as s:
        recorded = s.get(Task, task)
        assert (recorded.outcome, recorded.checklist) == ("confirmed", ["确认法定继承人及联系方式"])
    context.close()


def test_an_expired_session_keeps_the_draft_and_returns_to_the_task(server, browser):
    base, world = server
    task = world.tasks["t_east2"]
    context = browser.new_context(**PHONE)
    page = context.new_page()
    _login(page, base, "xly1")
    page.goto(f"{base}/tasks/{task}")
    page.get_by_text("不符合条件", exact=True).click()
    page.get_by_text("家庭收入和主要支出，是否已享受低保、特困").click()
    page.fill("#notes", "已享受低保，家属在外地打工")
    with session_scope(world.settings.case_store_url) as s:  # the session ends while she talks
        user = s.scalars(select(User).where(User.username == "xly1")).one()
        s.execute(delete(WebSession).where(WebSession.user_id == user.id))
    page.get_by_role("button", name="提交走访结果").click()
    page.wait_for_url(lambda url: unquote(url) == f"{base}/login?next=/tasks/{task}")
    assert "登录后将回到您刚才的页面" in page.inner_text("main")
    _login(page, base, "xly1")
    page.wait_for_url(f"{base}/tasks/{task}")
    assert page.is_checked("input[value=not_eligible]")
    assert page.is_checked("input[value='家庭收入和主要支出，是否已享受低保、特困']")
    assert page.input_value("#notes") == "已享受低保，家属在外地打工"
    assert "已恢复" in page.inner_text("#js-status")
    assert _visits(world, task) == 0
    page.get_by_role("button", name="提交走访结果").click()
    page.locator("#js-status.ok").wait_for()
    assert _visits(world, task) == 1
    with session_scope(world.settings.case_store_url) as s:
        assert s.get(Task, task).outcome_notes == "已享受低保，家属在外地打工"
    context.close()


# ---------------------------------------------------------------- the back office


def test_a_reviewer_finds_a_caller_by_id_revokes_and_undoes(server, browser):
    base, world = server
    decision = world.decisions["death"]
    phone = browser.new_context(**PHONE)
    page = phone.new_page()
    _login(page, base, "shenhe")
    page.screenshot(path=SHOTS / "375-reviewer-review.png", full_page=True)
    phone.close()

    context = browser.new_context(**DESK)
    page = context.new_page()
    _login(page, base, "shenhe")
    page.get_by_role("link", name="查询").click()
    pid = world.ids["dead_west"]
    page.fill("#q", pid)
    page.get_by_role("button", name="查询").click()
    result = page.locator("article", has_text="吴长顺")
    assert pid not in result.inner_text()  # masked
    _assert_accessible(page, "search results")
    result.get_by_role("button", name="查看完整身份证号").click()
    assert pid in page.locator("article", has_text="吴长顺").inner_text()
    page.screenshot(path=SHOTS / "1366-reviewer-search-reveal.png", full_page=True)
    with session_scope(world.settings.case_store_url) as s:
        assert any("id_number" in r.fields for r in s.scalars(select(AccessLog).where(
            AccessLog.actor == "user:shenhe", AccessLog.path == "/search/reveal")))

    page.goto(f"{base}/review")
    card = page.locator(f"#d-{decision}")
    card.get_by_text("撤销…").click()
    card.get_by_role("button", name="确认撤销").click()  # no reason given
    assert page.locator(".error-summary").is_visible()
    assert page.locator(f"#d-{decision} details.reject").get_attribute("open") is not None  # her place kept
    _assert_accessible(page, "the queue with an error")
    page.screenshot(path=SHOTS / "1366-reviewer-revoke-error.png", full_page=True)
    page.fill(f"#reason-{decision}", "死亡登记有误，本人健在")
    page.locator(f"#d-{decision}").get_by_role("button", name="确认撤销").click()
    page.wait_for_url(f"{base}/decisions/{decision}")
    assert "已撤销该决定" in page.inner_text("main")
    _assert_accessible(page, "the decision's history")
    page.screenshot(path=SHOTS / "1366-reviewer-decision-history.png", full_page=True)
    page.get_by_role("button", name="撤回复核").click()
    page.get_by_text("已撤回").first.wait_for()
    with session_scope(world.settings.case_store_url) as s:
        assert s.get(Decision, decision).review == "sampled"
        assert s.scalar(select(func.count()).select_from(Item).where(Item.service.startswith("revoke_"))) == 0
    context.close()


def test_a_reviewer_releases_held_approvals_in_bulk_after_confirming(server, browser):
    base, world = server
    held = [world.decisions["old_age"], world.decisions["death"]]
    with session_scope(world.settings.case_store_url) as s:
        for decision_id in held:
            s.execute(update(Decision).where(Decision.id == decision_id).values(review="held"))
            s.execute(update(Item).where(Item.decision_id == decision_id, Item.status == "done")
                      .values(status="held", done_on=None))
            event = s.get_one(Event, s.get_one(Decision, decision_id).event_id)
            event.details = {**(event.details or {}), "tier_age": 80}
    context = browser.new_context(**DESK)
    page = context.new_page()
    _login(page, base, "shenhe")
    page.goto(f"{base}/held")
    assert page.get_by_text("暂缓原因").count() == 2
    _assert_accessible(page, "/held")
    for decision_id in held:
        page.locator(f"#h-{decision_id} input[name=ids]").check()
    page.get_by_role("button", name="放行所选…").click()
    page.wait_for_url(lambda url: "/held/release?" in url)
    assert "确认放行 2 条" in page.inner_text("h1")
    _assert_accessible(page, "the release confirmation")
    page.screenshot(path=SHOTS / "1366-reviewer-release-confirm.png", full_page=True)
    with session_scope(world.settings.case_store_url) as s:
        assert {s.get(Decision, d).review for d in held} == {"held"}  # nothing paid before confirming
    page.get_by_role("button", name="确认放行 2 条").click()
    page.get_by_text("已放行 2 条").wait_for()
    with session_scope(world.settings.case_store_url) as s:
        assert {s.get(Decision, d).review for d in held} == {"released"}
    context.close()


# ---------------------------------------------------------------- the analyst and the admin


def test_an_analyst_reads_the_figures_and_tries_a_threshold(server, browser):
    base, _ = server
    phone = browser.new_context(**PHONE)
    page = phone.new_page()
    _login(page, base, "fenxi")
    page.screenshot(path=SHOTS / "375-analyst-analytics.png", full_page=True)
    phone.close()
    context = browser.new_context(**DESK)
    page = context.new_page()
    _login(page, base, "fenxi")
    page.screenshot(path=SHOTS / "1366-analyst-analytics.png", full_page=True)
    assert page.locator("svg.chart text.num").count() > 0  # numbers on the bars
    page.goto(f"{base}/whatif")
    page.select_option("#ruleset", "medical_hardship")
    page.select_option("#parameter", "medical_hardship.oop_share")
    page.fill("#value", "0.4")
    page.fill("#start", "2025-02-10")
    page.fill("#end", "2025-03-12")
    page.get_by_role("button", name="试算").click()
    page.locator("#result").wait_for()
    assert "在用版本" in page.inner_text("#result")
    _assert_accessible(page, "the what-if result")
    page.screenshot(path=SHOTS / "1366-analyst-whatif.png", full_page=True)
    context.close()


def test_deactivating_a_user_takes_effect_on_their_open_page(server, browser):
    base, _ = server
    victim = browser.new_context(**PHONE)
    theirs = victim.new_page()
    _login(theirs, base, "xly2")
    theirs.wait_for_url(f"{base}/tasks")
    phone = browser.new_context(**PHONE)
    page = phone.new_page()
    _login(page, base, "admin")
    page.goto(f"{base}/admin")
    page.screenshot(path=SHOTS / "375-admin-users.png", full_page=True)
    phone.close()
    context = browser.new_context(**DESK)
    page = context.new_page()
    _login(page, base, "admin")
    page.get_by_role("link", name="xly2").click()
    page.get_by_role("button", name="停用账号").click()
    page.get_by_text("已停用 xly2").wait_for()
    _assert_accessible(page, "the user page")
    page.goto(f"{base}/admin/audit?action=user_deactivated")
    assert "停用账号" in page.inner_text("main")
    page.screenshot(path=SHOTS / "1366-admin-audit.png", full_page=True)
    context.close()
    theirs.reload()
    assert "/login" in theirs.url
    theirs.fill("#username", "xly2")
    theirs.fill("#password", PASSWORD)
    theirs.get_by_role("button", name="登录").click()
    assert "用户名或密码错误" in theirs.inner_text("main")
    victim.close()
