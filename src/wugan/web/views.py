"""What the pages and the API show: pydantic views, so an HTML page and its ``/api`` twin show the same data.

ID numbers are masked before they reach a view (``lake.Person``); analysts see
keyed pseudonyms. A list is a ``Page``: its rows, the true total and where it is.
"""

from __future__ import annotations

import datetime as dt
from typing import Generic, TypeVar

from pydantic import BaseModel, computed_field

__all__ = [
    "Page", "PersonView", "ContactView", "ConditionView", "ValueView", "ExplanationView", "TaskView", "ItemView",
    "CaseView", "ReviewView", "HeldView", "AlertView", "NoticeView", "HistoryEntry", "DecisionView", "SearchHit",
    "SearchView", "VolumeRow", "RulesetRow", "VersionRow", "WorkloadRow", "OutcomeRow", "RevocationRow",
    "PseudonymousDecision", "ShadowRow", "AnalyticsView", "AssistantChoice", "UserRow", "AuditRow",
]

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """One page of a list and the list's true size."""

    rows: list[T]
    total: int
    page: int = 1
    per_page: int = 20

    @computed_field
    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


class PersonView(BaseModel):
    name: str
    id_masked: str
    phone: str | None = None
    address: str = ""


class ContactView(BaseModel):
    """Whom the assistant calls: the person, or for a death the family."""

    name: str
    phone: str | None = None
    relation: str = "本人"


class ConditionView(BaseModel):
    name: str
    label: str
    holds: bool | None


class ValueView(BaseModel):
    name: str
    label: str
    value: str


class ExplanationView(BaseModel):
    decision_id: str
    route: str
    route_label: str
    ruleset: str
    ruleset_version: str
    model_version: str | None
    score: float | None
    decided_on: dt.date
    conditions: list[ConditionView] = []
    values: list[ValueView] = []
    review: str | None = None
    review_label: str = ""
    outcomes: dict[str, str] = {}
    reference: str = ""
    purged: bool = False


class TaskView(BaseModel):
    id: str
    kind: str
    event_type: str
    event_label: str
    status: str
    status_label: str
    priority: float
    week: dt.date | None
    due_date: dt.date | None
    overdue: bool
    village_code: str
    village_name: str
    assistant_id: str | None = None
    person: PersonView | None
    contact: ContactView | None = None
    reason: str
    explanation: ExplanationView | None
    check: list[str]
    bring: list[str]
    outcomes: dict[str, str] = {}
    checklist: list[str] = []
    outcome: str | None
    outcome_label: str = ""
    outcome_notes: str | None = None
    outcome_on: dt.date | None = None
    case_id: str | None = None
    attempts: int = 0
    queue: str = "village"
    correctable_until: dt.date | None = None
    escalated_on: dt.date | None = None


class ItemView(BaseModel):
    id: str
    case_id: str
    service: str
    label: str
    department: str
    department_name: str
    stage: int
    status: str
    status_label: str
    depends_on: list[str]
    due_date: dt.date
    overdue: bool
    amount: float | None
    result: str = ""
    done_on: dt.date | None = None
    mine: bool = False
    case_title: str = ""
    decision_id: str | None = None
    escalated_on: dt.date | None = None
    person: PersonView | None = None


class CaseView(BaseModel):
    id: str
    title: str
    event_type: str
    event_label: str
    status: str
    opened_on: dt.date
    closed_on: dt.date | None
    lead_department: str
    village_name: str
    person: PersonView | None
    items: list[ItemView]
    others: int = 0
    done: int
    total: int
    next_due: dt.date | None
    overdue: int
    decision_ids: list[str] = []


class ReviewView(BaseModel):
    id: str
    event_type: str
    event_label: str
    person: PersonView | None
    village_name: str
    departments: list[str]
    items: list[ItemView]
    explanation: ExplanationView


class HeldView(ReviewView):
    """A held approval and why it is held, with the amount a release pays."""

    hold_reason: str
    amount: float = 0.0


class AlertView(BaseModel):
    id: str
    kind: str
    kind_label: str
    department: str | None
    department_name: str
    message: str
    created_on: dt.date
    status: str
    link: str | None = None


class NoticeView(BaseModel):
    id: str
    template: str
    channel: str
    created_on: dt.date
    status: str
    status_label: str


class HistoryEntry(BaseModel):
    """One line of a decision's history: who did what when, in words."""

    at: dt.datetime
    actor: str
    action: str
    action_label: str
    detail: str = ""


class DecisionView(ReviewView):
    """A decision with everything that happened to it: reviews, revocations, notices, recovery items."""

    case_id: str | None = None
    history: list[HistoryEntry] = []
    notices: list[NoticeView] = []
    recovery: list[ItemView] = []
    can_revoke: bool = False
    undo_until: dt.datetime | None = None


class SearchHit(BaseModel):
    """A person found, masked, with what the user may open about them."""

    person_key: str
    person: PersonView
    cases: list[CaseView] = []
    decisions: list[ReviewView] = []
    tasks: list[TaskView] = []
    revealed_id: str | None = None


class SearchView(BaseModel):
    query: str
    kind: str
    hits: list[SearchHit]
    total: int


class AssistantChoice(BaseModel):
    assistant_id: str
    name: str
    village_name: str


class VolumeRow(BaseModel):
    week: dt.date
    event_type: str
    route: str
    count: int


class RulesetRow(BaseModel):
    ruleset: str
    ruleset_version: str
    first_day: dt.date
    last_day: dt.date
    decisions: int
    in_force: bool


class VersionRow(BaseModel):
    """A version of a rule set as ``rules/lifecycle.yaml`` lists it, with its go-live date."""

    ruleset: str
    version: str
    status: str
    status_label: str
    live_from: dt.date | None
    retired_on: dt.date | None
    shadow: bool
    note: str = ""
    changes: str = ""


class WorkloadRow(BaseModel):
    """Demand and supply of one village in one week (``cases.capacity.demand``)."""

    village_code: str
    village_name: str
    week: dt.date
    new_alerts: int = 0
    backlog: int = 0
    assigned: int
    done: int = 0
    capacity: int
    load: float | None
    weeks_to_clear: float | None = None
    clear_by: dt.date | None = None


class OutcomeRow(BaseModel):
    event_type: str
    outcome: str
    count: int


class RevocationRow(BaseModel):
    """Revoked instant approvals of a rule set, by the reason given (a reason's words, masked)."""

    ruleset: str
    reason: str
    count: int
    approvals: int


class PseudonymousDecision(BaseModel):
    pseudonym: str
    event_type: str
    route: str
    ruleset: str
    ruleset_version: str
    score: float | None
    decided_on: dt.date
    review: str | None


class ShadowRow(BaseModel):
    """Live and shadow routes of the same events: one row per (rule set, shadow version, live, shadow)."""

    ruleset: str
    version_label: str
    live_route: str
    shadow_route: str
    count: int
    agree: bool


class AnalyticsView(BaseModel):
    volumes: list[VolumeRow]
    first_week: dt.date | None = None
    rulesets: list[RulesetRow]
    versions: list[VersionRow] = []
    workload: list[WorkloadRow]
    outcomes: list[OutcomeRow]
    revocations: list[RevocationRow] = []
    recent: list[PseudonymousDecision]
    shadow: list[ShadowRow] = []


class UserRow(BaseModel):
    id: str
    username: str
    display_name: str
    role: str
    villages: list[str]
    departments: list[str]
    active: bool
    must_change_password: bool
    last_login: dt.datetime | None


class AuditRow(BaseModel):
    at: dt.datetime
    actor: str
    action: str
    action_label: str
    entity: str
    entity_label: str
    entity_id: str
    change: str
