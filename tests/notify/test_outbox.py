"""The outbox: notices are masked, sent once, retried on failure, and opt-outs are honoured."""

from __future__ import annotations

import datetime as dt
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import polars as pl
import pytest
from sqlalchemy import select

from tests.factories import write_lake
from wugan import lake
from wugan.assess import assess
from wugan.cases.act import act
from wugan.cases.db import migrate, session_scope
from wugan.cases.models import Notice
from wugan.events import Scope, desired
from wugan.notify.outbox import render_outbox
from wugan.notify.send import FileSender, WebhookSender, drain
from wugan.settings import get_settings
from wugan.synth.events import MOTHER, VILLAGE, birth_events

DAY = dt.date(2025, 3, 3)
RULES = get_settings().rules_dir
AT = dt.datetime(2025, 3, 3, 23, 59)
ID_NUMBER = re.compile(r"\d{17}[\dX]")


@pytest.fixture
def outbox(store_url, tmp_path):
    migrate(store_url)
    write_lake(tmp_path, "persons", [{"person_id": MOTHER, "name": "王燕", "sex": "F", "birth_date": dt.date(1996, 8, 30),
                                      "household_id": "H1", "hukou_village": VILLAGE, "phone": "13800000000",
                                      "employment": "rural", "alive": True}])
    settings = get_settings(tmp_path).model_copy(update={"db_url": store_url})
    with session_scope(store_url) as session:
        act(session, assess(birth_events(5, day=DAY), rules_dir=RULES), day=DAY, rules_dir=RULES)
    with session_scope(store_url) as session:
        assert render_outbox(session, settings=settings, day=DAY) == 5
    with session_scope(store_url) as session:
        assert render_outbox(session, settings=settings, day=DAY) == 0, "a notice is rendered once"
    return store_url


def test_notices_say_what_was_done_and_mask_the_id(outbox):
    with session_scope(outbox) as session:
        notices = session.scalars(select(Notice)).all()
    assert len(notices) == 5
    for notice in notices:
        assert notice.channel == "sms" and notice.address == "13800000000"
        assert "王燕" in notice.body and "育儿补贴" in notice.body and "10800.00 元" in notice.body
        assert "申请复核" in notice.body and "退订" in notice.body and "12345" in notice.body
        assert not ID_NUMBER.search(notice.body)


def test_draining_sends_each_notice_once(outbox, tmp_path):
    sender = FileSender(tmp_path / "outbox")
    assert drain(outbox, sender, at=AT).sent == 5
    files = sorted((tmp_path / "outbox").rglob("*.txt"))
    assert len(files) == 5
    assert drain(outbox, sender, at=AT).sent == 0
    assert sorted((tmp_path / "outbox").rglob("*.txt")) == files


class _Receiver(BaseHTTPRequestHandler):
    fail_first = 0
    received: list[tuple[str, dict]] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if _Receiver.fail_first > 0:
            _Receiver.fail_first -= 1
            self.send_response(503)
        else:
            _Receiver.received.append((self.headers["Idempotency-Key"], body))
            self.send_response(200)
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def receiver():
    server = HTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Receiver.received, _Receiver.fail_first = [], 0
    yield f"http://127.0.0.1:{server.server_port}/notices"
    server.shutdown()
    server.server_close()


def test_a_failing_webhook_is_retried_and_nothing_is_sent_twice(outbox, receiver):
    _Receiver.fail_first = 100
    report = drain(outbox, WebhookSender(receiver, plain_http=True), at=AT, tries=2, backoff=0.01)
    assert report.sent == 0 and report.retried == 5
    with session_scope(outbox) as session:
        pending = session.scalars(select(Notice)).all()
        assert all(n.status == "pending" and n.attempts == 1 and "503" in n.last_error for n in pending)
    _Receiver.fail_first = 0
    assert drain(outbox, WebhookSender(receiver, plain_http=True), at=AT, backoff=0.01).sent == 5
    assert drain(outbox, WebhookSender(receiver, plain_http=True), at=AT, backoff=0.01).sent == 0
    keys = [key for key, _ in _Receiver.received]
    assert len(keys) == 5 and len(set(keys)) == 5
    assert all(body["id"] == key for key, body in _Receiver.received)


def test_an_opt_out_stops_detection(city):
    settings = get_settings(city)
    lake.ingest(settings)
    con = lake.connect(settings)
    scope = Scope(today=dt.date(2025, 3, 21), first_day=dt.date(2025, 3, 1))
    con.register("existing", pl.DataFrame(schema={"key": pl.String}).to_arrow())
    con.register("opt_outs", pl.DataFrame(schema={"person_id": pl.String, "service": pl.String}).to_arrow())
    births = desired(con, "birth", scope, rules_dir=RULES)
    assert births.height > 0
    mother = births["person_id"][0]
    con.register("opt_outs", pl.DataFrame({"person_id": [mother], "service": ["birth"]}).to_arrow())
    after = desired(con, "birth", scope, rules_dir=RULES)
    assert mother not in after["person_id"].to_list()
    assert after.height == births.filter(pl.col("person_id") != mother).height
