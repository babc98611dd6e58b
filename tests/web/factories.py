"""A small seeded world for the web tests: a lake (regions, persons, assistants) and a case store.

Two villages in one township; the assistant ``xly1`` serves 东关村 only. The
reviewer ``shenhe`` works civil affairs and human resources, ``gongan``
works for the police. ID numbers are valid and known, so tests can look for
them in every response.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from tests.factories import write_lake
from wugan.assess import Explanation
from wugan.cases.db import migrate, session_scope
from wugan.cases.models import Case, Decision, Event, Item, Task, make_id
from wugan.ids import check_digit
from wugan.settings import Settings
from wugan.web.accounts import add_user

REPO_RULES = Path(__file__).resolve().parents[2] / "rules"
TODAY = dt.date(2025, 3, 12)  # a Wednesday
WEEK = TODAY - dt.timedelta(days=TODAY.weekday())
PASSWORD = "correct-horse-42"
SECRET = "test-secret-key-that-is-long-enough-0123456789"

COUNTY, TOWNSHIP = "370102", "370102001"
EAST, WEST = "370102001001", "370102001002"


def id_number(birth: str, serial: str) -> str:
    body = "370102" + birth + serial
    return body + check_digit(body)


@dataclass
class World:
    settings: Settings
    ids: dict[str, str]  # role of the person in the story → ID number
    names: dict[str, str]
    tasks: dict[str, str] = field(default_factory=dict)
    decisions: dict[str, str] = field(default_factory=dict)
    items: dict[str, str] = field(default_factory=dict)
    cases: dict[str, str] = field(default_factory=dict)


HOUSEHOLDS = {"dead_east": "H-FENG", "baby_mother": "H-FENG"}  # a daughter-in-law, the family to call
DEAD = {"dead_east"}


def seed_lake(home: Path, people: dict[str, tuple[str, str, str, str]]) -> None:
    region = {"urban": False, "income_prev_year": 24000, "dibao_line": 800, "province_urban_income_prev_year": 52000}
    write_lake(home, "regions", [
        {"region_code": COUNTY, "name": "历下区", "level": "county", "parent_code": None, **region},
        {"region_code": TOWNSHIP, "name": "龙洞街道", "level": "township", "parent_code": COUNTY, **region},
        {"region_code": EAST, "name": "东关村", "level": "village", "parent_code": TOWNSHIP, **region},
        {"region_code": WEST, "name": "西河村", "level": "village", "parent_code": TOWNSHIP, **region},
    ])
    write_lake(home, "persons", [
        {"person_id": pid, "name": name, "sex": sex, "birth_date": dt.date(int(pid[6:10]), int(pid[10:12]), int(pid[12:14])),
         "household_id": HOUSEHOLDS.get(key, f"H{pid[-6:]}"), "hukou_village": village,
         "phone": "13800000000" if key != "baby_mother" else "13700000007", "employment": "rural",
         "alive": key not in DEAD}
        for key, (pid, name, sex, village) in people.items()
    ])
    write_lake(home, "assistants", [
        {"assistant_id": "A001", "name": "王协理", "village_code": EAST, "phone": "13900000001", "weekly_capacity": 3},
        {"assistant_id": "A002", "name": "李协理", "village_code": WEST, "phone": "13900000002", "weekly_capacity": 2},
    ])


def _event(session, key: str, event_type: str, person_id: str, village: str, **details) -> Event:
    event = Event(id=make_id("event", key), key=key, event_type=event_type, person_id=person_id, subject=person_id,
                  village_code=village, event_date=TODAY - dt.timedelta(days=5),
                  detected_on=TODAY - dt.timedelta(days=4), details={"household_id": f"H{person_id[-6:]}", **details})
    session.add(event)
    session.flush()
    return event


def _labels(ruleset: str) -> dict[str, str]:
    from wugan.rules.loader import load_ruleset

    return load_ruleset(ruleset, rules_dir=REPO_RULES).labels


def _decision(session, event: Event, route: str, ruleset: str, *, version: str = "a1b2c3d4", score: float | None = None,
              review: str | None = None, days_ago: int = 4, conditions=(), values=None, outcomes=None) -> Decision:
    """A decision with the explanation ``assess`` writes (``assess.Explanation``), labels from the rule YAML."""
    labels = _labels(ruleset)
    explanation = Explanation(
        conditions=[{"name": n, "label": lbl, "holds": r} for n, lbl, r in conditions],
        values=[{"name": k, "label": labels.get(k, k), "value": v} for k, v in (values or {}).items()],
        outcomes=[{"name": k, **o} for k, o in (outcomes or {}).items()],
    )
    decision = Decision(
        id=make_id("decision", event.id), event_id=event.id, event_type=event.event_type, route=route,
        ruleset=ruleset, ruleset_version=version, model_version="hardship-2025.03" if score is not None else None,
        score=score, decided_on=TODAY - dt.timedelta(days=days_ago), review=review,
        explanation=explanation.model_dump(),
    )
    session.add(decision)
    session.flush()
    return decision


def seed(tmp: Path) -> World:
    """Migrate a fresh SQLite store with the real migrations and fill lake and store."""
    home = tmp / "home"
    settings = Settings(home=home, secret_key=SECRET, env="development")
    people = {
        "sick_east": (id_number("19580317", "201"), "赵桂兰", "F", EAST),
        "sick_east2": (id_number("19620921", "311"), "钱国强", "M", EAST),
        "sick_west": (id_number("19550604", "422"), "孙秀英", "F", WEST),
        "old_east": (id_number("19450302", "133"), "周福来", "M", EAST),
        "dead_west": (id_number("19400111", "151"), "吴长顺", "M", WEST),
        "baby_mother": (id_number("19950808", "262"), "郑晓燕", "F", EAST),
        "dead_east": (id_number("19380705", "171"), "冯德明", "M", EAST),
    }
    seed_lake(home, people)
    url = settings.case_store_url
    migrate(url)
    world = World(settings=settings, ids={k: v[0] for k, v in people.items()},
                  names={k: v[1] for k, v in people.items()})
    hardship = dict(conditions=[("alert", "近12个月自付医疗费用超过上年人均可支配收入的规定比例", True)],
                    outcomes={"home_visit": {"route": "assistant_task", "amount": None}})
    with session_scope(url) as s:
        # hardship visits: in 东关村 two given to A001 this week, one she let run late from last week, one
        # waiting in the village's queue (nobody's yet); one in 西河村 given to A002
        for key, (who, week, priority, oop) in {
            "t_east": ("sick_east", WEEK, 0.91, 15800.0),
            "t_east2": ("sick_east2", WEEK, 0.62, 9400.5),
            "t_late": ("old_east", WEEK - dt.timedelta(weeks=1), 0.55, 8800.0),
            "t_queue": ("baby_mother", None, 0.3, 7300.0),
            "t_west": ("sick_west", WEEK, 0.88, 21000.0),
        }.items():
            pid, _, _, village = people[who]
            e = _event(s, f"hardship|{pid}", "medical_hardship", pid, village)
            d = _decision(s, e, "assistant_task", "medical_hardship", score=priority,
                          values={"oop_12m": str(oop), "income_prev_year": "24000.0", "threshold": "7200.0"},
                          **hardship)
            task = Task(id=make_id("task", e.id), event_id=e.id, decision_id=d.id, kind="home_visit", person_id=pid,
                        village_code=village,
                        assistant_id=None if week is None else "A001" if village == EAST else "A002",
                        reason="近12个月自付医疗费用超过上年人均可支配收入的规定比例", priority=priority,
                        created_on=TODAY - dt.timedelta(days=11), week=week, assigned_on=week,
                        due_date=None if week is None else week + dt.timedelta(days=6),
                        status="backlog" if week is None else "assigned")
            s.add(task)
            s.flush()
            world.tasks[key] = task.id
        # a death in 东关村: the assistant helps the heirs with the personal account; she calls the family
        pid = people["dead_east"][0]
        e = _event(s, f"death|{pid}", "death", pid, EAST)
        d = _decision(s, e, "assistant_task", "death", version="d34th001",
                      conditions=[("insured", "参加了企业职工基本养老保险", True)],
                      values={"death_date": "2025-03-05", "contribution_months": "300"},
                      outcomes={"account_refund": {"route": "assistant_task", "amount": None}})
        case = Case(id=make_id("case", e.id), event_id=e.id, event_type="death", title="身后一件事", person_id=pid,
                    household_id="H-FENG", village_code=EAST, status="open", lead_department="civil_affairs",
                    opened_on=TODAY - dt.timedelta(days=4))
        s.add(case)
        s.flush()
        s.add(Item(id=make_id("item", case.id, "refund_personal_account"), case_id=case.id,
                   service="refund_personal_account", label="个人账户余额退还继承人", department="human_resources",
                   stage=1, status="pending", depends_on=[], due_date=TODAY + dt.timedelta(days=50), amount=None,
                   decision_id=d.id))
        task = Task(id=make_id("task", e.id), event_id=e.id, decision_id=d.id, kind="account_refund", person_id=pid,
                    village_code=EAST, assistant_id="A001", reason="参加了企业职工基本养老保险", priority=0.5,
                    created_on=TODAY - dt.timedelta(days=4), week=WEEK, assigned_on=WEEK,
                    due_date=TODAY + dt.timedelta(days=10), status="assigned")
        s.add(task)
        s.flush()
        world.tasks["t_death"] = task.id
        # an overdue visit in 西河村
        s.flush()
        s.get(Task, world.tasks["t_west"]).due_date = TODAY - dt.timedelta(days=2)
        for key in ("t_east", "t_east2"):
            s.get(Task, world.tasks[key]).due_date = TODAY + dt.timedelta(days=10)

        # old-age allowance: instant approval, sampled for review (civil affairs)
        pid = people["old_east"][0]
        e = _event(s, f"old_age|{pid}", "old_age", pid, EAST)
        d = _decision(s, e, "instant_approve", "old_age_allowance", review="sampled",
                      conditions=[("old_enough", "年满80周岁（生日当天起算）", True), ("local_hukou", "具有本地户籍", True),
                                  ("living", "健在", True)],
                      values={"birth_date": "1945-03-02", "age_years": "80", "hukou_local": "true"},
                      outcomes={"old_age_allowance": {"route": "instant_approve", "amount": 100.0}})
        case = Case(id=make_id("case", e.id), event_id=e.id, event_type="old_age", title="高龄津贴", person_id=pid,
                    household_id=None, village_code=EAST, status="closed", lead_department="civil_affairs",
                    opened_on=TODAY - dt.timedelta(days=4), closed_on=TODAY - dt.timedelta(days=4))
        s.add(case)
        s.flush()
        item = Item(id=make_id("item", case.id, "old_age_allowance"), case_id=case.id, service="old_age_allowance",
                    label="高龄津贴", department="civil_affairs", stage=1, status="done", depends_on=[],
                    due_date=TODAY, amount=100.0, decision_id=d.id, done_on=TODAY - dt.timedelta(days=4))
        s.add(item)
        world.decisions["old_age"] = d.id

        # death: a bundle case with items of several departments (HR instant and sampled; police; medical insurance)
        pid = people["dead_west"][0]
        e = _event(s, f"death|{pid}", "death", pid, WEST)
        d = _decision(s, e, "bundle_case", "death", review="sampled", version="d34th001", days_ago=10,
                      conditions=[("pension", "死亡时正在领取基本养老金", True)],
                      values={"death_date": "2025-03-01", "pension_in_payment": "true"},
                      outcomes={"stop_pension": {"route": "instant_approve", "amount": None},
                                "funeral_grant": {"route": "instant_approve", "amount": 12000.0}})
        case = Case(id=make_id("case", e.id), event_id=e.id, event_type="death", title="身后一件事", person_id=pid,
                    household_id=None, village_code=WEST, status="open", lead_department="civil_affairs",
                    opened_on=TODAY - dt.timedelta(days=10))
        s.add(case)
        s.flush()
        world.cases["death"] = case.id
        world.decisions["death"] = d.id
        for service, label, dept, stage, status, deps, due, amount in [
            ("funeral_grant", "丧葬补助金", "human_resources", 1, "done", [], 5, 12000.0),
            ("cancel_hukou", "注销户口", "police", 1, "ready", [], -1, None),
            ("end_medical", "终止医保", "medical_insurance", 1, "in_progress", [], -3, None),
            ("refund_personal_account", "个人账户余额退还继承人", "human_resources", 2, "pending",
             ["cancel_hukou"], 20, None),
            ("survivor_lump_sum", "一次性抚恤金", "human_resources", 1, "ready", [], 8, None),
        ]:
            item = Item(id=make_id("item", case.id, service), case_id=case.id, service=service, label=label,
                        department=dept, stage=stage, status=status, depends_on=deps,
                        due_date=TODAY + dt.timedelta(days=due), amount=amount,
                        decision_id=d.id if amount else None,
                        done_on=TODAY - dt.timedelta(days=10) if status == "done" else None)
            s.add(item)
            s.flush()
            world.items[service] = item.id

        # a second rule-set version, for the analyst's table
        pid = people["baby_mother"][0]
        e = _event(s, f"birth|{pid}", "birth", pid, EAST)
        _decision(s, e, "bundle_case", "childcare_subsidy", version="c0ffee01", days_ago=20,
                  conditions=[("born", "婴幼儿已出生", True)], values={"birth_date": "2025-02-10"})

        for username, role, scope in [
            ("xly1", "assistant", {"villages": [EAST], "assistant_id": "A001"}),
            ("xly2", "assistant", {"villages": [WEST], "assistant_id": "A002"}),
            ("shenhe", "reviewer", {"departments": ["civil_affairs", "human_resources"]}),
            ("gongan", "reviewer", {"departments": ["police"]}),
            ("fenxi", "analyst", {}),
            ("admin", "admin", {}),
        ]:
            add_user(s, username=username, password=PASSWORD, role=role, actor="test",
                     at=dt.datetime.combine(TODAY, dt.time(8)), **scope)
    return world
