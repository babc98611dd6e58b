"""Ingest: every injected fault is quarantined with its reason, nothing is lost, reruns change nothing."""

from __future__ import annotations

import hashlib
from pathlib import Path

import polars as pl
import pytest

from tests.factories import synth_city
from wugan import lake
from wugan.lake.ingest import REFUSED, ingest
from wugan.settings import get_settings


@pytest.fixture(scope="module")
def corrupted(tmp_path_factory) -> Path:
    home = synth_city(tmp_path_factory.mktemp("corrupt"), persons=20_000, days=10, corrupt=0.01, seed=3)
    settings = get_settings(home)
    rows_delivered = sum(_data_rows(p) for p in settings.inbox.glob("*/*.csv"))
    (home / "delivered.txt").write_text(str(rows_delivered))
    ingest(settings)
    return home


def _data_rows(path: Path) -> int:
    return max(len(path.read_bytes().splitlines()) - 1, 0)


def _lake_digest(home: Path) -> dict[str, str]:
    return {
        str(p.relative_to(home)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted((home / "lake").rglob("*"))
        if p.is_file()
    }


def test_every_injected_fault_is_quarantined_with_its_reason(corrupted):
    settings = get_settings(corrupted)
    manifest = pl.read_parquet(settings.truth / "corruptions.parquet")
    assert manifest["kind"].n_unique() >= 12, "the generator injects every kind"
    quarantine = lake.connect(settings).sql("SELECT file, line, field, reason, message FROM quarantine").pl()

    rows = manifest.filter(pl.col("line").is_not_null())
    found = rows.join(quarantine, on=["file", "line"], how="left")
    missed = found.filter(pl.col("reason").is_null())
    assert missed.is_empty(), f"faults not quarantined: {missed.head(5).to_dicts()}"
    wrong = found.filter(pl.col("reason") != pl.col("kind"))
    assert wrong.is_empty(), f"quarantined with another reason: {wrong.head(5).to_dicts()}"
    # Nothing else was quarantined: clean rows are not blamed.
    assert quarantine.filter(pl.col("line").is_not_null()).height == rows.height

    files = manifest.filter(pl.col("line").is_null())
    for fault in files.to_dicts():
        entry = quarantine.filter((pl.col("file") == fault["file"]) & (pl.col("reason") == fault["kind"]))
        assert entry.height >= 1
        assert fault["file"] in entry["message"][0] and "refused" in entry["message"][0]


def test_messages_name_file_line_and_field_and_mask_ids(corrupted):
    quarantine = lake.connect(get_settings(corrupted)).sql(
        "SELECT file, line, field, value, message FROM quarantine WHERE line IS NOT NULL"
    ).pl()
    for row in quarantine.head(200).to_dicts():
        assert row["message"].startswith(f"{row['file']} line {row['line']}: {row['field']} = ")
    ids = quarantine.filter(pl.col("field").is_in(["person_id", "mother_id", "father_id"]))
    assert ids.height > 0
    assert not ids["value"].drop_nulls().str.contains(r"^\d{17}[\dX]$").any(), "ID numbers are masked"


def test_nothing_is_lost(corrupted):
    settings = get_settings(corrupted)
    delivered = int((corrupted / "delivered.txt").read_text())
    con = lake.connect(settings)
    landed = sum(con.execute(f"SELECT count(*) FROM raw_{t}").fetchone()[0] for t in lake.CONTRACTS)
    quarantined = con.execute("SELECT count(*) FROM quarantine WHERE line IS NOT NULL").fetchone()[0]
    refused = sum(_data_rows(p) for p in (settings.inbox / REFUSED).glob("*/*.csv"))
    assert refused > 0
    assert landed + quarantined + refused == delivered


def test_reingest_changes_nothing(corrupted):
    settings = get_settings(corrupted)
    before = _lake_digest(corrupted)
    report = ingest(settings)
    assert report.files_landed == 0 and report.files_refused == 0
    assert report.files_skipped > 0
    assert _lake_digest(corrupted) == before


def test_a_file_with_a_missing_column_is_refused_whole(tmp_path):
    home = tmp_path
    settings = get_settings(home)
    folder = settings.inbox / "regions"
    folder.mkdir(parents=True)
    (folder / "regions_2025-03-01.csv").write_text(
        "region_code,name,level,parent_code,urban,income_prev_year,dibao_line\n"
        "371402,德城区,county,,true,51800,1000\n",
        encoding="utf-8",
    )
    report = ingest(settings)
    assert report.files_refused == 1 and report.files_landed == 0
    assert (settings.inbox / REFUSED / "regions" / "regions_2025-03-01.csv").exists()
    assert not list((settings.lake / "regions").glob("**/*.parquet"))
    message = lake.connect(settings).execute("SELECT message FROM quarantine").fetchone()[0]
    assert "regions/regions_2025-03-01.csv" in message and "province_urban_income_prev_year" in message


def test_a_corrected_redelivery_replaces_the_file(tmp_path):
    settings = get_settings(tmp_path)
    folder = settings.inbox / "regions"
    folder.mkdir(parents=True)
    header = "region_code,name,level,parent_code,urban,income_prev_year,dibao_line,province_urban_income_prev_year\n"
    path = folder / "regions_2025-03-01.csv"
    path.write_text(header + "371402,德城区,county,,true,-5,1000,53000\n", encoding="utf-8")
    ingest(settings)
    con = lake.connect(settings)
    assert con.execute("SELECT count(*) FROM regions").fetchone()[0] == 0
    path.write_text(header + "371402,德城区,county,,true,51800,1000,53000\n", encoding="utf-8")
    assert ingest(settings).files_landed == 1
    con = lake.connect(settings)
    assert con.execute("SELECT income_prev_year FROM regions").fetchone()[0] == 51800
    assert con.execute("SELECT count(*) FROM quarantine").fetchone()[0] == 0
