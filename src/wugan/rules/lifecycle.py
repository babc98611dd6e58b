"""Rule set versions as data (``rules/lifecycle.yaml``): draft → live from a date → retired.

Each rule set lists its versions. A version is a rule file (default
``<ruleset>.yaml``, else a frozen copy such as ``versions/<ruleset>/<label>.yaml``)
plus optional parameter overrides (``set``), so "the same rules with a share
of 0.4" is one line. The version in force on a date is the non-draft version
with the latest ``live_from`` on or before it (a retired version stays in
force for the dates before its successor). A version with ``shadow: true``
runs beside the live one on every pipeline run; its decisions are stored in
``shadow_decisions`` and never acted on. The hash every decision records
(``RuleSet.version``) is computed from the loaded version, so ``wugan rules
versions`` maps labels to the hashes seen in the case store.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wugan.errors import RuleError
from wugan.rules.loader import RuleSet, load_file, load_ruleset
from wugan.rules.yamldoc import YamlDoc, load_yaml

__all__ = ["STATUSES", "LIFECYCLE_FILE", "Version", "load_lifecycle", "versions_of", "live_on", "shadows",
           "load_version"]

LIFECYCLE_FILE = "lifecycle.yaml"
STATUSES = ("draft", "live", "retired")


@dataclass(frozen=True)
class Version:
    ruleset: str
    label: str
    status: str
    live_from: dt.date | None = None
    retired_on: dt.date | None = None
    file: str | None = None
    set: dict[str, Any] = field(default_factory=dict)
    shadow: bool = False
    note: str = ""

    def in_force(self, day: dt.date) -> bool:
        return (self.status != "draft" and self.live_from is not None and self.live_from <= day
                and (self.retired_on is None or day < self.retired_on))


def _date(value: Any, doc: YamlDoc, kp: tuple) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise doc.error(kp, f"{value!r} is not a date (YYYY-MM-DD)") from None


def _version(doc: YamlDoc, name: str, i: int, e: dict) -> Version:
    kp, where = (name, i), f"{name}[{i}]"
    status = e.get("status", "draft")
    if status not in STATUSES:
        raise doc.error((*kp, "status"), f"{where}: status {status!r} is not one of {', '.join(STATUSES)}")
    v = Version(ruleset=name, label=str(e["version"]), status=status,
                live_from=_date(e.get("live_from"), doc, (*kp, "live_from")),
                retired_on=_date(e.get("retired_on"), doc, (*kp, "retired_on")),
                file=e.get("file"), set=dict(e.get("set") or {}), shadow=bool(e.get("shadow", False)),
                note=str(e.get("note", "")).strip())
    if status != "draft" and v.live_from is None:
        raise doc.error(kp, f"{where}: a {status} version needs live_from")
    if status == "retired" and v.retired_on is None:
        raise doc.error(kp, f"{where}: a retired version needs retired_on")
    return v


def load_lifecycle(rules_dir: Path) -> dict[str, list[Version]]:
    """Every rule set's versions, as written; an empty mapping when the file is absent."""
    path = Path(rules_dir) / LIFECYCLE_FILE
    if not path.is_file():
        return {}
    doc = load_yaml(path)
    out: dict[str, list[Version]] = {}
    for name, entries in (doc.data or {}).items():
        versions = [_version(doc, name, i, e) for i, e in enumerate(entries or [])]
        labels = [v.label for v in versions]
        if len(set(labels)) != len(labels):
            raise doc.error((name,), f"{name} repeats a version label")
        out[name] = versions
    return out


def versions_of(ruleset: str, *, rules_dir: Path) -> list[Version]:
    return load_lifecycle(rules_dir).get(ruleset, [])


def live_on(ruleset: str, day: dt.date, *, rules_dir: Path) -> Version | None:
    """The version in force on ``day``: the latest ``live_from`` on or before it, not yet retired."""
    candidates = [v for v in versions_of(ruleset, rules_dir=rules_dir) if v.in_force(day)]
    return max(candidates, key=lambda v: v.live_from) if candidates else None


def shadows(ruleset: str, *, rules_dir: Path) -> list[Version]:
    return [v for v in versions_of(ruleset, rules_dir=rules_dir) if v.shadow]


def load_version(version: Version, *, rules_dir: Path, overrides: dict[str, Any] | None = None) -> RuleSet:
    """The rule set of a version: its file (default ``<ruleset>.yaml``) with its ``set`` overrides
    (and then ``overrides``, e.g. a backtest's ``--set``)."""
    rules_dir = Path(rules_dir)
    merged = {**version.set, **(overrides or {})}
    if version.file in (None, f"{version.ruleset}.yaml"):
        return load_ruleset(version.ruleset, rules_dir=rules_dir, overrides=merged)
    path = rules_dir / version.file
    if not path.is_file():
        raise RuleError(path, None, f"version {version.label} of '{version.ruleset}': no file {version.file}")
    return load_file(version.ruleset, path, rules_dir=rules_dir, overrides=merged)
