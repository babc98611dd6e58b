"""A reference table's current state is written when a delivery lands, and equals the upsert of its history.

Persons are delivered whole, then a delta (a corrected row and a new one),
then the first file again corrected (a row withdrawn). After each landing
the ``persons`` view reads one snapshot file, and holds exactly what
deduplicating every delivery (the latest delivery day winning) gives; the
history stays in ``history_persons``.
"""

from __future__ import annotations

import datetime as dt
import shutil

import polars as pl

from tests.factories import START
from wugan import lake
from wugan.lake.catalog import view_sql
from wugan.lake.ingest import ingest
from wugan.settings import get_settings


def _upsert(con) -> pl.DataFrame:
    return con.sql("""SELECT * EXCLUDE (_line, _file, _batch, _delivered) FROM raw_persons
                      QUALIFY row_number() OVER (PARTITION BY person_id ORDER BY _delivered DESC, _batch DESC) = 1
                      ORDER BY person_id""").pl()


def _current(con) -> pl.DataFrame:
    return con.sql("SELECT * EXCLUDE (_line, _file, _batch, _delivered) FROM persons ORDER BY person_id").pl()


def test_the_current_persons_are_the_upsert_of_every_delivery(city_template, tmp_path):
    home = tmp_path / "home"
    shutil.copytree(city_template, home)
    settings = get_settings(home)
    inbox = settings.inbox / "persons"
    first = inbox / f"persons_{START}.csv"
    everyone = pl.read_csv(first, infer_schema=False)
    for table in ("persons",):  # only the registry's deliveries: a delta and a correction come later
        for path in sorted((settings.inbox / table).glob("*.csv"))[1:]:
            path.unlink()
    ingest(settings, until=START)
    con = lake.connect(settings)
    assert _current(con).equals(_upsert(con)) and _current(con).height == everyone.height

    delta = everyone.head(2).with_columns(employment=pl.lit("employee"))
    newcomer = everyone.tail(1).with_columns(person_id=pl.lit(everyone["person_id"][0]))  # replaced below
    delta.write_csv(inbox / f"persons_{START + dt.timedelta(days=2)}.csv")
    ingest(settings, until=START + dt.timedelta(days=2))
    con = lake.connect(settings)
    current = _current(con)
    assert current.equals(_upsert(con))
    assert set(current.filter(pl.col("person_id").is_in(delta["person_id"].implode()))["employment"]) == {"employee"}
    assert "_current" in view_sql(settings.lake)["persons"], "read from the snapshot, not a window over history"

    withdrawn = everyone["person_id"][-1]
    everyone.filter(pl.col("person_id") != withdrawn).write_csv(first)  # the registry corrects its first file
    ingest(settings, until=START + dt.timedelta(days=2))
    con = lake.connect(settings)
    current = _current(con)
    assert current.equals(_upsert(con))
    assert withdrawn not in current["person_id"].to_list()
    assert set(current.filter(pl.col("person_id").is_in(delta["person_id"].implode()))["employment"]) == {"employee"}
    history = con.sql("SELECT count(DISTINCT _batch) FROM history_persons").fetchall()[0][0]
    assert history == 3, "every version stays queryable"
    assert newcomer.height == 1


def test_contribution_totals_are_written_beside_the_snapshot(city_template, tmp_path):
    home = tmp_path / "home"
    shutil.copytree(city_template, home)
    settings = get_settings(home)
    ingest(settings, until=START)
    con = lake.connect(settings)
    by_hand = con.sql("""SELECT person_id, sum(months)::INTEGER AS m FROM contributions GROUP BY 1
                         ORDER BY 1""").pl()
    totals = con.sql("SELECT person_id, contribution_months AS m FROM contributions_totals ORDER BY 1").pl()
    assert totals.equals(by_hand) and totals.height > 1000
    assert "__totals.parquet" in view_sql(settings.lake)["contributions_totals"] or \
        "contributions__b" in view_sql(settings.lake)["contributions_totals"]
