"""Words the demo org is made of: names, companies, places, activity texts.

Business rules (stages, probabilities, thresholds, dictionaries) are *written* by the
generator into the config spreadsheets; the pipeline reads them from there, never from here.
"""

from __future__ import annotations

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐"
    "许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程魏苏吕丁任沈姚卢"
)
GIVEN = [
    "伟",
    "芳",
    "娜",
    "敏",
    "静",
    "丽",
    "强",
    "磊",
    "军",
    "洋",
    "勇",
    "艳",
    "杰",
    "娟",
    "涛",
    "明",
    "超",
    "秀英",
    "霞",
    "平",
    "刚",
    "桂英",
    "建华",
    "志强",
    "晓东",
    "海燕",
    "丹",
    "雪",
    "鹏",
    "浩然",
    "子涵",
    "欣怡",
    "宇航",
    "思远",
    "嘉怡",
    "俊杰",
    "文博",
    "梓轩",
]
PINYIN = {
    "王": "wang",
    "李": "li",
    "张": "zhang",
    "刘": "liu",
    "陈": "chen",
    "杨": "yang",
    "黄": "huang",
    "赵": "zhao",
    "吴": "wu",
    "周": "zhou",
    "徐": "xu",
    "孙": "sun",
    "马": "ma",
    "朱": "zhu",
    "胡": "hu",
    "郭": "guo",
    "何": "he",
    "高": "gao",
    "林": "lin",
    "罗": "luo",
    "郑": "zheng",
    "梁": "liang",
    "谢": "xie",
    "宋": "song",
    "唐": "tang",
    "许": "xu",
    "韩": "han",
    "冯": "feng",
    "邓": "deng",
    "曹": "cao",
    "彭": "peng",
    "曾": "zeng",
    "肖": "xiao",
    "田": "tian",
    "董": "dong",
    "袁": "yuan",
    "潘": "pan",
    "蒋": "jiang",
    "蔡": "cai",
    "余": "yu",
    "杜": "du",
    "叶": "ye",
    "程": "cheng",
    "魏": "wei",
    "苏": "su",
    "吕": "lv",
    "丁": "ding",
    "任": "ren",
    "沈": "shen",
    "姚": "yao",
    "卢": "lu",
}

# region -> (state/province, city, latitude, longitude) of its cities (GCJ-02, city centre)
REGIONS: dict[str, list[tuple[str, str, float, float]]] = {
    "华东": [
        ("上海市", "上海", 31.2304, 121.4737),
        ("江苏省", "苏州", 31.2990, 120.5853),
        ("浙江省", "杭州", 30.2741, 120.1551),
        ("江苏省", "南京", 32.0603, 118.7969),
        ("浙江省", "宁波", 29.8683, 121.5440),
    ],
    "华南": [
        ("广东省", "广州", 23.1291, 113.2644),
        ("广东省", "深圳", 22.5431, 114.0579),
        ("广东省", "东莞", 23.0207, 113.7518),
        ("福建省", "厦门", 24.4798, 118.0894),
    ],
    "华北": [
        ("北京市", "北京", 39.9042, 116.4074),
        ("天津市", "天津", 39.3434, 117.3616),
        ("河北省", "石家庄", 38.0428, 114.5149),
        ("山东省", "济南", 36.6512, 117.1201),
    ],
    "西南": [
        ("四川省", "成都", 30.5728, 104.0668),
        ("重庆市", "重庆", 29.5630, 106.5516),
        ("云南省", "昆明", 25.0389, 102.7183),
        ("贵州省", "贵阳", 26.6470, 106.6302),
    ],
}

COMPANY_CORE = [
    "华信",
    "恒达",
    "金桥",
    "天润",
    "鼎盛",
    "宏远",
    "瑞丰",
    "中科",
    "博源",
    "新锐",
    "东方",
    "汇通",
    "嘉禾",
    "长城",
    "海川",
    "星辰",
    "联创",
    "佳美",
    "安泰",
    "润泽",
    "同创",
    "卓越",
    "明德",
    "永兴",
    "盛世",
    "光华",
    "鸿运",
    "德信",
    "凯达",
    "万通",
    "正泰",
    "方圆",
    "启明",
    "蓝海",
    "华美",
    "锦程",
    "信达",
    "亿丰",
    "晨曦",
    "合众",
]
INDUSTRIES = {
    "制造业": ["机械", "精密制造", "电子", "汽车零部件", "新材料"],
    "医疗健康": ["医疗器械", "生物科技", "医药"],
    "零售": ["商贸", "连锁", "电商"],
    "物流": ["物流", "供应链", "运输"],
    "能源": ["能源", "电力设备", "新能源"],
    "信息技术": ["软件", "信息技术", "网络科技"],
    "教育": ["教育科技", "培训"],
    "建筑": ["建设工程", "建材"],
}
COMPANY_SUFFIX = ["有限公司", "股份有限公司", "集团有限公司", "有限责任公司"]
TITLES = [
    "采购经理",
    "IT总监",
    "总经理",
    "副总经理",
    "运营总监",
    "财务总监",
    "信息部经理",
    "采购专员",
    "厂长",
]

LEAD_SOURCES = [
    ("官网表单", 0.28),
    ("展会", 0.18),
    ("转介绍", 0.14),
    ("电话营销", 0.12),
    ("百度推广", 0.14),
    ("微信公众号", 0.14),
]

# The CRM's own stage names and the canonical stage each maps to (written to stage_config.xlsx).
STAGES = [
    # crm stage name, canonical stage, order, win probability, min, max, required evidence
    ("初步接洽", "lead_confirmed", 1, 0.10, 0.05, 0.15, ""),
    ("需求确认", "needs_diagnosed", 2, 0.35, 0.25, 0.45, "需求调研表"),
    ("方案演示", "solution_demo", 3, 0.60, 0.50, 0.70, "演示报告"),
    ("商务谈判", "quote_negotiation", 4, 0.80, 0.70, 0.85, "报价单"),
    ("合同签署", "contract_signed", 5, 0.95, 0.95, 0.95, "合同"),
    ("回款完成", "delivered_paid", 6, 1.00, 1.00, 1.00, "回款凭证"),
    ("输单", "lost", 99, 0.00, 0.00, 0.00, ""),
]
FORECAST_CATEGORY = {
    1: "Pipeline",
    2: "Pipeline",
    3: "Best Case",
    4: "Commit",
    5: "Closed",
    6: "Closed",
    99: "Omitted",
}

SUBSTANTIVE = [
    ("发送报价单，客户反馈价格需内部评审", "报价"),
    ("客户申请样品试用，已安排发货", "试用"),
    ("与采购总监开会讨论实施方案", "会议"),
    ("寄送产品资料和案例集", "资料"),
    ("客户决策人变更，新对接人为信息部经理", "决策人"),
    ("现场演示系统功能，客户认可", "演示"),
    ("沟通合同条款，法务审核中", "合同"),
    ("确认需求清单，约定下周出方案", "方案"),
    ("客户反馈试用结果良好，准备立项", "试用"),
    ("报价后客户要求比价，补充竞品对比", "报价"),
]
FILLER = ["已电话沟通", "跟进中", "联系客户", "已联系", "保持联系", "电话沟通，无进展", "无"]
FIRST_CALL = ["首次电话沟通，了解需求", "初次联系，客户有兴趣", "电话回访线索，约拜访时间"]

CHAT_REP = [
    "您好，我是{company}的销售顾问{rep}，看到您在官网留言，方便聊聊需求吗？",
    "方案已经发您邮箱了，请查收",
    "报价单我整理好了，您看一下有问题随时联系我",
    "下周二上午方便的话我过去拜访一下？",
    "样品已经寄出，快递单号稍后发您",
    "合同模板发您了，法务那边看完给我反馈就行",
    "好的，收到",
]
CHAT_CUSTOMER = [
    "好的，谢谢",
    "价格太高了，预算不足，我们再考虑一下",
    "{competitor}那边报价比你们低不少",
    "领导还没批，可能要延期到下个月",
    "方案不错，下周安排演示吧",
    "试用效果还可以，我们内部评估一下",
    "收到，我转给采购部",
]
# Everyday conversations with customers already added on WeCom (the bulk of a real archive):
# neither progress nor risk words, so they change no rule or alert.
CHATTER_REP = [
    "早上好，最近系统用得怎么样？",
    "有需要随时找我",
    "上次说的问题解决了吗？",
    "好的，我记下了",
    "收到，我跟同事确认一下再回复您",
    "节日快乐！",
]
CHATTER_CUSTOMER = [
    "好的",
    "收到，谢谢",
    "还行，有问题再找你",
    "明天再聊",
    "嗯嗯",
    "我问一下同事",
]
# the customer lines above that a sales manager would call risky (truth of the chat-risk page)
CHAT_CUSTOMER_RISKY = frozenset(CHAT_CUSTOMER[1:4])
# keyword, risk type, suggested response, risk level (高 / 中 / 低: 低 only with a competitor)
RISK_WORDS = [
    ("价格太高", "价格", "提供分期或阶梯报价，强调总拥有成本", "中"),
    ("预算不足", "预算", "确认预算周期，拆分一期范围", "中"),
    ("延期", "时间", "确认新的时间表并锁定下一步", "中"),
    ("领导还没批", "决策", "争取与决策人直接沟通", "高"),
    ("比你们低", "竞品", "准备竞品对比材料", "高"),
    ("报价", "价格", "核对竞品报价明细，准备差异化价值说明", "低"),
    ("可能", "含糊承诺", "请客户给出具体日期和决策人，书面确认下一步", "高"),
    ("尽量", "含糊承诺", "把“尽量”落实为具体日期和负责人", "高"),
    ("争取", "含糊承诺", "确认争取的条件和时间，约决策人当面确认", "高"),
    ("再考虑", "含糊承诺", "约决策人面谈，明确顾虑", "高"),
]
COMPETITORS = ["金蝶", "鼎捷", "浪潮", "销售易", "纷享销客"]
EFFECTIVE_ACTIONS = [
    ("报价", "quote"),
    ("试用", "trial"),
    ("样品", "trial"),
    ("演示", "demo"),
    ("合同", "contract"),
    ("会议", "meeting"),
    ("方案", "proposal"),
    ("决策人", "stakeholder"),
    ("资料", "material"),
    ("拜访", "visit"),
]
# 线索评分: (behaviour, points, signal, match); the signals are listed in docs/sources.md.
SCORING = [
    ("访问报价页", 20, "crm_activity", "报价页"),
    ("下载产品手册", 15, "crm_activity", "产品手册"),
    ("参加展会", 10, "lead_source", "展会"),
    ("转介绍", 10, "lead_source", "转介绍"),
    ("申请试用", 25, "crm_activity", "申请试用"),
    ("打开营销邮件", 5, "crm_activity", "营销邮件"),
    ("客户主动询价", 20, "wecom_question", "多少钱"),
    ("客户询问试用", 15, "wecom_question", "试用"),
    ("客户回复消息", 5, "wecom_reply", ""),
    ("3天未回复", -10, "no_reply_days", "3"),
]
GRADES = [("A", 60), ("B", 40), ("C", 20), ("D", -1000)]
PRODUCTS = [("SW-CRM-STD", 1), ("SW-CRM-PRO", 1), ("SVC-IMPL", 1), ("SVC-TRAIN", 1)]

# Thresholds of SPEC §5–§6, written to settings.xlsx (参数) — the pipeline reads them there.
SETTINGS = [
    ("response_green_hours", "12", "响应绿色上限（小时）"),
    ("response_red_hours", "24", "响应红色下限（小时）"),
    ("followup_window_hours", "72", "跟进率窗口（小时）"),
    ("stagnation_alert_days", "3", "停滞预警天数"),
    ("stagnation_escalate_days", "7", "停滞升级天数"),
    ("idle_customer_days", "10", "客户沉睡天数"),
    ("material_window_hours", "72", "新加微信客户发资料时限（小时）"),
    ("deal_no_activity_days", "14", "商机无任何活动预警天数"),
    ("close_push_alert_count", "2", "预计成交日推迟次数预警"),
    ("single_thread_min_stage_order", "3", "单线联系预警起始阶段顺序"),
    ("health_window_days", "30", "客户健康度互动统计窗口（天）"),
    ("health_weight_frequency", "40", "客户健康度：互动频次权重"),
    ("health_weight_velocity", "30", "客户健康度：阶段推进速度权重"),
    ("health_weight_payment", "30", "客户健康度：回款占合同额权重"),
    ("health_red_below", "60", "客户健康度红线"),
    ("late_arriving_days", "3", "增量模型回看天数（迟到数据）"),
    ("empirical_min_closed", "10", "经验预测：阶段至少有多少已结束商机才用历史赢率"),
    ("alert_lookback_days", "14", "线索/新客户/竞品提及预警只看最近天数"),
    ("phi_weight_response", "30", "PHI 响应合规权重"),
    ("phi_weight_key_action", "40", "PHI 关键动作权重"),
    ("phi_weight_info", "30", "PHI 信息完整度权重"),
    ("burst_min_records", "10", "补录突发最少条数"),
    ("burst_window_minutes", "60", "补录突发窗口（分钟）"),
    ("burst_span_days", "2", "补录发生时间跨度（天）"),
    ("short_visit_seconds", "40", "短拜访阈值（秒）"),
    ("checkin_radius_m", "1000", "打卡匹配半径（米）"),
    ("checkin_window_hours", "2", "打卡匹配时间窗（小时）"),
    ("erp_mismatch_tolerance", "0.01", "CRM/U8 金额差异容忍度"),
    ("freshness_max_hours", "26", "数据源最长未更新（小时）"),
    ("freshness_max_hours_u8", "24", "U8 最长未更新（小时），超过则预测页不发布"),
    ("volume_drop_max", "0.15", "原始表行数日降幅上限"),
    ("lead_grade_a_min", "60", "A 级线索最低分"),
    ("win_model_min_closed", "30", "赢单概率模型：至少有多少已结束商机才训练（否则按阶段概率）"),
    ("win_model_l2", "1", "赢单概率模型：L2 正则强度"),
    ("win_model_activity_days", "14", "赢单概率模型：近期活动统计天数"),
]
