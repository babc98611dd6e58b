"""A synthetic Dezhou-like city, delivered as its departments would: CSV extracts plus hidden truth.

`generate` builds the city village chunk by village chunk (~100k persons each, own
seed from `SeedSequence(seed).spawn`), so memory is bounded by the chunk and the
output is byte-identical for the same arguments.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow.parquet as pq

from wugan.errors import InputError

from .claims import make_claims
from .corrupt import FILE_KINDS, KINDS
from .corrupt import corrupt as _corrupt
from .feeds import draw_births, draw_deaths
from .hardship import draw_conditions, eligibility
from .names import GIVEN_F, GIVEN_M, HOSPITALS, SURNAMES
from .persons import EMPLOYMENT, IdCounter, make_people
from .reference import (
    draw_assistants,
    draw_benefits,
    draw_contributions,
    draw_pensions,
    draw_registry,
)
from .regions import build_regions
from .retirement import first_day_of_month, retirement_month
from .writer import COLUMNS, Sink, dates, money

__all__ = ["SynthSummary", "generate", "KINDS", "FILE_KINDS", "COLUMNS"]

CHUNK_PERSONS = 100_000
_EPOCH = dt.date(1970, 1, 1)


@dataclass
class SynthSummary:
    rows: dict[str, int] = field(default_factory=dict)
    files: int = 0
    corruptions: dict[str, int] = field(default_factory=dict)


def _chunks(pop: np.ndarray) -> list[np.ndarray]:
    cum = np.cumsum(pop)
    cut = np.searchsorted(cum, np.arange(CHUNK_PERSONS, cum[-1], CHUNK_PERSONS), side="left") + 1
    return [c for c in np.split(np.arange(len(pop)), np.unique(cut)) if len(c)]


def _frame(cols: dict, day, lock=None) -> pl.DataFrame:
    n = len(next(iter(cols.values())))
    df = pl.DataFrame({k: (v if isinstance(v, pl.Series) else pl.Series(v)).cast(pl.Utf8).alias(k)
                       for k, v in cols.items()})
    return df.with_columns(_day=pl.Series(np.broadcast_to(np.asarray(day, dtype=np.int32), n).copy()),
                           _lock=pl.Series(np.zeros(n, bool) if lock is None else lock))


def _keep(s: pl.Series, mask: np.ndarray) -> pl.Series:
    """s where mask, else null (empty in the CSV)."""
    return s.cast(pl.Utf8).zip_with(pl.Series(mask, dtype=pl.Boolean), pl.Series([None] * len(s), dtype=pl.Utf8))


def _bools(a: np.ndarray) -> np.ndarray:
    return np.where(a, "true", "false")


_TRUTH_SCHEMA = {"person_id": pl.Utf8, "birth_date": pl.Date, "sex": pl.Utf8, "employment": pl.Utf8,
                 "hukou_village": pl.Utf8, "household_id": pl.Utf8, "lives_alone": pl.Boolean,
                 "death_date": pl.Date, "retirement_date": pl.Date, "hardship_onset": pl.Date,
                 "disabling_condition": pl.Utf8, "eligible": pl.Boolean}


def generate(*, inbox: Path, truth: Path, persons: int, seed: int, start: dt.date, days: int,
             corrupt: float = 0.0, progress: Callable[[str, int], None] | None = None) -> SynthSummary:
    """Write the city's extracts to `inbox` and its ground truth to `truth`; see docs/extracts.md."""
    if persons < 100 or days < 1:
        raise InputError("need at least 100 persons and 1 day")
    inbox, truth = Path(inbox), Path(truth)
    truth.mkdir(parents=True, exist_ok=True)
    s0 = (start - _EPOCH).days
    s_reg, s_chunks, _ = np.random.SeedSequence(seed).spawn(3)
    regions = build_regions(np.random.default_rng(s_reg), persons)
    county_index = {c: i for i, c in enumerate(dict.fromkeys(regions.county_code))}
    ids = IdCounter(len(county_index), s0)
    file_faults: dict[tuple[str, int], tuple[str, str]] = {}
    if corrupt > 0:
        if days >= 2:
            file_faults[("claims", days - 1)] = ("missing_column", "icd10")
            file_faults[("deaths", 1)] = ("unexpected_column", "remark")
        else:
            file_faults[("births", 0)] = ("missing_column", "hospital")
            file_faults[("deaths", 0)] = ("unexpected_column", "remark")
    forbid = {t: frozenset(d for (tt, d) in file_faults if tt == t) for t in COLUMNS}
    sink = Sink(inbox, start, days, file_faults)
    sink.create_all()
    sink.write("regions", regions.table.with_columns(
        pl.col("urban").map_elements(lambda b: "true" if b else "false", return_dtype=pl.Utf8),
        pl.all().exclude("urban").cast(pl.Utf8), _day=pl.lit(0, pl.Int32)))

    chunks = _chunks(regions.population)
    seeds = s_chunks.spawn(len(chunks))
    counters = {"claim": 0, "birth": 0, "death": 0}
    hospitals = np.array(HOSPITALS)
    tw = {name: None for name in ("persons", "births", "deaths")}
    try:
        for ci, (villages, ss) in enumerate(zip(chunks, seeds, strict=True)):
            rng = np.random.default_rng(ss)
            p = make_people(rng, regions, villages, s0, ids, county_index)
            n = len(p)
            vcode = regions.village_code[p.village]
            county = regions.county_code[p.village]
            deaths = draw_deaths(rng, p, s0, days)
            death_day = np.full(n, -1, np.int64)
            death_day[deaths.person] = deaths.day
            births = draw_births(rng, p, s0, days, deaths.person)
            cond = draw_conditions(rng, p.age, s0, days)
            reg = draw_registry(rng, p, cond, s0)
            ben, low = draw_benefits(rng, p, regions, reg, s0)
            retire_m = retirement_month(p.birth, p.male, p.employment == 1)
            claims = make_claims(rng, p, cond, births, death_day, s0, days)
            force = corrupt > 0 and ci == 0

            def put(table, df, _rng=rng, _force=force):
                if corrupt > 0:
                    df = _corrupt(df, table, corrupt, _rng, start=s0, days=days, forbid_days=forbid[table],
                                  force=_force)
                sink.write(table, df)

            lock = np.zeros(n, bool)
            lock[births.mother] = True
            lock[deaths.person] = True
            sex = np.where(p.male, "M", "F")
            put("persons", _frame({
                "person_id": p.pid, "name": p.names, "sex": sex, "birth_date": dates(p.birth),
                "household_id": p.household_id, "hukou_village": vcode, "phone": p.phone,
                "employment": EMPLOYMENT[p.employment], "alive": np.full(n, "true")}, 0, lock))
            cw, cy, cm = draw_contributions(rng, p, retire_m, s0)
            put("contributions", _frame({"person_id": p.pid.gather(cw), "year": cy, "months": cm}, 0))
            pw, pstart, pcents, pstop = draw_pensions(rng, p, retire_m, s0)
            put("pensions", _frame({"person_id": p.pid.gather(pw), "start_date": dates(pstart),
                                    "monthly_amount": money(pcents),
                                    "status": np.where(pstop, "stopped", "active")}, 0))
            put("disability_registry", _frame({"person_id": p.pid.gather(reg.person), "grade": reg.grade,
                                               "type": reg.type, "registered_date": dates(reg.day)}, 0))
            put("benefits", _frame({"person_id": p.pid.gather(ben.person), "benefit": ben.kind,
                                    "start_date": dates(ben.start), "monthly_amount": money(ben.cents)}, 0))
            av, aseq, acap = draw_assistants(rng, regions, villages)
            na = len(av)
            a_names = (pl.Series(np.array(SURNAMES)[rng.integers(0, len(SURNAMES), na)])
                       + pl.Series(np.array(GIVEN_F + GIVEN_M)[rng.integers(0, len(GIVEN_F + GIVEN_M), na)]))
            put("assistants", _frame({
                "assistant_id": "A" + pl.Series(regions.village_code[av]) + pl.Series(aseq).cast(pl.Utf8).str.zfill(2),
                "name": a_names, "village_code": regions.village_code[av],
                "phone": pl.Series(13_900_000_000 + rng.integers(0, 10**8, na)).cast(pl.Utf8),
                "weekly_capacity": acap}, 0))

            # claims: ids numbered across the city in delivery order
            nc = len(claims)
            cid = "C" + pl.Series(np.arange(counters["claim"], counters["claim"] + nc) + 1).cast(pl.Utf8).str.zfill(12)
            counters["claim"] += nc
            put("claims", _frame({
                "claim_id": cid, "person_id": p.pid.gather(claims.person), "claim_date": dates(claims.day),
                "hospital": hospitals[rng.integers(0, len(hospitals), nc)], "icd10": claims.icd,
                "total": money(claims.total), "insurer_paid": money(claims.total - claims.oop),
                "out_of_pocket": money(claims.oop), "inpatient_days": claims.inpatient,
                "rehab": _bools(claims.rehab)}, claims.deliver))

            # births: child takes the father's surname when he is known
            nb = len(births.mother)
            father = p.spouse[births.mother]
            has_f = father >= 0
            bid = ("Q" + pl.Series(county[births.mother])
                   + pl.Series(np.arange(counters["birth"], counters["birth"] + nb) + 1).cast(pl.Utf8).str.zfill(6))
            counters["birth"] += nb
            sur = np.array(SURNAMES)[np.where(has_f, p.surname[np.maximum(father, 0)], p.surname[births.mother])]
            given = np.where(births.male, np.array(GIVEN_M)[rng.integers(0, len(GIVEN_M), nb)],
                             np.array(GIVEN_F)[rng.integers(0, len(GIVEN_F), nb)])
            child_name = _keep(pl.Series(sur) + pl.Series(given, dtype=pl.Utf8), births.named)
            father_id = _keep(p.pid.gather(np.maximum(father, 0)), has_f)
            bframe = {"birth_record_id": bid, "birth_date": dates(births.day), "child_name": child_name,
                      "child_sex": np.where(births.male, "M", "F"), "mother_id": p.pid.gather(births.mother),
                      "father_id": father_id, "hospital": hospitals[rng.integers(0, 5, nb)],
                      "hukou_village": vcode[births.mother]}
            put("births", _frame(bframe, births.deliver))
            nd = len(deaths.person)
            did = ("D" + pl.Series(county[deaths.person])
                   + pl.Series(np.arange(counters["death"], counters["death"] + nd) + 1).cast(pl.Utf8).str.zfill(7))
            counters["death"] += nd
            dframe = {"death_record_id": did, "person_id": p.pid.gather(deaths.person), "death_date": dates(deaths.day),
                      "cause_icd10": deaths.cause, "place": deaths.place}
            put("deaths", _frame(dframe, deaths.deliver))

            # truth
            grade = np.zeros(n, np.int64)
            grade[reg.person] = reg.grade
            alone = p.hh_size == 1
            elig = eligibility(rng, cond, p.age, alone, low, grade, death_day >= 0)
            eligible = np.zeros(n, bool)
            eligible[cond.person] = elig
            onset = np.full(n, np.iinfo(np.int32).min, np.int64)
            onset[cond.person] = cond.onset
            code = np.full(n, "", dtype=object)
            code[cond.person] = cond.code
            has = onset > np.iinfo(np.int32).min
            t_persons = pl.DataFrame({
                "person_id": p.pid, "birth_date": pl.Series(p.birth.astype(np.int32)).cast(pl.Date),
                "sex": sex, "employment": EMPLOYMENT[p.employment], "hukou_village": vcode,
                "household_id": p.household_id, "lives_alone": alone,
                "death_date": pl.Series(np.where(death_day >= 0, death_day, 0).astype(np.int32)).cast(pl.Date),
                "retirement_date": pl.Series(first_day_of_month(retire_m).astype(np.int32)).cast(pl.Date),
                "hardship_onset": pl.Series(np.where(has, onset, 0).astype(np.int32)).cast(pl.Date),
                "disabling_condition": _keep(pl.Series(code.astype(str)), has), "eligible": eligible,
            }).with_columns(
                death_date=pl.when(pl.Series(death_day >= 0)).then(pl.col("death_date")),
                hardship_onset=pl.when(pl.Series(has)).then(pl.col("hardship_onset")),
            )
            t_births = pl.DataFrame(bframe).with_columns(
                birth_date=pl.col("birth_date").str.to_date(), child_name=pl.col("child_name").cast(pl.Utf8),
                delivered_on=(pl.Series(births.deliver.astype(np.int32) + s0)).cast(pl.Date)).drop("hospital")
            t_deaths = pl.DataFrame(dframe).with_columns(
                death_date=pl.col("death_date").str.to_date(),
                delivered_on=(pl.Series(deaths.deliver.astype(np.int32) + s0)).cast(pl.Date))
            for name, frame in (("persons", t_persons), ("births", t_births), ("deaths", t_deaths)):
                table = frame.to_arrow()
                if tw[name] is None:
                    tw[name] = pq.ParquetWriter(truth / f"{name}.parquet", table.schema)
                tw[name].write_table(table.cast(tw[name].schema))
            if progress:
                progress("persons", n)
    finally:
        for w in tw.values():
            if w is not None:
                w.close()
    manifest = sink.manifest_frame()
    manifest.write_parquet(truth / "corruptions.parquet")
    counts = manifest.group_by("kind").len()
    return SynthSummary(rows=dict(sink.rows), files=sink.files,
                        corruptions={k: int(c) for k, c in counts.sort("kind").iter_rows()})
