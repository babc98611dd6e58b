"""Data contracts of the department extracts: the one place they are defined.

A contract names a table's columns with their types, which are required,
their allowed values, the key, and the cross-field checks. Ingest enforces
them; ``wugan contracts`` prints them as documentation. Reason codes are the
words a back-office user sees in the quarantine and the words the synthetic
generator uses when it injects faults.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

__all__ = [
    "REASONS",
    "PROVINCES",
    "Column",
    "Check",
    "Contract",
    "CONTRACTS",
    "INGEST_ORDER",
    "contract_for",
]

ColumnType = Literal["str", "int", "float", "date", "bool", "id", "region"]

# GB/T 2260 province-level codes, the first two digits of an ID number's address code (81, 82 and 83:
# residence permits of Hong Kong, Macao and Taiwan residents). The other four digits name the county
# where the number was first issued, which need not be in this city: people move, counties are renamed.
PROVINCES = frozenset({
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37", "41", "42",
    "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65", "71", "81", "82", "83",
})

REASONS: dict[str, str] = {
    "missing_required": "必填字段为空 (required field is empty)",
    "bad_value": "取值不在允许范围或格式错误 (value not allowed or not parseable)",
    "bad_check_digit": "身份证号校验位错误或格式错误 (ID number malformed or check digit wrong)",
    "impossible_date": "日期不存在 (not a real date)",
    "future_date": "日期晚于交付日期 (date after the delivery day)",
    "negative_amount": "金额为负 (negative amount)",
    "amount_mismatch": "统筹支付 + 个人自付 ≠ 总费用 (insurer-paid + out-of-pocket ≠ total)",
    "id_birth_mismatch": "身份证号出生日期与出生日期字段不符 (ID birth date ≠ birth_date)",
    "id_sex_mismatch": "身份证号性别位与性别不符 (ID sex digit ≠ sex)",
    "unknown_region": "行政区划代码不存在 (unknown region code)",
    "bad_id_region": "身份证号前两位不是省级行政区划代码 (ID number's first two digits are no province code)",
    "markup": "含标记、控制字符、脚本或公式 (markup, control characters, a script link or a formula)",
    "bad_phone": "不是11位手机号码 (not an 11-digit mobile number)",
    "duplicate_key": "主键重复 (duplicate key)",
    "missing_column": "文件缺少列，整个文件拒收 (file lacks a column; refused whole)",
    "unexpected_column": "文件有多余列，整个文件拒收 (file has an unexpected column; refused whole)",
    "unknown_table": "无法识别的文件 (file name matches no table; refused whole)",
}


@dataclass(frozen=True)
class Column:
    name: str
    type: ColumnType
    description: str
    required: bool = True
    allowed: tuple[str, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None
    money: bool = False
    personal: bool = False
    not_after_delivery: bool = False
    phone: bool = False  # a mainland mobile number: 11 digits, 1[3-9]…

    @property
    def storage(self) -> str:
        """The DuckDB type the landed Parquet column has."""
        return {
            "str": "VARCHAR",
            "id": "VARCHAR",
            "region": "VARCHAR",
            "int": "BIGINT",
            "float": "DOUBLE",
            "date": "DATE",
            "bool": "BOOLEAN",
        }[self.type]


@dataclass(frozen=True)
class Check:
    """A cross-field check; ``kind`` selects its vectorised implementation in ``validate``."""

    reason: str
    field: str
    kind: Literal["id_birth", "id_sex", "id_female", "amount_sum"]
    fields: tuple[str, ...]
    description: str


@dataclass(frozen=True)
class Contract:
    table: str
    department: str
    description: str
    key: tuple[str, ...]
    columns: tuple[Column, ...]
    kind: Literal["reference", "feed"]
    checks: tuple[Check, ...] = ()
    unique: tuple[tuple[str, ...], ...] = field(default=())

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


def _id(name: str, description: str, *, required: bool = True) -> Column:
    return Column(name, "id", description, required=required, personal=True)


def _money(name: str, description: str) -> Column:
    return Column(name, "float", description, minimum=0, money=True)


def _date(name: str, description: str, *, required: bool = True) -> Column:
    return Column(name, "date", description, required=required, not_after_delivery=True)


SEX = ("M", "F")
EMPLOYMENT = ("employee", "cadre", "flexible", "rural")
BENEFITS = (
    "old_age_allowance",
    "childcare_subsidy",
    "dibao",
    "tekun",
    "severe_disability_care",
    "poor_disabled_living",
    "disability_living",
)
DISABILITY_TYPES = ("visual", "hearing", "speech", "physical", "intellectual", "mental", "multiple")

CONTRACTS: dict[str, Contract] = {
    c.table: c
    for c in (
        Contract(
            "regions",
            "civil affairs 民政",
            "Administrative divisions: counties, townships, villages, with last year's income and the dibao line.",
            key=("region_code",),
            kind="reference",
            columns=(
                Column("region_code", "str", "6-digit county, 9-digit township or 12-digit village code"),
                Column("name", "str", "name in Chinese"),
                Column("level", "str", "division level", allowed=("county", "township", "village")),
                Column("parent_code", "region", "the division above; empty for a county", required=False),
                Column("urban", "bool", "urban community (社区) rather than rural village (村)"),
                Column("income_prev_year", "int", "previous-year per-capita disposable income, CNY", minimum=0),
                Column("dibao_line", "int", "low-income (低保) line, CNY per person per month", minimum=0),
                Column(
                    "province_urban_income_prev_year",
                    "int",
                    "province's previous-year urban per-capita disposable income, CNY",
                    minimum=0,
                ),
            ),
        ),
        Contract(
            "persons",
            "public security 公安 (population registry)",
            "Registered residents as of the delivery day.",
            key=("person_id",),
            kind="reference",
            columns=(
                _id("person_id", "resident ID number (GB 11643)"),
                Column("name", "str", "name", personal=True),
                Column("sex", "str", "M or F", allowed=SEX),
                Column("birth_date", "date", "date of birth"),
                Column("household_id", "str", "household (户) identifier"),
                Column("hukou_village", "region", "village of household registration (户籍)"),
                Column("phone", "str", "mobile phone", required=False, personal=True, phone=True),
                Column("employment", "str", "employment category", allowed=EMPLOYMENT),
                Column("alive", "bool", "alive on the delivery day"),
            ),
            checks=(
                Check("id_birth_mismatch", "birth_date", "id_birth", ("person_id", "birth_date"),
                      "ID digits 7-14 equal birth_date"),
                Check("id_sex_mismatch", "sex", "id_sex", ("person_id", "sex"),
                      "ID digit 17 odd for M, even for F"),
            ),
        ),
        Contract(
            "contributions",
            "human resources and social security 人社",
            "Months of pension insurance paid per person per year.",
            key=("person_id", "year"),
            kind="reference",
            columns=(
                _id("person_id", "resident ID number"),
                Column("year", "int", "calendar year", minimum=1950, maximum=2100),
                Column("months", "int", "months paid in the year", minimum=0, maximum=12),
            ),
        ),
        Contract(
            "pensions",
            "human resources and social security 人社",
            "Pensions in payment.",
            key=("person_id",),
            kind="reference",
            columns=(
                _id("person_id", "resident ID number"),
                _date("start_date", "first month paid"),
                _money("monthly_amount", "CNY per month"),
                Column("status", "str", "payment status", allowed=("active", "stopped")),
            ),
        ),
        Contract(
            "claims",
            "medical insurance 医保",
            "Settled medical-insurance claims.",
            key=("claim_id",),
            kind="feed",
            columns=(
                Column("claim_id", "str", "settlement number"),
                _id("person_id", "resident ID number"),
                _date("claim_date", "settlement date"),
                Column("hospital", "str", "hospital name"),
                Column("icd10", "str", "main diagnosis, ICD-10"),
                _money("total", "total cost, CNY"),
                _money("insurer_paid", "paid by the insurance fund, CNY"),
                _money("out_of_pocket", "paid by the patient, CNY"),
                Column("inpatient_days", "int", "days in hospital; 0 for outpatient", minimum=0, maximum=366),
                Column("rehab", "bool", "rehabilitation treatment"),
            ),
            checks=(
                Check("amount_mismatch", "total", "amount_sum", ("insurer_paid", "out_of_pocket", "total"),
                      "insurer_paid + out_of_pocket = total within 0.01"),
            ),
        ),
        Contract(
            "disability_registry",
            "disabled persons' federation 残联",
            "Registered disabilities (残疾人证).",
            key=("person_id",),
            kind="reference",
            columns=(
                _id("person_id", "resident ID number"),
                Column("grade", "int", "grade 1 (most severe) to 4", minimum=1, maximum=4),
                Column("type", "str", "type of disability", allowed=DISABILITY_TYPES),
                _date("registered_date", "date of registration"),
            ),
        ),
        Contract(
            "benefits",
            "civil affairs 民政",
            "Benefits in payment, low-income status (dibao, tekun) included.",
            key=("person_id", "benefit"),
            kind="reference",
            columns=(
                _id("person_id", "resident ID number"),
                Column("benefit", "str", "benefit", allowed=BENEFITS),
                _date("start_date", "first month paid"),
                _money("monthly_amount", "CNY per month"),
            ),
        ),
        Contract(
            "births",
            "health 卫健 (hospitals)",
            "Birth medical certificates (出生医学证明) issued by hospitals.",
            key=("birth_record_id",),
            kind="feed",
            columns=(
                Column("birth_record_id", "str", "birth certificate number"),
                _date("birth_date", "date of birth"),
                Column("child_name", "str", "child's name; parents may confirm it later", required=False,
                       personal=True),
                Column("child_sex", "str", "M or F", allowed=SEX),
                _id("mother_id", "mother's resident ID number"),
                _id("father_id", "father's resident ID number", required=False),
                Column("hospital", "str", "hospital of birth"),
                Column("hukou_village", "region", "mother's village of household registration"),
            ),
            checks=(
                Check("id_sex_mismatch", "mother_id", "id_female", ("mother_id",),
                      "the mother's ID has an even sex digit"),
            ),
        ),
        Contract(
            "deaths",
            "civil affairs and health 民政/卫健",
            "Death records (死亡医学证明 and cremation records).",
            key=("death_record_id",),
            kind="feed",
            unique=(("person_id",),),
            columns=(
                Column("death_record_id", "str", "death record number"),
                _id("person_id", "resident ID number"),
                _date("death_date", "date of death"),
                Column("cause_icd10", "str", "underlying cause, ICD-10", required=False),
                Column("place", "str", "place of death", allowed=("hospital", "home", "other")),
            ),
        ),
        Contract(
            "assistants",
            "civil affairs 民政",
            "Village social-work assistants and their weekly visit capacity.",
            key=("assistant_id",),
            kind="reference",
            columns=(
                Column("assistant_id", "str", "assistant identifier"),
                Column("name", "str", "name", personal=True),
                Column("village_code", "region", "village served"),
                Column("phone", "str", "mobile phone", personal=True, phone=True),
                Column("weekly_capacity", "int", "home visits per week", minimum=1, maximum=20),
            ),
        ),
    )
}

# Regions first: every other table checks its region codes against them.
INGEST_ORDER: tuple[str, ...] = tuple(CONTRACTS)


def contract_for(table: str) -> Contract:
    try:
        return CONTRACTS[table]
    except KeyError:
        raise KeyError(f"no data contract for table {table!r}; known: {', '.join(CONTRACTS)}") from None
