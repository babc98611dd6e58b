"""What has not reached people, and why: data-quality items, opt-outs and the take-up report.

A birth whose record fails its contract is an item for the hospital's
department until a corrected re-delivery closes it, and the birth follows;
an opt-out recorded with the CLI stops a service before it is raised; the
take-up report counts each gap with its reason, and they add up to what the
store and the lake say independently.
"""

from __future__ import annotations

import json

import polars as pl
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from tests.pipeline.conftest import DAYS, D
from tests.pipeline.deliveries import World
from wugan.cli.main import app


def _query(w: World, sql: str) -> list[tuple]:
    engine = create_engine(w.settings.case_store_url)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text(sql)).all()]
    finally:
        engine.dispose()


def _cli(w: World, *args: str) -> str:
    result = CliRunner().invoke(app, [*args, "--home", str(w.root / "home")])
    assert result.exit_code == 0, result.output
    return result.output


def test_a_quarantined_birth_waits_for_its_correction_then_follows(reconcile_city, tmp_path):
    w = World.of(reconcile_city, tmp_path / "w")
    good = w.read("births", D[2])
    mother = good["mother_id"][0]
    broken = good.with_columns(mother_id=pl.when(pl.col("mother_id") == mother).then(
        pl.lit(mother[:-1] + ("0" if mother[-1] != "0" else "1"))).otherwise("mother_id"))
    w.write("births", D[2], broken)
    for day in D[:4]:
        w.deliver(*w.files(day))
        w.run(day)
    items = _query(w, "SELECT department, status, details FROM alerts WHERE kind = 'data_quality'")
    assert [(d, s) for d, s, _ in items] == [("health", "open")]
    details = json.loads(items[0][2])
    assert (details["file"], details["line"], details["field"], details["reason"]) == (
        f"births/births_{D[2]}.csv", 2, "mother_id", "bad_check_digit")
    assert mother not in items[0][2], "the value is masked"
    assert ("birth:B0",) not in _query(w, "SELECT key FROM events")
    report = _cli(w, "reconcile", "--as-of", str(D[3]))
    assert "bad_check_digit" in report and "mother_id" in report and "health" in report

    w.write("births", D[2], good)  # the hospital corrects and sends the file again
    w.deliver(w.path("births", D[2]))
    for day in D[4:]:
        w.deliver(*w.files(day))
        w.run(day)
    assert _query(w, "SELECT status FROM alerts WHERE kind = 'data_quality'") == [("closed",)]
    assert [str(v) for (v,) in _query(w, "SELECT event_date FROM events WHERE key = 'birth:B0'")] == [str(D[1])]


def test_an_opt_out_stops_a_service_and_the_report_counts_every_gap(reconcile_city, tmp_path):
    turning, _ = (reconcile_city / "injected.txt").read_text().split()
    w = World.of(reconcile_city, tmp_path / "w")
    for day in D[:2]:
        w.deliver(*w.files(day))
        w.run(day)
    out = _cli(w, "optout", "add", turning, "--service", "old_age", "--reason", "短信回复TD")
    assert turning not in out and turning[:6] in out, "the CLI masks the ID"
    for day in D[2:DAYS - 1]:
        w.deliver(*w.files(day))
        w.run(day)
    assert not [k for (k,) in _query(w, "SELECT key FROM events") if turning in k], "turned 80, opted out"
    # the last day's files land, but the reconciler has not run on them yet
    w.deliver(*w.files(D[-1]))
    _cli(w, "ingest", "--until", str(D[-1]))
    csv = tmp_path / "takeup.csv"
    printed = _cli(w, "reconcile", "--as-of", str(D[-1]), "--output", str(csv))
    assert "take-up as of" in printed
    counts = pl.read_csv(csv)
    by = {r: int(n) for r, n in counts.group_by("reason").agg(pl.col("entitlements").sum()).iter_rows()}
    assert by.get("opted_out") == 1
    assert by.get("not_detected", 0) == 0, "every owed entitlement is reached or has a reason"
    waiting = _query(w, """SELECT count(DISTINCT t.event_id) FROM tasks t JOIN events e ON e.id = t.event_id
                           WHERE t.status = 'backlog' AND e.event_type = 'medical_hardship'""")[0][0]
    assert by.get("waiting_capacity", 0) == waiting > 0
    # the last day's claims, landed but not reconciled: their alerts are late data until the next run
    late = by.get("late_data", 0)
    w.run(D[-1])
    new = _query(w, f"SELECT count(*) FROM events WHERE detected_on = '{D[-1]}'")[0][0]
    assert late == new > 0
