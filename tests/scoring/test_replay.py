"""The replay evaluation against a queue worked out by hand."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from tests.factories import assistants_frame
from wugan.scoring.queue import QueueRules
from wugan.scoring.replay import judge, replay

MONDAY = dt.date(2025, 3, 3)
A, B = "371402001001", "371402001002"  # one township
RULES = QueueRules(explore_share=0.0, township_after_days=2)


def d(n: int) -> dt.date:
    return MONDAY + dt.timedelta(days=n)


# id, village, arrived, priority, eligible, onset
ALERTS = pl.DataFrame([
    ("a1", A, d(0), 0.9, True, d(-10)),
    ("a2", A, d(0), 0.5, True, None),  # eligible from before the window
    ("a3", A, d(0), 0.7, True, d(5)),  # visited before the onset: nothing to confirm yet
    ("a4", A, d(1), 0.95, True, d(1)),
    ("b1", B, d(0), 0.4, False, None),
    ("b2", B, d(4), 0.8, True, d(4)),
], schema={"id": pl.String, "village_code": pl.String, "arrived": pl.Date, "priority": pl.Float64,
           "eligible": pl.Boolean, "onset": pl.Date}, orient="row")
STAFF = assistants_frame([("A1", A, 2), ("B1", B, 2)])

# By hand: day 0 (Monday) A's two visits go to a1 (0.9) and a3 (0.7), B's first to b1; a2 waits.
# Day 1: a4 arrives, A is full. Day 2: a2 has waited two days: B1's free visit, through the township.
# Day 4: b2 arrives, B is full. Day 7 (next Monday): A gives a4 (0.95), B gives b2.
EXPECTED = {"a1": (d(0), "village"), "a3": (d(0), "village"), "b1": (d(0), "village"),
            "a2": (d(2), "township"), "a4": (d(7), "village"), "b2": (d(7), "village")}


@pytest.fixture(scope="module")
def replayed():
    return replay(ALERTS, STAFF, start=MONDAY, days=14, rules=RULES)


def test_the_replay_gives_out_the_visits_worked_out_by_hand(replayed):
    got = {r["id"]: (r["visited_on"], r["visit_queue"]) for r in replayed.alerts.iter_rows(named=True)}
    assert got == EXPECTED


def test_the_window_ends_what_can_be_visited():
    short = replay(ALERTS, STAFF, start=MONDAY, days=7, rules=RULES).alerts
    assert short.filter(pl.col("visited_on").is_null())["id"].sort().to_list() == ["a4", "b2"]


def test_the_figures_count_eligible_people_visited_on_or_after_their_onset(replayed):
    figures = judge(replayed)
    assert figures["eligible_visited_week_1"] == 2  # a1, a2 (a3 came before its onset)
    assert figures["eligible_visited_month_1"] == 4  # and a4, b2
    assert figures["eligible_alerted"] == 5 and figures["recall_month_1"] == pytest.approx(4 / 5)
    assert figures["visits_month_1"] == 6
    # onset to visit: a1 10 days, a4 6, b2 3 (a2's onset is unknown)
    assert figures["onset_to_visit_median_days"] == 6 and figures["onset_to_visit_p90_days"] == 10
    assert figures["in_window_onsets_visited"] == 2 and figures["in_window_onset_to_visit_median_days"] in (3, 6)


def test_calibration_is_judged_on_the_scored_alerts(replayed):
    scored = replayed.alerts.with_columns(score=pl.Series([0.9, 0.9, 0.1, 0.9, 0.1, 0.9]))
    figures = judge(type(replayed)(alerts=scored, start=replayed.start, days=replayed.days), score="score")
    # a3 arrived before its onset, so it is a negative when scored: 0.9 for the four positives, 0.1 for two
    assert figures["roc_auc"] == 1.0 and figures["ece"] == pytest.approx((4 * 0.1 + 2 * 0.1) / 6)
