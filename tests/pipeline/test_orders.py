"""A property: whatever order the files arrive in and the days are run in, what is in force is the same.

Hypothesis draws a run order of the days and, for every extract, the step
before which it arrives (late, early for a later day's run, or on time);
after the last step an operator's catch-up run of the last day lands what a
run of an earlier day could not. What runs, what is open and what is owed
must then equal the on-time run's (a death learnt before a first run leaves
no approval to reverse, so only what is in force can be compared).
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.pipeline.conftest import DAYS, D
from tests.pipeline.deliveries import World, file_day
from tests.pipeline.state import differences, effective_state


@settings(max_examples=5, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_any_delivery_and_run_order_ends_in_force_as_on_time(reconcile_city, reconcile_on_time, data):
    root = Path(tempfile.mkdtemp(prefix="wugan-order-"))
    try:
        w = World.of(reconcile_city, root / "w")
        order = data.draw(st.permutations(D), label="run order")
        files = w.files()
        arrives = {f: data.draw(st.integers(0, DAYS - 1), label=f.name) for f in files
                   if f.parent.name in ("births", "deaths", "claims", "persons")}
        for step, day in enumerate(order):
            w.deliver(*[f for f in files if arrives.get(f, 0) == step or (f not in arrives and step == 0)])
            w.run(day)
        w.run(D[-1])  # the operator's catch-up: every delivered file lands
        assert all(file_day(f) <= D[-1] for f in files)
        found = effective_state(w.settings.case_store_url)
        expected = effective_state(reconcile_on_time.settings.case_store_url)
        assert found == expected, f"{order}\n{differences(found, expected)}"
    finally:
        shutil.rmtree(root, ignore_errors=True)
