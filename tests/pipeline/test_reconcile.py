"""Reconcile, don't window: whatever order the data arrives in, the end state is the one it implies.

A small city is delivered in the wrong order — a late file, a corrected
re-delivery, a corrected registry row, days skipped and run out of order —
and the case store is compared, table by table, with an on-time run of the
same final data. Deaths that arrive after an approval reverse it.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import polars as pl
import pytest
from sqlalchemy import create_engine, text

from tests.factories import START
from tests.pipeline.conftest import DAYS, D
from tests.pipeline.deliveries import World, file_day
from tests.pipeline.snapshot import snapshot
from tests.pipeline.state import data_state, effective_state


def world(city: Path, tmp_path: Path, name: str, url: str | None = None) -> World:
    return World.of(city, tmp_path / name, url=url)


@pytest.fixture
def city(reconcile_city) -> Path:
    return reconcile_city


@pytest.fixture
def on_time(reconcile_on_time) -> World:
    return reconcile_on_time


def _url(w: World) -> str:
    return w.settings.case_store_url


def _query(w: World, sql: str) -> list[tuple]:
    engine = create_engine(_url(w))
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text(sql)).all()]
    finally:
        engine.dispose()


def test_the_on_time_run_finds_the_injected_records(on_time, city):
    turning, dying = (city / "injected.txt").read_text().split()
    keys = {k for (k,) in _query(on_time, "SELECT key FROM events")}
    assert {"birth:B0", "birth:B1", "birth:B2", f"death:{dying}", f"old_age:{turning}:80"} <= keys
    # the person who died on 2 March was 81 and unpaid: the first run approved the allowance, the death stopped it
    assert f"old_age:{dying}:80" in keys
    stops = _query(on_time, "SELECT service, reverses FROM items WHERE service LIKE 'stop_%'")
    assert ("stop_old_age_allowance",) in {(s,) for s, _ in stops}


def test_a_late_file_ends_as_an_on_time_one(city, on_time, tmp_path):
    """Births, a death and claims of 3 March arrive with 4 March's files: the events follow on the next
    run, with their own dates; everything else equals the on-time run."""
    late = world(city, tmp_path, "late")
    held = [late.path(t, D[2]) for t in ("births", "deaths", "claims")]
    for i, day in enumerate(D):
        late.deliver(*[p for p in late.files(day) if p not in held])
        if i == 3:
            late.deliver(*held)
        late.run(day)
    assert data_state(_url(late)) == data_state(_url(on_time))
    detected = dict(_query(late, "SELECT key, detected_on FROM events WHERE key LIKE 'birth:%'"))
    assert {str(v) for v in detected.values()} == {str(D[3])}, "seen a day late, the lateness visible"
    dates = {str(v) for (v,) in _query(late, "SELECT event_date FROM events WHERE key LIKE 'birth:%'")}
    assert dates == {str(D[1])}, "the event keeps its real date"


def test_a_late_file_on_postgresql(city, tmp_path, pg_server):
    from tests.conftest import new_pg_database

    on_pg = world(city, tmp_path, "on_pg", url=new_pg_database(pg_server)).on_time(DAYS)
    late = world(city, tmp_path, "late_pg", url=new_pg_database(pg_server))
    held = late.path("claims", D[2])
    for i, day in enumerate(D):
        late.deliver(*[p for p in late.files(day) if p != held])
        if i == 4:
            late.deliver(held)
        late.run(day)
    assert data_state(late.settings.case_store_url) == data_state(on_pg.settings.case_store_url)


def _crossing(city: Path) -> tuple[str, str]:
    """A claim of 3 March whose person is not alerted: its corrected amount crosses the threshold."""
    claims = pl.read_csv(city / "inbox" / "claims" / f"claims_{D[2]}.csv", infer_schema=False)
    row = claims.filter(pl.col("inpatient_days") == "0").row(0, named=True)
    return row["claim_id"], row["person_id"]


def _correct_claim(w: World, claim_id: str) -> None:
    row = w.read("claims", D[2]).filter(pl.col("claim_id") == claim_id).row(0, named=True)
    oop = float(row["out_of_pocket"]) + 90_000
    w.change("claims", D[2], {"claim_id": claim_id}, out_of_pocket=f"{oop:.2f}",
             total=f"{float(row['insurer_paid']) + oop:.2f}")


def test_a_corrected_redelivery_is_reexamined(city, tmp_path):
    """A claims file replaced by a corrected one (same name, two days later) takes a person's 12-month
    out-of-pocket total across the threshold: the alert follows, dated by the claim, as if on time."""
    claim_id, person = _crossing(city)
    right = world(city, tmp_path, "right")
    _correct_claim(right, claim_id)
    right.on_time(DAYS)
    key = f"medical_hardship:{person}:2025"
    assert (key,) in _query(right, "SELECT key FROM events")

    corrected = world(city, tmp_path, "corrected")
    wrong = corrected.path("claims", D[2])
    first = tmp_path / "first" / wrong.parent.name / wrong.name
    first.parent.mkdir(parents=True)
    shutil.copyfile(wrong, first)
    _correct_claim(corrected, claim_id)
    for i, day in enumerate(D):
        corrected.deliver(*[p for p in corrected.files(day) if p != wrong])
        if i == 2:  # the wrong version arrives on time …
            corrected.deliver(first)
        if i == 4:  # … and its correction, under the same name, two days later
            corrected.deliver(wrong)
        corrected.run(day)
        if i == 3:
            assert (key,) not in _query(corrected, "SELECT key FROM events"), "not before the correction"
    assert data_state(_url(corrected)) == data_state(_url(right))
    assert _query(corrected, f"SELECT event_date FROM events WHERE key = '{key}'") == \
        _query(right, f"SELECT event_date FROM events WHERE key = '{key}'")


def _retiring(city: Path) -> str:
    """An employee whose statutory retirement month is within the look-ahead of the first day."""
    people = pl.read_parquet(city / "truth" / "persons.parquet")
    due = people.filter((pl.col("employment") == "employee") & pl.col("death_date").is_null()
                        & pl.col("retirement_date").is_between(D[2], D[0] + dt.timedelta(days=80)))
    return due["person_id"][0]


def test_a_corrected_registry_row_raises_a_retirement_whose_window_had_passed(city, on_time, tmp_path):
    """A person wrongly registered as a farmer is corrected on 4 March (a delta file): the retirement
    bundle follows although their retirement date entered the look-ahead days before."""
    person = _retiring(city)
    assert (f"retirement:{person}",) in _query(on_time, "SELECT key FROM events")
    row = pl.read_csv(city / "inbox" / "persons" / f"persons_{START}.csv", infer_schema=False).filter(
        pl.col("person_id") == person)

    right, wrong = world(city, tmp_path, "right"), world(city, tmp_path, "wrong")
    for w in (right, wrong):
        row.write_csv(w.path("persons", D[3]))  # the department's correction: the row as it should be
    wrong.change("persons", START, {"person_id": person}, employment="rural")
    right.on_time(DAYS)
    wrong.on_time(DAYS)
    assert (f"retirement:{person}",) in _query(wrong, "SELECT key FROM events")
    assert data_state(_url(wrong)) == data_state(_url(right))


def test_days_skipped_and_run_out_of_order_end_as_in_order(city, on_time, tmp_path):
    w = world(city, tmp_path, "shuffled")
    for day in (D[0], D[1], D[4], D[2], D[3], D[5]):
        w.deliver(*[p for p in w.files() if file_day(p) <= day])
        w.run(day)
    assert data_state(_url(w)) == data_state(_url(on_time))


def test_rerunning_a_day_changes_nothing(city, on_time, tmp_path):
    w = world(city, tmp_path, "rerun").on_time(DAYS)
    before = snapshot(_url(w))
    outbox = sorted(p.name for p in (w.root / "home" / "outbox").rglob("*.txt"))
    for day in (D[2], D[5], D[0]):
        w.run(day)
        assert snapshot(_url(w)) == before, f"rerun of {day}"
    assert sorted(p.name for p in (w.root / "home" / "outbox").rglob("*.txt")) == outbox


def test_a_death_recorded_after_an_approval_withdraws_it(city, tmp_path):
    """Someone turning 80 on 4 March died on 3 March, but the record arrives on 5 March: the allowance
    approved in between is withdrawn (it would have started after the death) and the month paid is
    recovered; what stays in force is what an on-time record gives."""
    turning, _ = (city / "injected.txt").read_text().split()
    died = [{"death_record_id": "DR2", "person_id": turning, "death_date": str(D[2]), "cause_icd10": "I21.9",
             "place": "hospital"}]
    in_time, late = world(city, tmp_path, "in_time"), world(city, tmp_path, "late_death")
    in_time.append("deaths", D[2], died)
    late.append("deaths", D[4], died)
    in_time.on_time(DAYS)
    late.on_time(DAYS)
    assert (f"old_age:{turning}:80",) not in _query(in_time, "SELECT key FROM events")
    items = _query(late, f"""SELECT i.service, i.amount, i.reverses, i.department FROM items i
                             JOIN cases c ON c.id = i.case_id WHERE c.person_id = '{turning}'
                             AND c.event_type = 'old_age' ORDER BY i.service""")
    allowance = _query(late, f"""SELECT i.id, i.amount, i.superseded_by FROM items i JOIN cases c
                                 ON c.id = i.case_id WHERE c.person_id = '{turning}'
                                 AND i.service = 'old_age_allowance'""")
    (item_id, amount, superseded_by), = allowance
    assert superseded_by is not None
    assert ("withdraw_old_age_allowance", None, item_id, "civil_affairs") in items
    assert ("recover_old_age_allowance", -amount, item_id, "civil_affairs") in items
    routes = _query(late, f"""SELECT d.route FROM decisions d JOIN events e ON e.id = d.event_id
                              WHERE e.key = 'death:{turning}'""")
    assert ("reversal",) in routes
    notices = _query(late, f"SELECT template FROM notices n JOIN events e ON e.id = n.event_id "
                           f"WHERE e.key = 'death:{turning}'")
    assert ("death_reversal",) in notices
    assert effective_state(_url(late)) == effective_state(_url(in_time))


def test_a_death_stops_the_extracts_benefits_and_a_pension_claim_not_yet_started(city, on_time, tmp_path):
    """A recipient of the civil-affairs allowance dies: the death case stops it. A person whose pension
    claim wugan approved dies before it starts: the approval is withdrawn."""
    benefits = pl.read_csv(city / "inbox" / "benefits" / f"benefits_{START}.csv", infer_schema=False)
    paid = benefits.filter(pl.col("benefit") == "old_age_allowance")["person_id"][0]
    (retiring,), *_ = _query(on_time, """SELECT c.person_id FROM cases c JOIN items i ON i.case_id = c.id
                                         WHERE i.service = 'pension_claim' AND i.status = 'done'
                                           AND i.starts_on > '2025-03-04' ORDER BY c.person_id""")
    w = world(city, tmp_path, "deaths")
    w.append("deaths", D[3], [
        {"death_record_id": "DR3", "person_id": paid, "death_date": str(D[3]), "cause_icd10": "I50.9",
         "place": "home"},
        {"death_record_id": "DR4", "person_id": retiring, "death_date": str(D[3]), "cause_icd10": "V89.2",
         "place": "other"}])
    w.on_time(DAYS)
    stops = _query(w, f"""SELECT i.service, i.reverses, i.department, c.event_type FROM items i
                          JOIN cases c ON c.id = i.case_id WHERE c.person_id IN ('{paid}', '{retiring}')
                          AND i.reverses IS NOT NULL""")
    assert ("stop_benefit_old_age_allowance", "benefits:old_age_allowance", "civil_affairs", "death") in stops
    assert any(s == "withdraw_pension_claim" and e == "retirement" for s, _, _, e in stops)
    running = effective_state(_url(w))["running"]
    assert not [r for r in running if paid in r[0] or retiring in r[0]]
    # and nothing is left open in the retirement bundle of the deceased
    assert not [r for r in effective_state(_url(w))["open_items"] if retiring in r[0] and "retirement" in r[0]]
