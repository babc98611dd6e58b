"""A synthetic city delivered the way real feeds arrive: late, twice, corrected, out of order.

A ``World`` keeps every extract the departments will ever send (``sent/``,
editable before delivery) apart from the home the pipeline runs in; a test
delivers files into the home's inbox on the days it chooses and runs the
pipeline's days in the order it chooses.
"""

from __future__ import annotations

import datetime as dt
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from tests.factories import START
from wugan import ids
from wugan.pipeline import run_day
from wugan.settings import Settings, get_settings


def file_day(path: Path) -> dt.date:
    return dt.date.fromisoformat(path.stem.rsplit("_", 1)[1])


def make_id(county: str, birth: dt.date, seq: int, *, male: bool) -> str:
    """A valid resident ID number (GB 11643) for an injected person."""
    sex_digit = seq * 2 + (1 if male else 0)  # 3 digits: seq below 500
    body = f"{county}{birth:%Y%m%d}{sex_digit:03d}"
    return body + ids.check_digit(body)


@dataclass
class World:
    root: Path
    url: str | None = None
    runs: list[dt.date] = field(default_factory=list)

    @classmethod
    def of(cls, city: Path, root: Path, *, url: str | None = None) -> World:
        """A world whose departments will send the city's extracts; nothing delivered yet."""
        shutil.copytree(city / "inbox", root / "sent")
        shutil.copytree(city / "truth", root / "home" / "truth")
        (root / "home" / "inbox").mkdir(parents=True)
        return cls(root, url)

    @property
    def settings(self) -> Settings:
        settings = get_settings(self.root / "home")
        return settings.model_copy(update={"db_url": self.url}) if self.url else settings

    @property
    def sent(self) -> Path:
        return self.root / "sent"

    def path(self, table: str, day: dt.date) -> Path:
        return self.sent / table / f"{table}_{day.isoformat()}.csv"

    def files(self, day: dt.date | None = None) -> list[Path]:
        found = sorted(self.sent.glob("*/*.csv"))
        return [p for p in found if day is None or file_day(p) == day]

    def read(self, table: str, day: dt.date = START) -> pl.DataFrame:
        return pl.read_csv(self.path(table, day), infer_schema=False)

    def write(self, table: str, day: dt.date, frame: pl.DataFrame) -> None:
        frame.write_csv(self.path(table, day))

    def append(self, table: str, day: dt.date, rows: list[dict]) -> None:
        frame = self.read(table, day)
        self.write(table, day, pl.concat([frame, pl.DataFrame(rows, schema=frame.schema)]))

    def change(self, table: str, day: dt.date, where: dict[str, str], **values: str) -> None:
        frame = self.read(table, day)
        hit = pl.all_horizontal([pl.col(k) == v for k, v in where.items()])
        assert frame.filter(hit).height == 1, f"{where} is not one row of {table} {day}"
        self.write(table, day, frame.with_columns(
            **{k: pl.when(hit).then(pl.lit(v)).otherwise(pl.col(k)) for k, v in values.items()}))

    def deliver(self, *paths: Path) -> None:
        """The departments send these files (again, if sent before: a re-delivery replaces the earlier)."""
        for path in paths:
            target = self.root / "home" / "inbox" / path.parent.name / path.name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)

    def run(self, day: dt.date) -> None:
        run_day(self.settings, day)
        self.runs.append(day)

    def on_time(self, days: int) -> World:
        """Every file delivered on the day its name carries, the days run in order."""
        for offset in range(days):
            day = START + dt.timedelta(days=offset)
            self.deliver(*self.files(day))
            self.run(day)
        return self
