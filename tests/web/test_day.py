"""The day's work through the forms and the API: the user's test beside the attacker's.

Visits recorded once whatever is resent; death visits address the family;
messages kept server-side; a stale form keeps what was typed; search that
finds only one's own people and logs every reveal; any approval revoked and
undone within its window; overdue visits moved on; admins manage accounts.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import func, select

from wugan.cases.db import session_scope
from wugan.cases.models import AccessLog, Alert, AuditLog, Decision, Item, Notice, Task
from wugan.cases.users import User
from wugan.web.app import create_app

from .conftest import TestClient, fixed_clock, login
from .factories import PASSWORD, TODAY

pytestmark = pytest.mark.filterwarnings("error")


def _count(world, model, *where) -> int:
    with session_scope(world.settings.case_store_url) as s:
        return s.scalar(select(func.count()).select_from(model).where(*where))


def _visits(world, task_id: str) -> int:
    return _count(world, AuditLog, AuditLog.action == "visit_recorded", AuditLog.entity_id == task_id)


# ---------------------------------------------------------------- the assistant


def test_a_resent_form_records_the_visit_once_and_answers_the_same(client_for, world):
    client = client_for("xly1")
    task = world.tasks["t_east"]
    form = {"outcome": "confirmed", "notes": "已核实", "check": ["近期住院和用药情况"], "idem": "k" * 24,
            "csrf_token": client.csrf}
    first = client.post(f"/tasks/{task}/visit", data=form)
    second = client.post(f"/tasks/{task}/visit", data=form)  # a double tap, or a resend after a lost answer
    assert first.status_code == second.status_code == 200
    assert "已登记：核实属实，已开启「残疾人救助一件事」" in second.text and "无法登记" not in second.text
    assert _visits(world, task) == 1
    with session_scope(world.settings.case_store_url) as s:
        assert s.get(Task, task).checklist == ["近期住院和用药情况"]  # ticked, saved with the outcome


def test_the_api_replays_an_idempotency_key_and_refuses_anothers(client_for, world):
    assistant, other = client_for("xly1"), client_for("admin")
    task = world.tasks["t_death"]
    headers = {"X-CSRF-Token": assistant.csrf, "Idempotency-Key": "offline-queue-key-0001"}
    body = {"outcome": "declined", "notes": "家属暂不办理", "checklist": ["确认法定继承人及联系方式", "不在清单上的"]}
    answers = [assistant.post(f"/api/tasks/{task}/visit", json=body, headers=headers) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert {a.json()["message"] for a in answers} == {"已登记：家属暂不办理"}
    assert _visits(world, task) == 1
    with session_scope(world.settings.case_store_url) as s:
        assert s.get(Task, task).checklist == ["确认法定继承人及联系方式"]  # only the task's own points
    stolen = other.post(f"/api/tasks/{task}/visit", json=body,
                        headers={"X-CSRF-Token": other.csrf, "Idempotency-Key": "offline-queue-key-0001"})
    assert stolen.status_code == 409 and "task" not in stolen.json()


def test_a_death_visit_addresses_the_family_with_outcomes_that_fit(client_for, world):
    page = client_for("xly1").get(f"/tasks/{world.tasks['t_death']}").text
    assert "请联系家属：<b>郑晓燕</b>" in page and 'href="tel:13700000007"' in page
    assert "家属暂不办理" in page and "本人拒绝" not in page and "本人不需要" not in page
    assert 'name="check"' in page  # the checklist ticks
    assert "d34th001" not in page and "规则 death" not in page  # no rule jargon on her page
    assert "历下区 龙洞街道 东关村" in page  # the full registered address


def test_a_missing_outcome_comes_back_with_the_message_by_the_field_and_the_notes_kept(client_for, world):
    client = client_for("xly1")
    response = client.post(f"/tasks/{world.tasks['t_east']}/visit",
                           data={"notes": "卧床，家属在场", "check": ["近期住院和用药情况"], "csrf_token": client.csrf})
    assert response.status_code == 422
    assert '<a href="#outcome">请选择走访结果</a>' in response.text
    assert "卧床，家属在场</textarea>" in response.text and 'value="近期住院和用药情况" checked' in response.text


def test_messages_are_kept_server_side_and_never_taken_from_the_url(client_for, world):
    client = client_for("xly1")
    forged = client.get("/tasks?msg=您的账号已被冻结，请拨打400-000-0000&err=x")
    assert "已被冻结" not in forged.text and "400-000-0000" not in forged.text
    done = client.post(f"/tasks/{world.tasks['t_east2']}/visit", data={"outcome": "not_eligible",
                                                                       "csrf_token": client.csrf})
    assert "已登记：不符合条件" in done.text
    assert "已登记：不符合条件" not in client.get("/tasks").text  # said once


def test_a_stale_form_token_keeps_what_was_typed_and_changes_nothing(client_for, world):
    client = client_for("shenhe")
    decision = world.decisions["death"]
    response = client.post(f"/review/{decision}", data={"verdict": "revoked", "reason": "死亡登记有误，本人健在",
                                                        "csrf_token": "a-token-from-before-the-login"})
    assert response.status_code == 403
    assert "页面已过期" in response.text and "死亡登记有误，本人健在</textarea>" in response.text
    assert f'name="csrf_token" value="{client.csrf}"' in response.text  # resubmittable as it is
    assert "CSRF" not in response.text
    with session_scope(world.settings.case_store_url) as s:
        assert s.get(Decision, decision).review == "sampled"


@pytest.mark.parametrize("path", ["/no/such/page", "/tasks/0000000000000000/x"])
def test_an_unknown_page_is_a_page_in_chinese_and_the_api_answers_json(client_for, path):
    client = client_for("xly1")
    page = client.get(path)
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    assert "找不到该页面" in page.text and "Not Found" not in page.text
    api = client.get("/api" + path)
    assert api.status_code == 404 and api.headers["content-type"].startswith("application/json")


# ---------------------------------------------------------------- compression, caching, the phone app


def test_pages_are_compressed_and_static_files_are_kept_a_year_under_hashed_names(client_for):
    client = client_for("xly1")
    page = client.get("/tasks", headers={"Accept-Encoding": "gzip"})
    assert page.headers["content-encoding"] == "gzip" and "no-store" in page.headers["cache-control"]
    assets = re.findall(r'(?:href|src)="(/static/[^"]+)"', page.text)
    assert {a.rsplit(".", 1)[1] for a in assets} >= {"css", "js"}
    for url in assets:
        hashed = client.get(url)
        assert hashed.status_code == 200 and "immutable" in hashed.headers["cache-control"], url
    assert "no-cache" in client.get("/static/app.css").headers["cache-control"]
    assert client.get("/static/htmx.min.js").status_code == 404  # no script that no page uses
    sw = client.get("/sw.js")
    assert sw.headers["content-type"].startswith("text/javascript")
    assert all(a in sw.text for a in assets if not a.endswith(".svg"))
    manifest = client.get("/manifest.webmanifest").json()
    assert manifest["start_url"] == "/tasks" and manifest["display"] == "standalone"


def test_logout_tells_the_phone_to_forget_the_cached_pages(client_for):
    client = client_for("xly1")
    response = client.post("/logout", data={"csrf_token": client.csrf}, follow_redirects=False)
    assert '"cache"' in response.headers["clear-site-data"] and '"storage"' in response.headers["clear-site-data"]


# ---------------------------------------------------------------- search and reveal


def test_search_by_id_is_masked_and_a_reveal_is_in_the_access_log(client_for, world):
    client = client_for("shenhe")
    pid = world.ids["dead_west"]
    found = client.get(f"/search?q={pid}")
    assert "吴长顺" in found.text and pid not in found.text.replace(f'value="{pid}"', "")
    key = re.search(r'name="key" value="([^"]+)"', found.text).group(1)
    shown = client.post("/search/reveal", data={"q": pid, "key": key, "csrf_token": client.csrf})
    assert f'<span class="once" aria-label="完整身份证号">{pid}</span>' in shown.text
    with session_scope(world.settings.case_store_url) as s:
        rows = [r for r in s.scalars(select(AccessLog).where(AccessLog.path == "/search/reveal")) if "id_number" in r.fields]
    assert len(rows) == 1
    assert rows[0].actor == "user:shenhe" and pid not in str(rows[0].entity_ids)


def test_search_finds_only_people_of_ones_departments(client_for, world):
    police = client_for("gongan")
    assert "找到 <b class=\"count\">0</b> 人" in police.get("/search?q=赵").text  # a hardship visit: not police's
    assert "吴长顺" in police.get("/search?q=吴").text  # the death case has a police item
    stolen_key = f"case:{world.cases['death']}"
    assert police.post("/search/reveal", data={"q": "赵", "key": stolen_key, "csrf_token": police.csrf}).status_code == 404
    with session_scope(world.settings.case_store_url) as s:
        assert s.scalar(select(func.count()).select_from(AccessLog).where(AccessLog.path == "/search/reveal")) == 0


# ---------------------------------------------------------------- revoke any approval, undo


def test_any_approval_can_be_revoked_and_undone_within_the_window(app, client_for, world):
    hr = client_for("shenhe")
    decision = world.decisions["old_age"]
    hr.post(f"/review/{decision}", data={"verdict": "confirmed", "csrf_token": hr.csrf})
    blank = hr.post(f"/decisions/{decision}/revoke", data={"reason": " ", "csrf_token": hr.csrf})
    assert blank.status_code == 422 and '<a href="#reason">撤销需填写原因' in blank.text
    revoked = hr.post(f"/decisions/{decision}/revoke", data={"reason": "投诉核实：户籍不在本地",
                                                            "csrf_token": hr.csrf})
    assert "已撤销该决定" in revoked.text and "撤回复核" in revoked.text
    with session_scope(world.settings.case_store_url) as s:
        assert s.get(Decision, decision).review == "revoked"  # a confirmed approval, revoked on a complaint
        assert s.scalar(select(func.count()).select_from(Item).where(Item.service == "revoke_old_age_allowance")) == 1
    page = hr.get(f"/decisions/{decision}").text
    assert "复核确认" in page and "撤销决定" in page and "投诉核实：户籍不在本地" in page  # the history
    someone_else = client_for("admin").post(f"/decisions/{decision}/undo", data={"csrf_token": ""})
    assert someone_else.status_code == 403
    admin = client_for("admin")
    assert "只能撤回本人的复核" in admin.post(f"/decisions/{decision}/undo", data={"csrf_token": admin.csrf}).text
    undone = hr.post(f"/decisions/{decision}/undo", data={"csrf_token": hr.csrf})
    assert "已撤回" in undone.text
    with session_scope(world.settings.case_store_url) as s:
        assert s.get(Decision, decision).review == "confirmed"
        assert s.scalar(select(func.count()).select_from(Item).where(Item.service == "revoke_old_age_allowance")) == 0
        assert s.scalar(select(func.count()).select_from(Notice).where(Notice.template == "revoked")) == 0


def test_an_undo_after_the_window_is_refused(world):
    early = create_app(world.settings, clock=fixed_clock)
    late = create_app(world.settings, clock=lambda: fixed_clock() + dt.timedelta(minutes=16))
    decision = world.decisions["old_age"]
    with TestClient(early) as client:
        csrf = login(client, "shenhe")
        client.post(f"/review/{decision}", data={"verdict": "confirmed", "csrf_token": csrf})
    with TestClient(late) as client:
        csrf = login(client, "shenhe")
        response = client.post(f"/decisions/{decision}/undo", data={"csrf_token": csrf})
    assert response.status_code == 409 and "超过 15 分钟" in response.text
    with session_scope(world.settings.case_store_url) as s:
        assert s.get(Decision, decision).review == "confirmed"


# ---------------------------------------------------------------- overdue visits and alerts


def test_an_overdue_visit_is_reassigned_within_the_township_and_escalated(client_for, world):
    hr = client_for("shenhe")
    task = world.tasks["t_west"]
    page = hr.get(f"/visits/{task}").text
    assert "王协理（龙洞街道 东关村）" in page
    outsider = hr.post(f"/visits/{task}/reassign", data={"assistant_id": "Z999", "csrf_token": hr.csrf})
    assert outsider.status_code == 422
    hr.post(f"/visits/{task}/reassign", data={"assistant_id": "A001", "csrf_token": hr.csrf})
    hr.post(f"/visits/{task}/escalate", data={"note": "家属来电催办", "csrf_token": hr.csrf})
    with session_scope(world.settings.case_store_url) as s:
        t = s.get(Task, task)
        assert (t.assistant_id, t.status, t.week) == ("A001", "assigned", TODAY - dt.timedelta(days=TODAY.weekday()))
        assert t.due_date >= TODAY
        alert = s.scalars(select(Alert).where(Alert.kind == "escalated_by_hand")).one()
    assert "家属来电催办" in hr.get("/alerts").text
    hr.post(f"/alerts/{alert.id}/resolve", data={"csrf_token": hr.csrf})
    with session_scope(world.settings.case_store_url) as s:
        assert s.get(Alert, alert.id).status == "resolved"
    assert client_for("gongan").get(f"/visits/{task}").status_code == 404  # visits are civil affairs'


# ---------------------------------------------------------------- admin


def test_an_admin_creates_a_user_who_must_choose_a_password(app, client_for, world):
    admin = client_for("admin")
    bad = admin.post("/admin/users", data={"username": "xly3", "role": "assistant", "villages": "东关村",
                                           "password": "short", "csrf_token": admin.csrf})
    assert bad.status_code == 422 and "12 位数字" in bad.text and 'value="xly3"' in bad.text
    admin.post("/admin/users", data={"username": "xly3", "display_name": "新协理员", "role": "assistant",
                                     "villages": "370102001002", "password": "first-password-1",
                                     "csrf_token": admin.csrf})
    with TestClient(app) as fresh:
        login(fresh, "xly3", "first-password-1")
        assert fresh.get("/tasks", follow_redirects=False).headers["location"] == "/password"
        token = re.search(r'name="csrf_token" value="([^"]+)"', fresh.get("/password").text).group(1)
        fresh.post("/password", data={"current": "first-password-1", "password": "my-own-password",
                                      "repeat": "my-own-password", "csrf_token": token})
        assert fresh.get("/tasks").status_code == 200
    audit = admin.get("/admin/audit?action=user_created").text
    assert "新建账号" in audit and "xly3" in audit


def test_deactivation_and_a_role_change_end_the_users_sessions(client_for, world):
    assistant, admin = client_for("xly2"), client_for("admin")
    assert assistant.get("/api/me").status_code == 200
    admin.post("/admin/users/xly2", data={"action": "deactivate", "csrf_token": admin.csrf})
    assert assistant.get("/api/me").status_code == 401
    reviewer = client_for("gongan")
    admin.post("/admin/users/gongan", data={"action": "scope", "role": "reviewer", "departments": ["police", "civil_affairs"],
                                            "csrf_token": admin.csrf})
    assert reviewer.get("/api/me").status_code == 401
    with session_scope(world.settings.case_store_url) as s:
        user = s.scalars(select(User).where(User.username == "gongan")).one()
        assert user.departments == ["police", "civil_affairs"]
    assert "修改角色或范围" in admin.get("/admin/audit").text


def test_a_reset_password_is_shown_once_and_must_be_changed(app, client_for, world):
    admin = client_for("admin")
    page = admin.post("/admin/users/fenxi", data={"action": "reset", "csrf_token": admin.csrf})
    temporary = re.search(r'<p class="once">([^<]+)</p>', page.text).group(1)
    assert "no-store" in page.headers["cache-control"]
    assert temporary not in admin.get("/admin/users/fenxi").text and temporary not in admin.get("/admin/audit").text
    with TestClient(app) as analyst:
        login(analyst, "fenxi", temporary)
        assert analyst.get("/analytics", follow_redirects=False).headers["location"] == "/password"
        assert analyst.get("/api/analytics").status_code == 403
    with TestClient(app) as old:
        page = old.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        refused = old.post("/login", data={"username": "fenxi", "password": PASSWORD, "csrf_token": token})
        assert refused.status_code == 401


def test_only_an_admin_manages_accounts(client_for):
    reviewer = client_for("shenhe")
    response = reviewer.post("/admin/users/xly1", data={"action": "deactivate", "csrf_token": reviewer.csrf})
    assert response.status_code == 403 and "无权" in response.text


def test_a_page_of_another_role_is_refused_in_chinese(client_for):
    page = client_for("xly1").get("/review")
    assert page.status_code == 403 and page.headers["content-type"].startswith("text/html")
    assert "无权操作" in page.text and 'href="/"' in page.text
    assert not re.search(r"forbidden|not authenticated|detail", page.text, re.I)


def test_a_failure_is_a_page_in_chinese_without_the_traceback(world, caplog):
    app = create_app(world.settings, clock=fixed_clock)

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("secret internals 370102194503021330")

    with TestClient(app, raise_server_exceptions=False) as client:
        page = client.get("/boom")
    assert page.status_code == 500 and "系统出错了" in page.text and "返回首页" in page.text
    assert "RuntimeError" not in page.text and "370102" not in page.text
    assert "unhandled error on GET /boom" in caplog.text  # the log has it, for whoever fixes it
