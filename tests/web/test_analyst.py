"""The analyst's questions answered in the app: revocations by rule set and reason, what a parameter
change would do (the backtest, nothing written), versions not yet live, and charts readable without colour."""

from __future__ import annotations

import datetime as dt
import re
import shutil

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from wugan.cases.db import session_scope
from wugan.cases.models import Case, Decision, Item, Task
from wugan.web.app import create_app
from wugan.web.charts import ROUTE_STYLES, stacked_bars
from wugan.web.views import VolumeRow

from .conftest import fixed_clock, login
from .factories import REPO_RULES

pytestmark = pytest.mark.filterwarnings("error")


def _counts(world) -> tuple[int, ...]:
    with session_scope(world.settings.case_store_url) as s:
        return tuple(s.scalar(select(func.count()).select_from(m)) for m in (Decision, Case, Item, Task))


def test_revocations_are_counted_by_rule_set_and_reason(client_for, world):
    hr = client_for("shenhe")
    for decision in (world.decisions["old_age"], world.decisions["death"]):
        hr.post(f"/decisions/{decision}/revoke", data={"reason": "投诉核实：户籍不在本地", "csrf_token": hr.csrf})
    page = client_for("fenxi").get("/analytics").text
    section = page[page.index("秒批撤销"):page.index("规则版本")]
    rows = re.findall(r'<td data-label="规则集">([^<]+)</td><td data-label="撤销原因">([^<]+)</td>'
                      r'<td data-label="撤销件数" class="num">(\d+)</td>', section)
    assert sorted(rows) == [("death", "投诉核实：户籍不在本地", "1"), ("old_age_allowance", "投诉核实：户籍不在本地", "1")]


def test_an_undone_revocation_is_not_counted(client_for, world):
    hr = client_for("shenhe")
    decision = world.decisions["old_age"]
    hr.post(f"/decisions/{decision}/revoke", data={"reason": "误撤", "csrf_token": hr.csrf})
    hr.post(f"/decisions/{decision}/undo", data={"csrf_token": hr.csrf})
    assert "还没有撤销的决定" in client_for("fenxi").get("/analytics").text


def test_a_what_if_backtests_a_parameter_and_writes_no_case(client_for, world):
    analyst = client_for("fenxi")
    before = _counts(world)
    page = analyst.get("/whatif", params={"ruleset": "old_age_allowance", "parameter": "old_age_allowance.tier_80",
                                          "value": "150", "start": "2025-02-10", "end": "2025-03-12"})
    assert page.status_code == 200, page.text[:500]
    result = re.sub(r"\s+", " ", page.text[page.text.index('id="result"'):])
    assert "从 100 改为 150" in result and "在用版本" in result
    cells = r'<td data-label="在用版本" class="num">{}</td> <td data-label="试算" class="num">{}</td> ' \
            r'<td data-label="变化" class="num"><b>{}</b></td>'
    assert re.search(r'<td data-label="指标">事件数</td> ' + cells.format("2", "2", r"\+0"), result)
    assert re.search(r'<td data-label="指标">发放金额（元）</td> ' + cells.format("200", "300", r"\+100"), result)
    assert "超过周能力" in result
    for pid in world.ids.values():  # whoever is listed is masked
        assert pid not in page.text
    assert _counts(world) == before


@pytest.mark.parametrize(("params", "field", "message"), [
    ({"ruleset": "medical_hardship", "parameter": "", "value": "0.4"}, "parameter", "请选择该规则集的一个参数"),
    ({"ruleset": "medical_hardship", "parameter": "medical_hardship.oop_share", "value": ""}, "value", "请填写新的参数值"),
    ({"ruleset": "medical_hardship", "parameter": "medical_hardship.oop_share", "value": "0.4", "start": "2025-3-1"},
     "start", "开始日期格式为"),
    ({"ruleset": "medical_hardship", "parameter": "medical_hardship.oop_share", "value": "0.4",
      "start": "2025-03-12", "end": "2025-02-10"}, "end", "结束日期须在开始日期之后"),
])
def test_a_what_if_that_cannot_run_names_the_field_and_keeps_the_input(client_for, params, field, message):
    page = client_for("fenxi").get("/whatif", params=params)
    assert page.status_code == 422
    assert 'class="error-summary"' in page.text and f'<a href="#{field}">{message}' in page.text
    assert f'id="{field}-error"' in page.text and 'id="result"' not in page.text
    if params.get("value"):
        assert f'value="{params["value"]}"' in page.text


def test_drafts_and_shadows_are_listed_with_their_go_live_dates(world, tmp_path):
    rules = tmp_path / "rules"
    shutil.copytree(REPO_RULES, rules)
    (rules / "lifecycle.yaml").write_text((REPO_RULES / "lifecycle.yaml").read_text(encoding="utf-8") + """\
  - version: v3-shadow
    status: draft
    live_from: 2025-04-01
    set: {medical_hardship.oop_share: 0.5}
    shadow: true
    note: 影子运行，4月上线
""", encoding="utf-8")
    settings = world.settings.model_copy(update={"rules_dir": rules})
    with TestClient(create_app(settings, clock=fixed_clock)) as client:
        login(client, "fenxi")
        page = client.get("/analytics").text
    section = page[page.index("规则版本（含草稿和影子版本）"):page.index("决定中出现过的版本")]
    assert re.search(r"<code>v3-shadow</code> <span[^>]*>影子运行</span>.*?草稿.*?"
                     r'<td data-label="上线日期">2025-04-01</td>', section, re.S)
    assert re.search(r"<code>v2-share-0.4</code>.*?草稿.*?<td data-label=\"上线日期\">未定</td>", section, re.S)
    assert "parameter=medical_hardship.oop_share&amp;value=0.5" in section  # try the change in the what-if


def _weeks(counts: dict[dt.date, dict[str, int]]) -> list[VolumeRow]:
    return [VolumeRow(week=w, event_type="birth", route=r, count=n) for w, by in counts.items() for r, n in by.items()]


def test_a_chart_has_its_numbers_its_own_title_and_a_pattern_per_route():
    first = dt.date(2025, 3, 3)
    rows = _weeks({first: {"instant_approve": 4, "bundle_case": 2}, first + dt.timedelta(7): {"assistant_task": 3}})
    svg = str(stacked_bars(rows, event_type="birth", title="出生一件事：每周决定数量"))
    assert 'aria-label="出生一件事：每周决定数量（按路径）"' in svg
    assert re.findall(r'class="num">([\d,]+)</text>', svg) == ["6", "3"]  # each bar's total above it
    assert set(re.findall(r'fill="url\(#([^)]+)\)"', svg)) == {
        "p-birth-instant_approve", "p-birth-bundle_case", "p-birth-assistant_task"}
    assert "首次运行" not in svg  # no first week given, none marked
    assert len({pattern for _, pattern in ROUTE_STYLES.values()}) == len(ROUTE_STYLES)  # not colour alone


def test_a_first_run_that_dwarfs_the_other_weeks_is_marked_and_drawn_broken():
    first = dt.date(2025, 2, 3)
    counts = {first: {"bundle_case": 900}} | {first + dt.timedelta(7 * n): {"bundle_case": 10 + n} for n in (1, 2, 3)}
    svg = str(stacked_bars(_weeks(counts), event_type="birth", first_week=first, height=220))
    assert "首周为首次运行，高度已截断" in svg and 'class="break"' in svg and 'class="first"' in svg
    assert ">首次运行</text>" in svg
    assert re.findall(r'class="num">([\d,]+)</text>', svg) == ["900", "11", "12", "13"]
    heights = [float(h) for h in re.findall(r'height="([\d.]+)" fill="url\(#p-birth-bundle_case\)"', svg)]
    plot = 220 - 24 - 34
    assert len(heights) == 4 and all(h > plot / 2 for h in heights[1:])  # not flattened by the first week
