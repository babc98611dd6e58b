"""What a case store says the final data implies, without when it was processed.

Two pictures, both comparable with ``==``:

- ``data_state``: every row of what the pipeline decided (events, decisions,
  cases, items, tasks, notices, opt-outs, data-quality items) without the
  columns that record when or in which order it worked: the day an event was
  detected, a decision made or a case opened, deadlines counted from those
  days, which week and assistant a visit fell to, sample draws, audit rows,
  offsets (batch numbers follow landing order) and overdue alerts. Late or
  reordered deliveries of the same final data must leave this equal.
- ``effective_state``: only what is in force: payments running, work open,
  visits owed, data-quality items open. A death that arrives after an
  approval leaves history behind (the approval and its reversal), so only
  this picture can equal the one where the death was known in time.
"""

from __future__ import annotations

from sqlalchemy import create_engine, text

DATA_COLUMNS = {
    "events": "key, event_type, person_id, subject, village_code, event_date, details",
    "decisions": "id, event_id, event_type, route, ruleset, ruleset_version, model_version, score, explanation",
    "cases": "id, event_id, event_type, title, person_id, household_id, village_code, status, lead_department",
    "items": ("id, case_id, service, label, department, stage, status, depends_on, amount, result, decision_id, "
              "version, supersedes, superseded_by, reverses, starts_on, period"),
    "tasks": ("id, event_id, decision_id, kind, person_id, village_code, reason, priority, outcome, "
              "CASE WHEN status IN ('backlog', 'assigned') THEN 'open' ELSE status END"),
    "notices": "id, event_id, person_id, channel, address, template, status",
    "opt_outs": "person_id, service, since",
    "alerts": "id, kind, department, entity_id, details, status",
}
WHERE = {"alerts": "kind = 'data_quality'"}

EFFECTIVE = {
    "running": """SELECT e.key, i.service, i.amount, i.starts_on, i.period FROM items i
                  JOIN cases c ON c.id = i.case_id JOIN events e ON e.id = c.event_id
                  WHERE i.status = 'done' AND i.superseded_by IS NULL AND i.reverses IS NULL
                    AND i.period = 'monthly'""",
    "granted": """SELECT e.key, i.service, i.amount FROM items i
                  JOIN cases c ON c.id = i.case_id JOIN events e ON e.id = c.event_id
                  WHERE i.status = 'done' AND i.superseded_by IS NULL AND i.reverses IS NULL
                    AND i.period IS NULL AND i.amount IS NOT NULL""",
    "open_items": """SELECT e.key, i.service FROM items i
                     JOIN cases c ON c.id = i.case_id JOIN events e ON e.id = c.event_id
                     WHERE i.status IN ('pending', 'ready', 'in_progress') AND i.reverses IS NULL
                       AND i.superseded_by IS NULL""",
    "open_visits": """SELECT e.key, t.kind FROM tasks t JOIN events e ON e.id = t.event_id
                      WHERE t.status IN ('backlog', 'assigned')""",
    "data_quality": "SELECT id, status FROM alerts WHERE kind = 'data_quality' AND status = 'open'",
}


def _rows(url: str, queries: dict[str, str]) -> dict[str, list[tuple]]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return {name: sorted(tuple(str(v) for v in row) for row in conn.execute(text(sql)).all())
                    for name, sql in queries.items()}
    finally:
        engine.dispose()


def data_state(url: str) -> dict[str, list[tuple]]:
    return _rows(url, {t: f"SELECT {cols} FROM {t}" + (f" WHERE {WHERE[t]}" if t in WHERE else "")
                       for t, cols in DATA_COLUMNS.items()})


def effective_state(url: str) -> dict[str, list[tuple]]:
    return _rows(url, EFFECTIVE)


def differences(found: dict[str, list[tuple]], expected: dict[str, list[tuple]]) -> str:
    """What differs, table by table: rows only found, rows only expected (a readable assertion message)."""
    out = []
    for name in sorted(set(found) | set(expected)):
        extra = sorted(set(found.get(name, [])) - set(expected.get(name, [])))
        missing = sorted(set(expected.get(name, [])) - set(found.get(name, [])))
        if extra or missing:
            out.append(f"{name}: +{extra[:5]} -{missing[:5]}")
    return "\n".join(out)
