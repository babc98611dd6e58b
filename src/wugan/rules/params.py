"""Dated parameters, OpenFisca style: each value has an effective date and a legal reference.

A rule reads a parameter "as of" a date and gets the value in force then; a
``null`` value ends it (the result is then SQL NULL, which makes the
conditions that use it NULL and the route fall to its default). Values can be
overridden per region by code prefix; the longest prefix in force wins and an
override that is not in force falls back to the default values.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from wugan.errors import RuleError
from wugan.rules.yamldoc import YamlDoc, load_yaml

__all__ = ["DatedValues", "Parameter", "load_parameter", "sql_literal", "parameter_sql"]

Scalar = bool | int | float | str | dt.date | None
_ID = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$")
_REGION = re.compile(r"^[0-9]{1,12}$")


@dataclass(frozen=True)
class DatedValues:
    """Values by effective date, ascending; ``None`` means no value in force from that date."""

    entries: tuple[tuple[dt.date, Scalar], ...]

    def at(self, when: dt.date) -> Scalar:
        current: Scalar = None
        for start, value in self.entries:
            if start <= when:
                current = value
            else:
                break
        return current

    def sql(self, at_sql: str, sql_type: str) -> str:
        """CASE over effective dates, for per-row dates."""
        whens = [
            f"WHEN {at_sql} >= DATE '{start.isoformat()}' THEN {sql_literal(value, sql_type)}"
            for start, value in reversed(self.entries)
        ]
        return f"(CASE {' '.join(whens)} ELSE {sql_literal(None, sql_type)} END)"


@dataclass(frozen=True)
class Parameter:
    id: str
    path: Path
    description: str
    unit: str
    reference: str
    values: DatedValues
    by_region: dict[str, DatedValues] = field(default_factory=dict)
    sql_type: str = "DOUBLE"

    def at(self, when: dt.date, region: str | None = None) -> Scalar:
        """Value in force on ``when`` (for ``region``: longest matching prefix in force, else default)."""
        if region is not None:
            for prefix in sorted(self.by_region, key=len, reverse=True):
                if region.startswith(prefix):
                    value = self.by_region[prefix].at(when)
                    if value is not None:
                        return value
        return self.values.at(when)

    def canonical(self) -> dict[str, Any]:
        """What the value depends on (dates and values, not descriptions) for the version hash."""

        def enc(dv: DatedValues) -> list:
            return [[d.isoformat(), v.isoformat() if isinstance(v, dt.date) else v] for d, v in dv.entries]

        return {
            "id": self.id,
            "type": self.sql_type,
            "values": enc(self.values),
            "by_region": {k: enc(v) for k, v in sorted(self.by_region.items())},
        }

    def overridden(self, value: Scalar) -> Parameter:
        """A what-if copy: one value for all dates and regions."""
        sql_type = _infer_type([value]) if value is not None else self.sql_type
        if self.sql_type == "DOUBLE" and sql_type == "BIGINT":
            sql_type = "DOUBLE"
        return replace(
            self,
            values=DatedValues(((dt.date(1, 1, 1), value),)),
            by_region={},
            sql_type=sql_type,
            reference=f"what-if override ({value!r})",
        )


def _infer_type(values: list[Scalar]) -> str:
    kinds = set()
    for v in values:
        if v is None:
            continue
        if isinstance(v, bool):
            kinds.add("BOOLEAN")
        elif isinstance(v, int):
            kinds.add("BIGINT")
        elif isinstance(v, float):
            kinds.add("DOUBLE")
        elif isinstance(v, dt.date):
            kinds.add("DATE")
        elif isinstance(v, str):
            kinds.add("VARCHAR")
        else:
            raise TypeError(type(v).__name__)
    if kinds <= {"BIGINT", "DOUBLE"} and "DOUBLE" in kinds:
        return "DOUBLE"
    if len(kinds) > 1:
        raise TypeError(" and ".join(sorted(kinds)))
    return kinds.pop() if kinds else "DOUBLE"


def sql_literal(value: Scalar, sql_type: str) -> str:
    """A typed SQL literal; values come from YAML, so strings are quoted and escaped.

    A NaN or infinite number has no literal (Python would write a bare word that
    SQL reads as a column name): it is refused here and at load.
    """
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"{value!r} is not a finite number")
    if value is None:
        return f"CAST(NULL AS {sql_type})"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, dt.date):
        return f"DATE '{value.isoformat()}'"
    if isinstance(value, int | float):
        return f"CAST({value!r} AS {sql_type})"
    return "'" + str(value).replace("'", "''") + "'"


def parameter_sql(
    param: Parameter, *, at_sql: str | None, at_date: dt.date | None, region_sql: str | None
) -> str:
    """SQL for a parameter's value: a literal when the date is fixed, else CASE over dates/regions."""
    if at_date is not None:
        default = sql_literal(param.values.at(at_date), param.sql_type)
        if not region_sql or not param.by_region:
            return default
        whens = []
        for prefix in sorted(param.by_region, key=len, reverse=True):
            value = param.by_region[prefix].at(at_date)
            if value is not None:
                whens.append(f"WHEN starts_with({region_sql}, '{prefix}') THEN {sql_literal(value, param.sql_type)}")
        return f"(CASE {' '.join(whens)} ELSE {default} END)" if whens else default
    assert at_sql is not None
    default = param.values.sql(at_sql, param.sql_type)
    if not region_sql or not param.by_region:
        return default
    # nested so a region value not in force falls back to the default values
    expr = default
    for prefix in sorted(param.by_region, key=len):
        regional = param.by_region[prefix].sql(at_sql, param.sql_type)
        expr = f"(CASE WHEN starts_with({region_sql}, '{prefix}') THEN COALESCE({regional}, {expr}) ELSE {expr} END)"
    return expr


def _dated(doc: YamlDoc, kp: tuple, raw: Any) -> DatedValues:
    if not isinstance(raw, dict) or not raw:
        raise doc.error(kp, "'values' must map effective dates to values")
    entries = []
    for start, entry in raw.items():
        if not isinstance(start, dt.date) or isinstance(start, dt.datetime):
            raise doc.error((*kp, start), f"effective date {start!r} is not a YYYY-MM-DD date")
        if isinstance(entry, dict):
            if "value" not in entry:
                raise doc.error((*kp, start), f"no 'value' for {start.isoformat()}")
            value = entry["value"]
        else:
            value = entry
        if isinstance(value, dt.datetime) or not isinstance(value, bool | int | float | str | dt.date | None):
            raise doc.error((*kp, start), f"value for {start.isoformat()} must be a scalar or null")
        if isinstance(value, float) and not math.isfinite(value):
            raise doc.error((*kp, start), f"value for {start.isoformat()} must be a finite number, not {value!r}")
        entries.append((start, value))
    entries.sort(key=lambda e: e[0])
    return DatedValues(tuple(entries))


def load_parameter(param_id: str, *, rules_dir: Path) -> Parameter:
    """Load ``rules/parameters/<a>/<b>.yaml`` as parameter ``a.b``."""
    if not _ID.match(param_id):
        raise RuleError(rules_dir / "parameters", None, f"invalid parameter id {param_id!r}")
    path = rules_dir / "parameters" / (param_id.replace(".", "/") + ".yaml")
    if not path.is_file():
        raise RuleError(path, None, f"unknown parameter {param_id!r} (no file {path.name})")
    doc = load_yaml(path)
    data = doc.data
    if not isinstance(data, dict):
        raise doc.error((), "a parameter file must be a mapping")
    for key in ("description", "reference"):
        if not isinstance(data.get(key), str) or not data[key].strip():
            raise doc.error((key,), f"parameter {param_id!r} needs a '{key}'")
    unknown = set(data) - {"description", "unit", "reference", "values", "by_region", "documentation"}
    if unknown:
        raise doc.error((sorted(unknown)[0],), f"unknown key {sorted(unknown)[0]!r} in parameter {param_id!r}")
    values = _dated(doc, ("values",), data.get("values"))
    by_region: dict[str, DatedValues] = {}
    for prefix, override in (data.get("by_region") or {}).items():
        prefix_s = str(prefix)
        if not _REGION.match(prefix_s):
            raise doc.error(("by_region", prefix), f"region prefix {prefix!r} must be 1-12 digits (quote it)")
        if not isinstance(override, dict):
            raise doc.error(("by_region", prefix), "a region override needs 'values'")
        by_region[prefix_s] = _dated(doc, ("by_region", prefix, "values"), override.get("values"))
    all_values = [v for _, v in values.entries] + [v for dv in by_region.values() for _, v in dv.entries]
    try:
        sql_type = _infer_type(all_values)
    except TypeError as e:
        raise doc.error(("values",), f"parameter {param_id!r} mixes value types: {e}") from None
    return Parameter(
        id=param_id,
        path=path,
        description=data["description"].strip(),
        unit=str(data.get("unit", "")),
        reference=data["reference"].strip(),
        values=values,
        by_region=by_region,
        sql_type=sql_type,
    )
