"""Chinese labels the pages show for codes stored in the case store."""

from __future__ import annotations

__all__ = [
    "EVENT_LABELS",
    "ROUTE_LABELS",
    "ITEM_STATUS_LABELS",
    "TASK_STATUS_LABELS",
    "OUTCOME_LABELS",
    "ROLE_LABELS",
    "VALUE_LABELS",
    "CHECKLISTS",
    "label",
]

EVENT_LABELS = {
    "birth": "出生一件事",
    "death": "身后一件事",
    "retirement": "退休养老一件事",
    "medical_hardship": "残疾人救助一件事",
    "old_age": "高龄津贴",
}
ROUTE_LABELS = {
    "instant_approve": "秒批",
    "bundle_case": "一件事联办",
    "assistant_task": "协理员上门",
    "no_action": "不予办理",
}
ITEM_STATUS_LABELS = {
    "pending": "等待前序事项",
    "ready": "待办理",
    "in_progress": "办理中",
    "done": "已办结",
    "rejected": "不予办理",
    "held": "暂缓（待放行）",
}
TASK_STATUS_LABELS = {"backlog": "待排期", "assigned": "本周待办", "done": "已完成"}
OUTCOME_LABELS = {
    "confirmed": "核实属实",
    "not_eligible": "不符合条件",
    "unreachable": "联系不上",
    "declined": "本人拒绝",
}
ROLE_LABELS = {"assistant": "协理员", "reviewer": "后台审核", "analyst": "规则分析", "admin": "管理员"}
REVIEW_LABELS = {None: "—", "sampled": "抽中待复核", "confirmed": "复核确认", "revoked": "已撤销",
                 "held": "暂缓待放行", "released": "已放行", "rejected": "暂缓后驳回"}

# Rule inputs and derived values, as the explanation shows them.
VALUE_LABELS = {
    "oop_12m": "近12个月自付医疗费用（元）",
    "income_prev_year": "上年人均可支配收入（元）",
    "threshold": "预警线（元）",
    "oop_share": "预警比例",
    "birth_date": "出生日期",
    "death_date": "死亡日期",
    "pension_in_payment": "正在领取养老金",
    "contribution_months": "累计缴费月数",
    "province_urban_income_prev_year": "全省上年城镇人均可支配收入（元）",
    "hukou_local": "本地户籍",
    "alive": "健在",
    "region_code": "村（社区）代码",
    "age_months": "年龄（月）",
    "age_years": "年龄（周岁）",
    "tier": "津贴档次（岁）",
    "allowance_monthly": "每月津贴（元）",
    "birth_month": "出生月份",
    "first_month": "补贴起始月份",
    "last_month": "补贴截止月份",
    "subsidy_months": "补贴月数",
    "subsidy_total": "补贴总额（元）",
    "pension_stop_month": "停发养老金月份",
    "monthly_income": "月人均可支配收入（元）",
    "contribution_years": "缴费年限（年）",
    "survivor_months": "抚恤金月数",
    "funeral_grant": "丧葬补助金（元）",
    "survivor_lump_sum": "抚恤金（元）",
    "retirement_group": "退休年龄组别",
    "base_age_months": "原法定退休年龄（月）",
    "max_delay": "最多延迟（月）",
    "delay_start": "延迟起始出生月份",
    "delay_step": "每延迟一个月对应的出生月数",
    "delay_months": "延迟月数",
    "retirement_age_months": "法定退休年龄（月）",
    "retirement_date": "退休日期",
    "retirement_month": "退休月份",
    "sex": "性别",
    "category": "人员类别",
    "score": "模型评分",
}

# What the assistant checks on the visit and asks the family to have at hand, per event.
CHECKLISTS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "medical_hardship": (
        ("本人是否因病致残、生活能否自理", "家庭收入和主要支出，是否已享受低保、特困", "近期住院和用药情况"),
        ("身份证、户口簿", "近一年的病历、诊断证明和医疗费用票据", "近期免冠照片（办理残疾人证用）"),
    ),
    "death": (
        ("核实去世时间，通知家属养老金已停发", "确认法定继承人及联系方式", "说明丧葬补助金和抚恤金的领取"),
        ("继承人身份证", "继承人银行卡（用于个人账户余额退还）", "亲属关系证明"),
    ),
    "retirement": (
        ("核实缴费年限和补缴意愿", "讲解延迟退休、弹性退休和继续缴费的选择"),
        ("身份证", "社保卡", "历年缴费凭证（如有）"),
    ),
    "birth": (
        ("确认新生儿姓名和户口登记地", "确认父母参保情况"),
        ("父母身份证、户口簿", "出生医学证明", "结婚证"),
    ),
    "old_age": (
        ("核实老人健在并居住在本地", "确认津贴发放账户"),
        ("身份证", "社保卡或银行卡"),
    ),
}
DEFAULT_CHECKLIST = (("核实本人情况和联系方式",), ("身份证、户口簿",))


def label(table: dict, code: object) -> str:
    """The Chinese label of a code, or the code itself when there is none."""
    return table.get(code, "" if code is None else str(code))
