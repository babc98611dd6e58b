"""Render notices (SMS or letter text, Chinese) from Jinja2 templates per event and route.

A template is named ``<event>_<route>.txt.j2``; an event and route without
one sends nothing (a hardship alert is told in person, after the visit).
ID numbers appear masked only.
"""

from __future__ import annotations

import datetime as dt
from functools import cache
from pathlib import Path
from typing import Any

import polars as pl
from jinja2 import Environment, PackageLoader, StrictUndefined, TemplateNotFound

from wugan import ids
from wugan.cases.bundles import Bundle, departments
from wugan.cases.models import make_id

__all__ = ["render_notices", "render_revocation", "template_exists", "template_for", "notice_id", "STATUS_LABELS"]

STATUS_LABELS = {
    "done": "已办结",
    "ready": "办理中",
    "in_progress": "办理中",
    "pending": "待前序事项办结后办理",
    "rejected": "经核对不符合条件",
    "held": "暂缓发放，待后台核准",
}
CONTACT = "12345"
NOTICE_SCHEMA = {"id": pl.String, "event_id": pl.String, "person_id": pl.String, "channel": pl.String,
                 "address": pl.String, "template": pl.String, "body": pl.String, "created_on": pl.Date,
                 "status": pl.String, "attempts": pl.Int64}


@cache
def environment() -> Environment:
    # Notices are plain text (SMS and letters), never HTML: escaping would print "&amp;" to a citizen.
    # Markup cannot arrive here: extracts with it are quarantined (lake.validate, reason "markup").
    return Environment(loader=PackageLoader("wugan.notify", "templates"), undefined=StrictUndefined,
                       keep_trailing_newline=False, trim_blocks=False, autoescape=False)  # nosec B701


def template_exists(name: str) -> bool:
    return _template(name) is not None


def _template(name: str):
    try:
        return environment().get_template(f"{name}.txt.j2")
    except TemplateNotFound:
        return None


def template_for(row: dict[str, Any]) -> str:
    """``<event>_<route>``; a correction or reversal without its own falls back to the generic one."""
    name = f"{row['event_type']}_{row['route']}"
    return name if row.get("decision_id") is None or template_exists(name) else row["route"]


def notice_id(row: dict[str, Any]) -> str:
    """One notice per decision: the event's first decision by template, a follow-up by its own id."""
    if row.get("decision_id") is not None:
        return make_id("notice", row["decision_id"])
    return make_id("notice", row["id"], template_for(row))


def _items_by(items: pl.DataFrame, key: str, labels: dict[str, str]) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = {}
    if items.is_empty():
        return grouped
    for item in items.sort("case_id", "stage", "service").to_dicts():
        item["status_label"] = STATUS_LABELS[item["status"]]
        item["department_label"] = labels.get(item["department"], item["department"])
        grouped.setdefault(item[key], []).append(item)
    return grouped


def render_notices(
    decided: pl.DataFrame,
    items: pl.DataFrame,
    *,
    people: pl.DataFrame,
    bundle: Bundle,
    rules_dir: Path,
    day: dt.date,
) -> pl.DataFrame:
    """Outbox rows for decisions (or opened cases: route ``case_opened``) that have a template."""
    labels = departments(rules_dir)
    by_case = _items_by(items, "case_id", labels)
    by_decision = _items_by(items, "decision_id", labels)
    contacts = {p["person_id"]: p for p in people.to_dicts()}
    notices = []
    for row in decided.to_dicts():
        name = template_for(row)
        template = _template(name)
        if template is None:
            continue
        recipient = row.get("next_of_kin_id") or row["person_id"]
        contact = contacts.get(recipient, {})
        case_items = (by_decision.get(row["decision_id"], []) if row.get("decision_id") is not None
                      else by_case.get(make_id("case", row["id"]), []))
        amount = sum(i["amount"] or 0 for i in case_items if i["status"] == "done")
        body = template.render(
            recipient=contact.get("name") or "",
            subject=row["subject"],
            id_masked=ids.mask(row["person_id"]),
            event_date=row["event_date"],
            details=row,
            items=case_items,
            amount=amount,
            reference=bundle.reference,
            department=labels.get(bundle.lead_department, bundle.lead_department),
            contact=CONTACT,
        ).strip()
        phone = contact.get("phone")
        notices.append({
            "id": notice_id(row),
            "event_id": row["id"],
            "person_id": recipient,
            "channel": "sms" if phone else "letter",
            "address": phone,
            "template": name,
            "body": body,
            "created_on": day,
            "status": "pending",
            "attempts": 0,
        })
    return pl.DataFrame(notices, schema=NOTICE_SCHEMA)


def render_revocation(*, items: list, reason: str, case: Any, event: Any, rules_dir: Path) -> str:
    return environment().get_template("revoked.txt.j2").render(
        recipient="",
        id_masked=ids.mask(event.person_id),
        items=[{"label": i.label, "amount": i.amount} for i in items],
        reason=reason,
        reference="《行政许可法》第六十九条；相关待遇政策",
        department=departments(rules_dir).get(case.lead_department, case.lead_department),
        contact=CONTACT,
    ).strip()
