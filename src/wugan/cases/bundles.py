"""Bundle templates (一件事): which items a case of each event has, as data in ``rules/bundles``.

``case_frames`` turns decided events into case and item rows for a whole
batch at once; acting in bulk and opening one case after a visit both use it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import polars as pl
import yaml

from wugan.cases.models import make_id
from wugan.errors import ConfigError

__all__ = ["BundleItem", "Bundle", "load_bundles", "departments", "case_frames"]


@dataclass(frozen=True)
class BundleItem:
    service: str
    label: str
    department: str
    due_days: int
    depends_on: tuple[str, ...] = ()
    rule: str | None = None
    period: str | None = None  # 'monthly': a payment that runs until stopped (a death stops it)
    starts: str | None = None  # the rule set's derived date the entitlement begins on

    @property
    def outcome(self) -> str | None:
        """The rule set outcome whose route and amount this item takes."""
        if self.rule is None:
            return None
        return self.rule.split(".", 1)[1] if "." in self.rule else self.service


@dataclass(frozen=True)
class Bundle:
    event: str
    title: str
    description: str
    lead_department: str
    items: tuple[BundleItem, ...]
    opens_on: str = "decision"
    reference: str = ""

    @property
    def ruleset(self) -> str | None:
        rules = {i.rule.split(".", 1)[0] for i in self.items if i.rule}
        return rules.pop() if rules else None

    def stage(self, service: str) -> int:
        """Serial depth: 1 for items with no dependencies, parallel items share a stage."""
        item = next(i for i in self.items if i.service == service)
        return 1 + max((self.stage(d) for d in item.depends_on), default=0)


@cache
def _load(folder: str) -> dict[str, Bundle]:
    bundles: dict[str, Bundle] = {}
    for path in sorted(Path(folder).glob("*.yaml")):
        if path.name == "departments.yaml":
            continue
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        items = tuple(
            BundleItem(
                service=i["service"], label=i["label"], department=i["department"], due_days=int(i["due_days"]),
                depends_on=tuple(i.get("depends_on", ())), rule=i.get("rule"),
                period=i.get("period"), starts=i.get("starts"),
            )
            for i in data["items"]
        )
        services = {i.service for i in items}
        for item in items:
            unknown = set(item.depends_on) - services
            if unknown:
                raise ConfigError(f"item {item.service!r} depends on unknown {sorted(unknown)}", path=path)
        bundles[data["event"]] = Bundle(
            event=data["event"], title=data["title"], description=data.get("description", "").strip(),
            lead_department=data["lead_department"], items=items, opens_on=data.get("opens_on", "decision"),
            reference=data.get("reference", ""),
        )
    return bundles


def load_bundles(rules_dir: Path) -> dict[str, Bundle]:
    return _load(str((rules_dir / "bundles").resolve()))


@cache
def _departments(folder: str) -> dict[str, str]:
    return yaml.safe_load((Path(folder) / "departments.yaml").read_text(encoding="utf-8"))


def departments(rules_dir: Path) -> dict[str, str]:
    """Department code → Chinese name."""
    return _departments(str((rules_dir / "bundles").resolve()))


def case_frames(decided: pl.DataFrame, bundle: Bundle, *, on: dt.date) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Cases and items for decided events (one row each), vectorised over the batch.

    ``decided`` has ``event_id``, ``decision_id``, ``person_id``, ``household_id``,
    ``village_code`` and, for items taken from a rule, ``<outcome>_route`` and
    ``<outcome>_amount``. An instantly approved item is done at once with its
    amount; one the rule refuses is rejected; the rest are ready when their
    dependencies are done, else pending.
    """
    case_id = pl.col("event_id").map_elements(lambda e: make_id("case", e), return_dtype=pl.String)
    cases = decided.select(
        id=case_id,
        event_id="event_id",
        event_type=pl.lit(bundle.event),
        title=pl.lit(bundle.title),
        person_id="person_id",
        household_id="household_id",
        village_code="village_code",
        status=pl.lit("open"),
        lead_department=pl.lit(bundle.lead_department),
        opened_on=pl.lit(on),
        closed_on=pl.lit(None, dtype=pl.Date),
    )
    status: dict[str, pl.Expr] = {}
    frames = []
    for item in bundle.items:
        route = pl.col(f"{item.outcome}_route") if item.outcome else pl.lit("bundle_item")
        amount = pl.col(f"{item.outcome}_amount").cast(pl.Float64) if item.outcome else pl.lit(None, pl.Float64)
        deps_done = pl.all_horizontal([status[d] == "done" for d in item.depends_on]) if item.depends_on else pl.lit(True)
        status[item.service] = (
            pl.when(route == "instant_approve").then(pl.lit("done"))
            .when(route == "no_action").then(pl.lit("rejected"))
            .when(deps_done).then(pl.lit("ready"))
            .otherwise(pl.lit("pending"))
        )
        frames.append(
            decided.select(
                id=pl.concat_str([case_id, pl.lit(item.service)], separator="|").map_elements(
                    lambda k: make_id("item", k), return_dtype=pl.String
                ),
                case_id=case_id,
                service=pl.lit(item.service),
                label=pl.lit(item.label),
                department=pl.lit(item.department),
                stage=pl.lit(bundle.stage(item.service)),
                status=status[item.service],
                depends_on=pl.lit(list(item.depends_on), dtype=pl.List(pl.String)),
                due_date=pl.lit(on + dt.timedelta(days=item.due_days)),
                amount=pl.when(route == "instant_approve").then(amount),
                decision_id=pl.col("decision_id") if item.outcome else pl.lit(None, pl.String),
                done_on=pl.when(route == "instant_approve").then(pl.lit(on)),
                version=pl.lit(1),
                starts_on=(pl.col(item.starts).cast(pl.Date) if item.starts in decided.columns
                           else pl.lit(None, pl.Date)),
                period=pl.lit(item.period, pl.String),
            )
        )
    items = pl.concat(frames) if frames else pl.DataFrame()
    return cases, items
