"""Chinese labels the pages show for codes stored in the case store."""

from __future__ import annotations

__all__ = [
    "EVENT_LABELS",
    "ROUTE_LABELS",
    "ITEM_STATUS_LABELS",
    "TASK_STATUS_LABELS",
    "OUTCOME_LABELS",
    "ROLE_LABELS",
    "REVIEW_LABELS",
    "ACTION_LABELS",
    "ENTITY_LABELS",
    "ALERT_LABELS",
    "NOTICE_STATUS_LABELS",
    "LIFECYCLE_LABELS",
    "HOLD_LABELS",
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

# What the audit log says, in words (an action not listed shows its code).
ACTION_LABELS = {
    "login": "登录", "logout": "退出", "login_failed": "登录失败", "login_throttled": "登录受限（尝试过多）",
    "user_created": "新建账号", "user_activated": "启用账号", "user_deactivated": "停用账号",
    "password_changed": "修改密码", "password_reset": "重置密码（须改密）", "user_scope_changed": "修改角色或范围",
    "decided": "自动决定", "sampled_for_review": "抽中复核", "held": "秒批暂缓",
    "held_released": "暂缓后放行", "held_rejected": "暂缓后驳回", "release_undone": "撤回放行",
    "decision_confirmed": "复核确认", "decision_revoked": "撤销决定", "review_undone": "撤回复核",
    "item_ready": "事项就绪", "item_in_progress": "开始办理", "item_done": "办结", "item_rejected": "不予办理",
    "item_reopened": "事项重新开启", "item_superseded": "事项被更正替代", "case_closed": "一件事办结",
    "case_reopened": "一件事重新开启", "visit_recorded": "登记走访结果", "visit_retry_booked": "预约再次走访",
    "visit_to_county_office": "转县级电话跟进", "outcome_corrected": "更正走访结果", "task_reassigned": "改派走访",
    "escalated": "逾期督办", "escalated_by_hand": "人工督办", "alert_resolved": "处理提醒",
    "task_cancelled": "任务取消", "opt_out_added": "登记退订", "opt_out_removed": "撤销退订",
    "personal_data_purged": "清除个人数据", "id_revealed": "查看完整身份证号",
}
ENTITY_LABELS = {"user": "账号", "decision": "决定", "item": "事项", "case": "一件事", "task": "走访任务",
                 "alert": "提醒", "person": "个人", "notice": "告知书", "opt_out": "退订"}
ALERT_LABELS = {"overdue_item": "事项逾期", "overdue_task": "走访逾期", "circuit_breaker": "秒批熔断",
                "escalated_by_hand": "人工督办", "data_quality": "数据待更正"}
NOTICE_STATUS_LABELS = {"pending": "待发送", "sent": "已发送", "failed": "发送失败", "cancelled": "已撤回"}
LIFECYCLE_LABELS = {"draft": "草稿", "live": "在用", "retired": "已停用"}
HOLD_LABELS = {"paused": "规则集已暂停秒批（rules/guardrails.yaml）", "circuit_breaker": "当日数量异常，触发熔断"}


def label(table: dict, code: object) -> str:
    """The Chinese label of a code, or the code itself when there is none."""
    return table.get(code, "" if code is None else str(code))
