"""WeCom API limits and the source's defaults (SPEC §3.2)."""

from __future__ import annotations

DEFAULT_BASE_URL = "https://qyapi.weixin.qq.com/cgi-bin/"
MAX_WINDOW_DAYS = 30  # behaviour data and check-ins: at most 30 days a call
HISTORY_DAYS = 180  # behaviour data reaches back 180 days at most
MAX_USERS_PER_CALL = 100  # batch/get_by_user userid_list, getcheckindata useridlist
PAGE_LIMIT = 100  # batch/get_by_user limit
REFETCH_DAYS = 1  # an incremental run asks again for the last complete day(s)
CHECKIN_FIELD_VISITS = 3  # opencheckindatatype: 3 = 外出打卡 (field check-ins)

RETRY_ERRCODES = {-1}  # system busy
BACKOFF_ERRCODES = {45009, 45033}  # rate window exceeded
TOKEN_ERRCODES = {40014, 42001}  # invalid / expired access_token
CONFIG_ERRCODES = {
    40001: "the corp secret is wrong: check SOURCES__WECOM__CORP_SECRET",
    40013: "the corp id is wrong: check corp_id in the run configuration",
    48002: "the app lacks this API: grant it 客户联系 / 打卡 permissions in the admin console",
    60011: "the app cannot see these users: widen its visible range (可见范围) in the console",
}
