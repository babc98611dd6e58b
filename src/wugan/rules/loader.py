"""Load a rule set from YAML, validate it completely, and give it a version hash.

Everything that can be wrong is found here, at load time, with file, line and
name: unknown names, forbidden SQL, cycles and type errors (the latter by
binding each expression in DuckDB over an empty typed relation).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
from sqlglot import exp

from wugan.errors import RuleError
from wugan.rules import sandbox
from wugan.rules.compiler import AS_OF, evaluate, evaluate_frame
from wugan.rules.expressions import (
    ExpressionError,
    column_names,
    parse_expression,
    rename_columns,
    to_sql,
)
from wugan.rules.params import Parameter, Scalar, load_parameter, sql_literal
from wugan.rules.yamldoc import YamlDoc, load_yaml

if TYPE_CHECKING:
    import polars as pl

__all__ = ["ROUTES", "INPUT_TYPES", "Node", "Outcome", "RuleSet", "load_ruleset", "load_file", "load_all",
           "ruleset_names"]

ROUTES = ("instant_approve", "bundle_item", "assistant_task", "no_action")
INPUT_TYPES = {
    "VARCHAR": "VARCHAR", "TEXT": "VARCHAR", "STRING": "VARCHAR", "BIGINT": "BIGINT", "INTEGER": "INTEGER",
    "INT": "INTEGER", "DOUBLE": "DOUBLE", "DATE": "DATE", "BOOLEAN": "BOOLEAN", "BOOL": "BOOLEAN",
    "TIMESTAMP": "TIMESTAMP",
}  # fmt: skip
NUMERIC = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "DOUBLE", "FLOAT", "UTINYINT", "USMALLINT",
           "UINTEGER", "UBIGINT"}  # fmt: skip
RESERVED = {AS_OF, "ruleset", "ruleset_version"}
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
_TOP_KEYS = {"description", "reference", "inputs", "parameters", "derived", "conditions", "outcomes", "documentation"}


@dataclass(frozen=True)
class Node:
    """A named value computed per row: a parameter, a derived value or a condition."""

    name: str
    kind: str  # "parameter" | "derived" | "condition"
    keypath: tuple
    deps: tuple[str, ...]
    sql_type: str
    expr: exp.Expression | None = None
    label: str = ""
    description: str = ""
    param: Parameter | None = None
    at: exp.Expression | None = None
    region: exp.Expression | None = None


@dataclass(frozen=True)
class Outcome:
    """One bundle item: ordered (condition, route) pairs, a default route and an amount."""

    name: str
    description: str
    routes: tuple[tuple[exp.Expression, str], ...]
    default: str
    amount: exp.Expression | None


@dataclass
class RuleSet:
    name: str
    path: Path
    description: str
    reference: str
    inputs: dict[str, str]
    nodes: dict[str, Node]  # topological order
    outcomes: dict[str, Outcome]
    version: str = ""
    overrides: dict[str, Scalar] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)  # input or derived value -> Chinese label (pages)

    @property
    def conditions(self) -> dict[str, str]:
        """Condition name -> Chinese label (used in explanations and notices)."""
        return {n.name: n.label for n in self.nodes.values() if n.kind == "condition"}

    @property
    def derived(self) -> dict[str, str]:
        return {n.name: n.description for n in self.nodes.values() if n.kind == "derived"}

    @property
    def parameters(self) -> dict[str, Parameter]:
        """Local name -> parameter used by this rule set."""
        return {n.name: n.param for n in self.nodes.values() if n.param is not None}

    def parameters_at(self, as_of: dt.date) -> dict[str, Scalar]:
        """Default (non-regional) values in force on ``as_of``, for display."""
        return {name: p.values.at(as_of) for name, p in self.parameters.items()}

    def explain_columns(self) -> dict[str, Any]:
        """Result column names grouped by role, for building explanations."""
        return {
            "inputs": list(self.inputs),
            "derived": list(self.derived),
            "conditions": {f"cond_{k}": v for k, v in self.conditions.items()},
            "routes": {k: f"{k}_route" for k in self.outcomes},
            "amounts": {k: f"{k}_amount" for k in self.outcomes},
        }

    def output_columns(self) -> list[str]:
        """Columns the rule adds to the input (in order)."""
        cols = list(self.derived) + [f"cond_{c}" for c in self.conditions]
        for item in self.outcomes:
            cols += [f"{item}_route", f"{item}_amount"]
        return [*cols, "ruleset", "ruleset_version"]

    def evaluate(self, con: duckdb.DuckDBPyConnection, source: str, *, as_of: dt.date | str):
        """One vectorised query over ``source`` (table/view name or SELECT text)."""
        return evaluate(self, con, source, as_of=as_of)

    def evaluate_frame(self, df: pl.DataFrame, *, as_of: dt.date | str) -> pl.DataFrame:
        """Same as :meth:`evaluate`, over a polars frame (DuckDB reads it through Arrow)."""
        return evaluate_frame(self, df, as_of=as_of)


NOT_RULESETS = {"lifecycle", "guardrails"}  # operational data beside the rule sets (see README)


def ruleset_names(*, rules_dir: Path) -> list[str]:
    return sorted(p.stem for p in Path(rules_dir).glob("*.yaml") if p.stem not in NOT_RULESETS)


def load_all(*, rules_dir: Path, overrides: dict[str, Scalar] | None = None) -> dict[str, RuleSet]:
    return {n: load_ruleset(n, rules_dir=rules_dir, overrides=overrides) for n in ruleset_names(rules_dir=rules_dir)}


def _text(doc: YamlDoc, kp: tuple, value: Any, what: str, required: bool = False) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        raise doc.error(kp, f"{what} must be a non-empty string")
    return value.strip()


def _mapping(doc: YamlDoc, kp: tuple, value: Any, what: str) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise doc.error(kp, f"'{what}' must be a mapping")
    return value


def _check_name(doc: YamlDoc, kp: tuple, name: Any, what: str, taken: dict[str, str]) -> str:
    if not isinstance(name, str) or not _NAME.match(name):
        raise doc.error(kp, f"invalid {what} name {name!r} (lower_snake_case)")
    if name in RESERVED or name.startswith("cond_") or name.startswith("__"):
        raise doc.error(kp, f"{what} name '{name}' is reserved")
    if name in taken:
        raise doc.error(kp, f"{what} '{name}' clashes with {taken[name]} '{name}'")
    taken[name] = what
    return name


class _Builder:
    """Reads one rule set file a section at a time, in the order the file's names depend on each other.

    Every error names the file and the line (``YamlDoc.error``); ``taken`` keeps
    names unique across inputs, parameters, derived values and conditions.
    """

    def __init__(self, name: str, doc: YamlDoc, rules_dir: Path, overrides: dict[str, Scalar]):
        self.name, self.doc, self.rules_dir, self.overrides = name, doc, rules_dir, overrides
        self.used_overrides: set[str] = set()
        self.taken: dict[str, str] = {}
        self.labels: dict[str, str] = {}  # presentation only: not part of the version hash

    def expr(self, kp: tuple, raw: Any, what: str) -> exp.Expression:
        try:
            return parse_expression(raw)
        except ExpressionError as e:
            raise self.doc.error(kp, f"{e} in {what}", e.name) from None

    def build(self) -> RuleSet:
        data = self.top()
        description = _text(self.doc, ("description",), data.get("description"), "description", True)
        reference = _text(self.doc, ("reference",), data.get("reference"), "reference")
        inputs = self.inputs(data.get("inputs"))
        raw_nodes = self.parameters(data.get("parameters"))
        raw_nodes |= self.expressions("derived", "derived", data.get("derived"))
        raw_nodes |= self.expressions("conditions", "condition", data.get("conditions"))
        self.check_overrides_used()
        known = set(inputs) | {AS_OF} | set(raw_nodes)
        self.check_dependencies(raw_nodes, known)
        order = self.toposort(raw_nodes)
        outcomes = self.outcomes(data.get("outcomes"), inputs, raw_nodes, known)
        nodes = self.typecheck(inputs, raw_nodes, order, outcomes)
        rs = RuleSet(self.name, self.doc.path, description, reference, inputs, nodes, outcomes,
                     overrides={k: self.overrides[k] for k in sorted(self.used_overrides)}, labels=self.labels)  # fmt: skip
        rs.version = _version(rs)
        return rs

    def top(self) -> dict:
        data = self.doc.data
        if not isinstance(data, dict):
            raise self.doc.error((), "a rule set file must be a mapping")
        for key in data:
            if key not in _TOP_KEYS:
                raise self.doc.error((key,), f"unknown key {key!r} (expected one of {', '.join(sorted(_TOP_KEYS))})")
        return data

    def inputs(self, section: Any) -> dict[str, str]:
        """``inputs``: column name -> DuckDB type."""
        doc = self.doc
        inputs: dict[str, str] = {}
        for key, spec in _mapping(doc, ("inputs",), section, "inputs").items():
            _check_name(doc, ("inputs", key), key, "input", self.taken)
            typ = spec.get("type") if isinstance(spec, dict) else spec
            if not isinstance(typ, str) or typ.upper() not in INPUT_TYPES:
                raise doc.error(("inputs", key), f"input '{key}' type must be one of {', '.join(sorted(set(INPUT_TYPES.values())))}")
            inputs[key] = INPUT_TYPES[typ.upper()]
            if isinstance(spec, dict) and "label" in spec:
                self.labels[key] = _text(doc, ("inputs", key, "label"), spec["label"], f"label of input '{key}'")
        if not inputs:
            raise doc.error(("inputs",), "a rule set needs at least one input")
        return inputs

    def parameters(self, section: Any) -> dict[str, dict]:
        """``parameters``: local name -> dated parameter, looked up at ``at`` (default as_of) in ``region``."""
        doc = self.doc
        raw_nodes: dict[str, dict] = {}
        for key, spec in _mapping(doc, ("parameters",), section, "parameters").items():
            kp = ("parameters", key)
            _check_name(doc, kp, key, "parameter", self.taken)
            if isinstance(spec, str):
                spec = {"parameter": spec}
            if not isinstance(spec, dict) or not isinstance(spec.get("parameter"), str):
                raise doc.error(kp, f"parameter '{key}' needs 'parameter: <id>'")
            extra = set(spec) - {"parameter", "at", "region", "description"}
            if extra:
                raise doc.error(kp, f"unknown key {sorted(extra)[0]!r} in parameter '{key}'")
            param = load_parameter(spec["parameter"], rules_dir=self.rules_dir)
            if param.id in self.overrides:
                param = param.overridden(self.overrides[param.id])
                self.used_overrides.add(param.id)
            at = self.expr((*kp, "at"), spec["at"], f"parameter '{key}'") if "at" in spec else None
            region = self.expr((*kp, "region"), spec["region"], f"parameter '{key}'") if "region" in spec else None
            deps = [*(column_names(at) if at else []), *(column_names(region) if region else [])]
            raw_nodes[key] = dict(kind="parameter", keypath=kp, deps=deps, param=param, at=at, region=region,
                                  sql_type=param.sql_type, description=param.description)  # fmt: skip
        return raw_nodes

    def expressions(self, section: str, kind: str, specs: Any) -> dict[str, dict]:
        """``derived`` or ``conditions``: name -> SQL expression (a condition also has a label)."""
        doc = self.doc
        raw_nodes: dict[str, dict] = {}
        for key, spec in _mapping(doc, (section,), specs, section).items():
            kp = (section, key)
            _check_name(doc, kp, key, kind, self.taken)
            if isinstance(spec, str):
                spec = {"expr": spec}
            if not isinstance(spec, dict) or "expr" not in spec:
                raise doc.error(kp, f"{kind} '{key}' needs 'expr'")
            extra = set(spec) - {"expr", "label", "description", "reference", "type"}
            if extra:
                raise doc.error(kp, f"unknown key {sorted(extra)[0]!r} in {kind} '{key}'")
            label = ""
            if kind == "condition":
                label = _text(doc, (*kp, "label"), spec.get("label"), f"label of condition '{key}'", True)
            elif "label" in spec:
                self.labels[key] = _text(doc, (*kp, "label"), spec["label"], f"label of {kind} '{key}'")
            tree = self.expr((*kp, "expr"), spec["expr"], f"{kind} '{key}'")
            raw_nodes[key] = dict(kind=kind, keypath=(*kp, "expr"), deps=column_names(tree), expr=tree,
                                  label=label, description=_text(doc, (*kp, "description"), spec.get("description"), "description"))  # fmt: skip
        return raw_nodes

    def check_overrides_used(self) -> None:
        """A what-if override of this rule set's own parameters must name one it uses."""
        prefix = f"{self.name}."
        for key in sorted(set(self.overrides) - self.used_overrides):
            if key.startswith(prefix):
                raise RuleError(self.doc.path, None, f"override '{key}' names a parameter this rule set does not use")

    def check_dependencies(self, raw_nodes: dict[str, dict], known: set[str]) -> None:
        for key, spec in raw_nodes.items():
            for dep in spec["deps"]:
                if dep not in known:
                    kp = spec["keypath"]
                    if spec["kind"] == "parameter":
                        kp = (*kp, "at") if spec["at"] is not None and dep in column_names(spec["at"]) else (*kp, "region")
                    raise self.doc.error(kp, f"unknown column '{dep}' in {spec['kind']} '{key}'", dep)

    def outcomes(self, section: Any, inputs: dict[str, str], raw_nodes: dict[str, dict],
                 known: set[str]) -> dict[str, Outcome]:
        """``outcomes``: bundle item -> routes (first ``when`` that holds) and amount."""
        out_cols = set(inputs) | {f"cond_{k}" for k, v in raw_nodes.items() if v["kind"] == "condition"}
        out_cols |= {k for k, v in raw_nodes.items() if v["kind"] == "derived"}
        outcomes: dict[str, Outcome] = {}
        for key, spec in _mapping(self.doc, ("outcomes",), section, "outcomes").items():
            outcomes[key] = self.outcome(key, spec, known, out_cols)
        if not outcomes:
            raise self.doc.error(("outcomes",), "a rule set needs at least one outcome")
        return outcomes

    def outcome(self, key: Any, spec: Any, known: set[str], out_cols: set[str]) -> Outcome:
        doc, kp = self.doc, ("outcomes", key)
        if not isinstance(key, str) or not _NAME.match(key):
            raise doc.error(kp, f"invalid outcome name {key!r}")
        for col in (f"{key}_route", f"{key}_amount"):
            if col in out_cols:
                raise doc.error(kp, f"outcome '{key}' column '{col}' clashes with another column")
            out_cols.add(col)
        if not isinstance(spec, dict):
            raise doc.error(kp, f"outcome '{key}' must be a mapping")
        extra = set(spec) - {"description", "reference", "route", "amount", "department"}
        if extra:
            raise doc.error(kp, f"unknown key {sorted(extra)[0]!r} in outcome '{key}'")
        routes, default = self.routes(key, spec.get("route"), known)
        amount = None
        if spec.get("amount") is not None:
            amount = self.expr((*kp, "amount"), spec["amount"], f"outcome '{key}'")
            self.check_known(amount, known, (*kp, "amount"), f"outcome '{key}'")
        return Outcome(key, _text(doc, (*kp, "description"), spec.get("description"), "description"),
                       tuple(routes), default, amount)  # fmt: skip

    def routes(self, key: str, route_spec: Any, known: set[str]) -> tuple[list[tuple[exp.Expression, str]], str]:
        """An outcome's ``route``: one route, or ``{when, route}`` pairs ending in a default without ``when``."""
        kp = ("outcomes", key)
        if isinstance(route_spec, str):
            route_spec = [{"route": route_spec}]
        if not isinstance(route_spec, list) or not route_spec:
            raise self.doc.error(kp, f"outcome '{key}' needs 'route': a route or a list of {{when, route}}")
        routes: list[tuple[exp.Expression, str]] = []
        default = "no_action"
        for i, r in enumerate(route_spec):
            rkp = (*kp, "route", i)
            if not isinstance(r, dict) or r.get("route") not in ROUTES or set(r) - {"when", "route"}:
                raise self.doc.error(rkp, f"outcome '{key}': each route needs 'route' in {', '.join(ROUTES)} and optional 'when'")
            if "when" not in r:
                if i != len(route_spec) - 1:
                    raise self.doc.error(rkp, f"outcome '{key}': a route without 'when' must come last")
                default = r["route"]
                continue
            tree = self.expr((*rkp, "when"), r["when"], f"outcome '{key}'")
            self.check_known(tree, known, (*rkp, "when"), f"outcome '{key}'")
            routes.append((tree, r["route"]))
        return routes, default

    def check_known(self, tree: exp.Expression, known: set[str], kp: tuple, what: str) -> None:
        for dep in column_names(tree):
            if dep not in known:
                raise self.doc.error(kp, f"unknown column '{dep}' in {what}", dep)

    def toposort(self, raw: dict[str, dict]) -> list[str]:
        order: list[str] = []
        state: dict[str, int] = {}

        def visit(name: str, stack: list[str]) -> None:
            if state.get(name) == 2:
                return
            if state.get(name) == 1:
                cycle = stack[stack.index(name):] + [name]
                first = raw[cycle[0]]
                raise self.doc.error(first["keypath"], f"cycle in {first['kind']} '{cycle[0]}': "
                                     + " -> ".join(cycle), cycle[1])  # fmt: skip
            state[name] = 1
            for dep in raw[name]["deps"]:
                if dep in raw:
                    visit(dep, [*stack, name])
            state[name] = 2
            order.append(name)

        for name in raw:
            visit(name, [])
        return order

    def typecheck(self, inputs, raw, order, outcomes) -> dict[str, Node]:
        """Bind each expression in DuckDB over an empty relation typed like its inputs."""
        con = sandbox.connect()
        types: dict[str, str] = {**inputs, AS_OF: "DATE"}

        def bind(tree: exp.Expression, kp: tuple, what: str) -> str:
            sql = to_sql(rename_columns(tree, {n: f"c_{n}" for n in types}))
            cols = ", ".join(f'CAST(NULL AS {t}) AS "c_{n}"' for n, t in types.items())
            try:
                rel = con.sql(f"SELECT ({sql}) AS v FROM (SELECT {cols} LIMIT 0)")
                return str(rel.types[0])
            except duckdb.Error as e:
                msg = str(e).splitlines()[0].replace('"c_', '"')
                raise self.doc.error(kp, f"type error in {what}: {msg}") from None

        nodes: dict[str, Node] = {}
        for name in order:
            spec = raw[name]
            what = f"{spec['kind']} '{name}'"
            if spec["kind"] == "parameter":
                if spec["at"] is not None and bind(spec["at"], (*spec["keypath"], "at"), what) not in ("DATE", "TIMESTAMP"):
                    raise self.doc.error((*spec["keypath"], "at"), f"type error in {what}: 'at' must be a DATE")
                if spec["region"] is not None and bind(spec["region"], (*spec["keypath"], "region"), what) != "VARCHAR":
                    raise self.doc.error((*spec["keypath"], "region"), f"type error in {what}: 'region' must be VARCHAR")
                typ = spec["sql_type"]
            else:
                typ = bind(spec["expr"], spec["keypath"], what)
                if spec["kind"] == "condition" and typ != "BOOLEAN":
                    raise self.doc.error(spec["keypath"], f"type error in {what}: expected BOOLEAN, got {typ}")
            types[name] = typ
            nodes[name] = Node(name=name, kind=spec["kind"], keypath=spec["keypath"], deps=tuple(spec["deps"]),
                               sql_type=typ, expr=spec.get("expr"), label=spec.get("label", ""),
                               description=spec.get("description", ""), param=spec.get("param"),
                               at=spec.get("at"), region=spec.get("region"))  # fmt: skip
        for key, out in outcomes.items():
            for i, (tree, _route) in enumerate(out.routes):
                kp = ("outcomes", key, "route", i, "when")
                typ = bind(tree, kp, f"outcome '{key}'")
                if typ != "BOOLEAN":
                    raise self.doc.error(kp, f"type error in outcome '{key}': 'when' must be BOOLEAN, got {typ}")
            if out.amount is not None:
                typ = bind(out.amount, ("outcomes", key, "amount"), f"outcome '{key}'")
                if typ not in NUMERIC and not typ.startswith("DECIMAL") and typ != '"NULL"':
                    raise self.doc.error(("outcomes", key, "amount"), f"type error in outcome '{key}': amount must be numeric, got {typ}")
        con.close()
        return nodes


def _version(rs: RuleSet) -> str:
    """Hash of what decides results: inputs, expressions, labels, routes and parameter values."""

    def q(tree: exp.Expression | None) -> str | None:
        return to_sql(tree) if tree is not None else None

    canon = {
        "name": rs.name,
        "inputs": rs.inputs,
        "nodes": {
            n.name: {
                "kind": n.kind, "expr": q(n.expr), "label": n.label, "at": q(n.at), "region": q(n.region),
                "param": n.param.canonical() if n.param else None,
            }
            for n in rs.nodes.values()
        },
        "outcomes": {
            o.name: {"routes": [[q(t), r] for t, r in o.routes], "default": o.default, "amount": q(o.amount)}
            for o in rs.outcomes.values()
        },
    }  # fmt: skip
    blob = json.dumps(canon, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:12]


def load_ruleset(name: str, *, rules_dir: Path, overrides: dict[str, Scalar] | None = None) -> RuleSet:
    """Load and validate ``rules/<name>.yaml``; ``overrides`` maps parameter ids to what-if values."""
    rules_dir = Path(rules_dir)
    if not isinstance(name, str) or not _NAME.match(name):
        raise RuleError(rules_dir, None, f"invalid rule set name {name!r}")
    path = rules_dir / f"{name}.yaml"
    if not path.is_file():
        raise RuleError(path, None, f"unknown rule set '{name}'", hint="`wugan rules list` names the rule sets")
    overrides = dict(overrides or {})
    for value in overrides.values():
        try:
            sql_literal(value, "DOUBLE")  # reject non-scalars and non-finite numbers early
        except ValueError as e:
            raise RuleError(path, None, f"override value {value!r}: {e}") from None
        if not isinstance(value, bool | int | float | str | dt.date | None):
            raise RuleError(path, None, f"override value {value!r} must be a scalar")
    return load_file(name, path, rules_dir=rules_dir, overrides=overrides)


def load_file(name: str, path: Path, *, rules_dir: Path, overrides: dict[str, Scalar]) -> RuleSet:
    """Load rule set ``name`` from ``path`` (a frozen version's copy, say); parameters come from ``rules_dir``."""
    return _Builder(name, load_yaml(path), Path(rules_dir), overrides).build()
