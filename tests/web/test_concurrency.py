"""Requests at the same time on the one-machine store (SQLite): the phone's worker fetching task pages while
she opens one and the back office works. A page that read before another request's commit and writes
after it (its access log, its message) must wait its turn, not fail."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from wugan.cases.db import session_scope
from wugan.cases.models import AccessLog

pytestmark = pytest.mark.filterwarnings("error")
ROUNDS = 15


def test_pages_and_forms_at_the_same_time_all_succeed(client_for, world):
    if not world.settings.case_store_url.startswith("sqlite"):
        pytest.skip("the lock this guards against is SQLite's")
    phone, desk = client_for("xly1"), client_for("shenhe")
    tasks = [world.tasks["t_east"], world.tasks["t_east2"], world.tasks["t_death"]]

    def assistant(n: int) -> int:
        return phone.get(f"/tasks/{tasks[n % len(tasks)]}").status_code

    def reviewer(n: int) -> int:
        if n % 3 == 0:  # a form that reads, then writes, then leaves a message for the next page
            return desk.post(f"/review/{world.decisions['old_age']}",
                             data={"verdict": "revoked", "reason": "", "csrf_token": desk.csrf}).status_code
        return desk.get("/review").status_code

    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = list(pool.map(assistant, range(ROUNDS))) + list(pool.map(reviewer, range(ROUNDS)))
        both = [pool.submit(assistant, n) for n in range(ROUNDS)] + [pool.submit(reviewer, n) for n in range(ROUNDS)]
        answers += [f.result() for f in both]
    assert all(code in (200, 422) for code in answers), answers
    with session_scope(world.settings.case_store_url) as s:
        logged = s.scalar(select(func.count()).select_from(AccessLog).where(AccessLog.path == "/tasks/{task_id}"))
    assert logged == 2 * ROUNDS  # every page shown is in the access log
