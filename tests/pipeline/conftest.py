"""The small city the reconcile scenarios deliver in the wrong order, and its on-time run."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from tests.factories import START, synth_city
from tests.pipeline.deliveries import World, make_id

DAYS = 6
D = [START + dt.timedelta(days=i) for i in range(DAYS)]  # D[0] is 1 March
PARTNER_SEQ = 450  # sequence numbers of injected persons (codes 901, 903): no generated ID uses them


@pytest.fixture(scope="session")
def reconcile_city(tmp_path_factory) -> Path:
    """A small city with the records these scenarios need injected into its extracts."""
    home = synth_city(tmp_path_factory.mktemp("reconcile"), persons=6_000, days=DAYS, seed=11)
    people = pl.read_parquet(home / "truth" / "persons.parquet")
    persons = pl.read_csv(home / "inbox" / "persons" / f"persons_{START}.csv", infer_schema=False)
    village = persons["hukou_village"][0]
    mothers = people.filter((pl.col("sex") == "F") & pl.col("birth_date").is_between(
        dt.date(1990, 1, 1), dt.date(1999, 12, 31)))["person_id"].head(3).to_list()

    def sent(table: str, day: dt.date) -> Path:
        return home / "inbox" / table / f"{table}_{day}.csv"

    def append(table: str, day: dt.date, rows: list[dict]) -> None:
        frame = pl.read_csv(sent(table, day), infer_schema=False)
        pl.concat([frame, pl.DataFrame(rows, schema=frame.schema)]).write_csv(sent(table, day))

    append("births", D[2], [
        {"birth_record_id": f"B{n}", "birth_date": str(D[1]), "child_name": "", "child_sex": "F",
         "mother_id": mother, "father_id": "", "hospital": "德州市人民医院", "hukou_village": village}
        for n, mother in enumerate(mothers)])
    # someone turning 80 on 4 March, and one who dies on 3 March (its record sent that day)
    turning = make_id(village[:6], dt.date(1945, 3, 4), PARTNER_SEQ, male=True)
    dying = make_id(village[:6], dt.date(1944, 1, 10), PARTNER_SEQ + 1, male=True)
    append("persons", START, [
        {"person_id": pid, "name": "测试", "sex": "M", "birth_date": birth, "household_id": f"HX{pid[-4:]}",
         "hukou_village": village, "phone": "13800000000", "employment": "rural", "alive": "true"}
        for pid, birth in ((turning, "1945-03-04"), (dying, "1944-01-10"))])
    append("deaths", D[2], [{"death_record_id": "DR1", "person_id": dying, "death_date": str(D[1]),
                             "cause_icd10": "I63.9", "place": "home"}])
    (home / "injected.txt").write_text(f"{turning}\n{dying}\n")
    return home


@pytest.fixture(scope="session")
def reconcile_on_time(reconcile_city, tmp_path_factory) -> World:
    return World.of(reconcile_city, tmp_path_factory.mktemp("on_time") / "w").on_time(DAYS)
