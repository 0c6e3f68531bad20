"""The spreadsheets the sheets source reads (docs/sources.md, SPEC §3.4).

One entry per sheet: workbook file stem, sheet name, raw table and columns as
``(中文 header, english name, type, required)``. Types: text, int, decimal, percent (a share:
``60%``, ``0.6`` and ``60`` all read as 0.6), date, month (a date, first of the month).
Headers are matched in either language, case- and space-insensitively; extra columns are kept.
"""

from __future__ import annotations

from typing import NamedTuple


class Column(NamedTuple):
    zh: str
    name: str
    kind: str = "text"
    required: bool = False


class Sheet(NamedTuple):
    workbook: str
    sheet: str
    table: str
    columns: tuple[Column, ...]


SHEETS: tuple[Sheet, ...] = (
    Sheet("org", "销售团队", "org_reps", (
        Column("员工编号", "rep_id", required=True),
        Column("姓名", "rep_name", required=True),
        Column("区域", "region", required=True),
        Column("上级编号", "manager_id"),
        Column("角色", "role", required=True),
        Column("CRM用户ID", "crm_user_id"),
        Column("企业微信账号", "wecom_userid"),
        Column("U8人员编码", "u8_person_code"),
        Column("入职日期", "hire_date", "date"),
        Column("离职日期", "leave_date", "date"),
    )),
    Sheet("stage_config", "阶段配置", "stage_config", (
        Column("CRM阶段名", "crm_stage_name", required=True),
        Column("标准阶段", "stage", required=True),
        Column("顺序", "stage_order", "int", required=True),
        Column("赢单概率", "win_probability", "percent", required=True),
        Column("概率下限", "prob_min", "percent"),
        Column("概率上限", "prob_max", "percent"),
        Column("必需证据", "required_evidence"),
    )),
    Sheet("targets", "月度目标", "targets", (
        Column("月份", "month", "month", required=True),
        Column("区域", "region", required=True),
        Column("员工编号", "rep_id"),
        Column("签约目标", "booking_target", "decimal"),
        Column("回款目标", "collection_target", "decimal"),
    )),
    Sheet("scoring", "线索评分", "scoring_behaviors", (
        Column("行为", "behavior", required=True),
        Column("分值", "points", "int", required=True),
        Column("信号", "signal_type", required=True),
        Column("匹配", "match_value"),
    )),
    Sheet("scoring", "阈值", "scoring_thresholds", (
        Column("等级", "grade", required=True),
        Column("最低分", "min_score", "int", required=True),
    )),
    Sheet("dictionary", "风险词典", "dict_risk_words", (
        Column("关键词", "keyword", required=True),
        Column("风险类型", "risk_type"),
        Column("建议动作", "suggested_action"),
        Column("风险等级", "risk_level"),
    )),
    Sheet("dictionary", "竞品", "dict_competitors", (
        Column("竞品", "competitor", required=True),
    )),
    Sheet("dictionary", "有效动作", "dict_effective_actions", (
        Column("关键词", "keyword", required=True),
        Column("活动类型", "activity_type"),
    )),
    Sheet("dictionary", "无效填充", "dict_filler_patterns", (
        Column("模式", "pattern", required=True),
    )),
    # behaviours set against win rates and the steps of the win paths: evidence 资料 (CRM files,
    # WeCom files) or 动作 (CRM tasks/events, WeCom messages) whose text holds the keyword, within
    # hours of the anchor stage's entry (blank: the opportunity's creation) and the close;
    # 判定 有 (present) or 无 (absent); 步骤 names the path step the evidence is (blank: none)
    Sheet("win_behaviors", "赢单行为", "dict_win_behaviors", (
        Column("行为", "behavior", required=True),
        Column("证据", "evidence", required=True),
        Column("关键词", "keyword", required=True),
        Column("步骤", "path_step"),
        Column("锚点阶段", "anchor_stage"),
        Column("起始小时", "window_start_hours", "int"),
        Column("截止小时", "window_end_hours", "int"),
        Column("判定", "match"),
    )),
    Sheet("settings", "参数", "settings", (
        Column("参数", "name", required=True),
        Column("值", "value", required=True),
        Column("说明", "description"),
    )),
    Sheet("legacy_visits", "拜访记录", "legacy_visits", (
        Column("日期", "visit_date", "date", required=True),
        Column("员工", "rep_name", required=True),
        Column("客户", "customer_name", required=True),
        Column("方式", "channel"),
        Column("内容", "notes"),
        Column("时长(秒)", "duration_s", "int"),
    )),
)  # fmt: skip
