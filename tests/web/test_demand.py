"""The analyst sees the demand behind the workload: per village and week, and the weeks to clear it."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.web.factories import EAST, WEEK

pytestmark = pytest.mark.filterwarnings("error")


def test_the_analyst_sees_new_alerts_backlog_assigned_done_and_capacity_per_village_and_week(client_for, world):
    rows = client_for("fenxi").get("/api/analytics").json()["workload"]
    east = {r["week"]: r for r in rows if r["village_code"] == EAST}
    now = east[WEEK.isoformat()]
    # 东关村: t_east, t_east2 and the heirs' t_death given this week; t_queue waits in the village's queue;
    # A001 does 3 a week
    assert (now["assigned"], now["backlog"], now["capacity"]) == (3, 1, 3)
    # this week's capacity is taken: the backlog clears next week
    assert now["weeks_to_clear"] == pytest.approx(1 / 3) and now["clear_by"] == (WEEK + dt.timedelta(weeks=1)).isoformat()
    page = client_for("fenxi").get("/analytics").text
    assert "走访需求与能力" in page and "积压 1" in page


def test_an_assistant_cannot_read_the_demand_of_other_villages(client_for):
    assert client_for("xly1").get("/api/analytics").status_code == 403


def test_the_same_demand_in_the_wugan_command(world):
    from typer.testing import CliRunner

    from tests.web.factories import TODAY
    from wugan.cli.main import app

    result = CliRunner().invoke(app, ["queue", "demand", "--home", str(world.settings.home), "--on",
                                      TODAY.isoformat(), "--village", EAST, "--weeks", "1"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    row = next(line for line in result.output.splitlines() if EAST in line)
    assert [c.strip() for c in row.strip("│ ").split("│")][2:7] == ["0", "1", "3", "0", "3"]
    assert "the catch-up plan ends in the week of " + (WEEK + dt.timedelta(weeks=1)).isoformat() in result.output.replace("\n", " ")
