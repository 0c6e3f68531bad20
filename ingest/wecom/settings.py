"""WeCom API limits and the source's defaults (SPEC §3.2)."""

from __future__ import annotations

DEFAULT_BASE_URL = "https://qyapi.weixin.qq.com/cgi-bin/"
MAX_WINDOW_DAYS = 30  # behaviour data and check-ins: at most 30 days a call
HISTORY_DAYS = 180  # behaviour data reaches back 180 days at most
MAX_USERS_PER_CALL = 100  # batch/get_by_user userid_list, getcheckindata useridlist
PAGE_LIMIT = 100  # batch/get_by_user limit
# contacts follow the change events between full page-throughs of batch/get_by_user this often
CONTACTS_FULL_EVERY_DAYS = 7
# ... and sooner when more customers changed than this share of the contacts: one
# externalcontact/get a changed customer then costs more than paging through
CHANGED_SHARE_FOR_FULL_READ = 0.1
# calls made at once (per-rep statistics, contact pages, check-ins): WeCom limits each API's
# calls per minute per corp and per app, and answers 45009/45033 (backed off) beyond it
PARALLEL_REQUESTS = 4
# rows gathered from many small answers before they are handed on as one table
ROWS_PER_TABLE = 50_000
# an incremental run asks again for the last complete day(s) before its last day, and for every
# day since the last day the run before it reached
REFETCH_DAYS = 1
# what the stamp asked is answered from it, once, to a load that starts within this many seconds
STAMP_ANSWERS_MAX_AGE_SECONDS = 1800
# opencheckindatatype: 1 上下班 (start/end of work), 2 外出 (field check-ins), 3 全部 (all):
# only a field check-in verifies a visit (SPEC §6), so only those are asked for
CHECKIN_FIELD_VISITS = 2

# WeCom grants a secret per app, and a token serves only the APIs of the app whose secret got
# it (48002 otherwise): app -> (its name in the admin console, the secret's variable)
APPS = {
    "contact": ("客户联系", "SOURCES__WECOM__CONTACT_SECRET"),
    "checkin": ("打卡", "SOURCES__WECOM__CHECKIN_SECRET"),
}
API_APPS = {"externalcontact/": "contact", "checkin/": "checkin"}  # endpoint prefix -> app
# one self-built app granted every API above (可调用接口的应用) may use a single secret
SHARED_SECRET_VAR = "SOURCES__WECOM__CORP_SECRET"

RETRY_ERRCODES = {-1}  # system busy
BACKOFF_ERRCODES = {45009, 45033}  # rate window exceeded
TOKEN_ERRCODES = {40014, 42001}  # invalid / expired access_token
CONFIG_ERRCODES = {
    40001: "the {app} app's secret is wrong: check {var} (or SOURCES__WECOM__CORP_SECRET if set)",
    40013: "the corp id is wrong: check corp_id in the run configuration",
    48002: (
        "the token of the secret in use may not call the {app} app's APIs: set {var} to the "
        "{app} app's secret (admin console: 应用管理 → {app} → API → Secret)"
    ),
    60011: "the app cannot see these users: widen its visible range (可见范围) in the console",
}

# what the source reads of each API's items, and what degrades when every item delivered lacks
# a field (ingest.contracts.empty_columns, after the load): API -> (raw table, {field: degrades})
# (``a.b``: field b of the item's object a)
FIELDS = {
    "externalcontact/batch/get_by_user": (
        "external_contacts",
        {
            "external_contact.corp_name": "the company WeCom customers are named by",
            "follow_info.remark_mobiles": "WeCom customers matched to leads and contacts by mobile",
            "follow_info.add_way": "how WeCom customers were added",
            "follow_info.createtime": "when WeCom customers were added",
        },
    ),
    "externalcontact/get_user_behavior_data": (
        "user_behavior_data",
        {
            field: "WeCom customer-contact statistics"
            for field in (
                "chat_cnt",
                "message_cnt",
                "reply_percentage",
                "avg_reply_time",
                "negative_feedback_cnt",
                "new_apply_cnt",
                "new_contact_cnt",
            )
        },
    ),
    "checkin/getcheckindata": (
        "checkins",
        {
            "location_title": "unverified visits (the place of the check-in)",
            "location_detail": "check-in addresses",
            "lat": "check-in positions",
            "lng": "check-in positions",
        },
    ),
}
