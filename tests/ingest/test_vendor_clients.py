"""The stand-ins held against other people's clients of the real APIs: simple-salesforce for
Salesforce, wechatpy for WeCom. Each client speaks to the vendor's own hosts over https; a
transport adapter mounted on its requests session sends every request to the stand-in on
127.0.0.1 instead (scheme and host rewritten, path and query untouched), so whatever the
client needs that the stand-in lacks shows here."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
import requests
from requests.adapters import HTTPAdapter
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceAuthenticationFailed
from wechatpy.enterprise import WeChatClient
from wechatpy.exceptions import WeChatClientException

from devkit.demo.generate import generate
from devkit.standins.base import Faults
from devkit.standins.salesforce import SalesforceStandIn
from devkit.standins.wecom import WeComStandIn
from ingest.crm.helpers import parse_datetime

APP_SECRETS = {"contact": "contact-app-secret", "checkin": "checkin-app-secret"}
# 2026-10-22 .. 2026-11-20 00:00 Asia/Shanghai: a 30-day window
START, END = 1792598400, 1795104000


class ToStandIn(HTTPAdapter):
    """Sends every request to ``target`` (``http://127.0.0.1:<port>``), keeping its path."""

    def __init__(self, target: str) -> None:
        super().__init__()
        self.netloc = urlsplit(target).netloc

    def send(self, request, **kwargs):
        parts = urlsplit(request.url)
        request.url = urlunsplit(("http", self.netloc, parts.path, parts.query, parts.fragment))
        # chosen for the vendor's host: the stand-in is on this machine, reached directly
        kwargs["proxies"] = {}
        return super().send(request, **kwargs)


def _session(target: str, session: requests.Session | None = None) -> requests.Session:
    session = session or requests.Session()
    adapter = ToStandIn(target)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


@pytest.fixture(scope="module")
def org(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("org")
    generate(out, seed=4, scale="XS", as_of=date(2026, 11, 20))
    return out


def _csv_ids(path: Path) -> list[str]:
    with path.open(encoding="utf-8", newline="") as fh:
        return [row["Id"] for row in csv.DictReader(fh)]


# -- Salesforce: simple-salesforce --------------------------------------------------------------
def test_simple_salesforce_logs_in_and_pages_with_query_all(org):
    leads = _csv_ids(org / "crm_export" / "Lead.csv")
    assert len(leads) > 100
    with SalesforceStandIn(
        org / "crm_export",
        page_size=50,
        client_id="ck",
        client_secret="cs",
        username="ops@example.cn",
        password="pw",
    ) as sf:
        client = Salesforce(
            username="ops@example.cn",
            password="pw",
            consumer_key="ck",
            consumer_secret="cs",
            session=_session(sf.base_url),
        )
        result = client.query_all("SELECT Id, Company FROM Lead ORDER BY Id")
        assert result["done"] and result["totalSize"] == len(leads)
        assert sorted(r["Id"] for r in result["records"]) == sorted(leads)
        assert all(r["attributes"]["type"] == "Lead" for r in result["records"])
        # more than one page: nextRecordsUrl was followed
        assert sum(n for p, n in sf.requests.items() if p.count("/") > 4 and "query/" in p) >= 2
        deleted = client.query_all("SELECT Id FROM Lead ORDER BY Id", include_deleted=True)
        assert deleted["totalSize"] >= len(leads)
        assert client.Lead.describe()["name"] == "Lead"
        # the CRM source's stamp: how many records and the newest change, no page of records
        counted = client.query("SELECT COUNT() FROM Lead", include_deleted=True)
        assert counted["totalSize"] == len(leads) and counted["records"] == []
        newest = client.query(
            "SELECT SystemModstamp FROM Lead ORDER BY SystemModstamp DESC NULLS LAST LIMIT 1"
        )
        with (org / "crm_export" / "Lead.csv").open(encoding="utf-8", newline="") as fh:
            stamps = [parse_datetime(row["SystemModstamp"]) for row in csv.DictReader(fh)]
        assert [parse_datetime(r["SystemModstamp"]) for r in newest["records"]] == [max(stamps)]
        # the client-credentials flow, against the org's My Domain
        machine = Salesforce(
            consumer_key="ck", consumer_secret="cs", domain="acme.my", session=_session(sf.base_url)
        )
        assert machine.query_all("SELECT Id FROM Lead ORDER BY Id")["totalSize"] == len(leads)
        assert sf.tokens_issued == 2
        with pytest.raises(SalesforceAuthenticationFailed):
            Salesforce(
                username="ops@example.cn",
                password="wrong",
                consumer_key="ck",
                consumer_secret="cs",
                session=_session(sf.base_url),
            )


# -- WeCom: wechatpy ----------------------------------------------------------------------------
def _wechat(standin: WeComStandIn, app: str) -> WeChatClient:
    client = WeChatClient("wwstandin", APP_SECRETS[app])
    _session(standin.base_url, client._http)  # wechatpy's own requests session
    return client


def test_wechatpy_contacts_checkins_and_tokens_per_app(org):
    with WeComStandIn(org / "wecom", app_secrets=APP_SECRETS) as standin:
        contact = _wechat(standin, "contact")
        users = contact.external_contact.get_follow_user_list()["follow_user"]
        assert users
        behaviour = contact.external_contact.get_user_behavior_data([users[0]], START, END)
        assert behaviour["errcode"] == 0 and "behavior_data" in behaviour
        seen, cursor = 0, ""
        while True:
            page = contact.post(
                "externalcontact/batch/get_by_user",
                data={"userid_list": users, "cursor": cursor, "limit": 100},
            )
            seen += len(page["external_contact_list"])
            cursor = page["next_cursor"]
            if not cursor:
                break
        assert seen == sum(1 for _ in (org / "wecom" / "contacts.jsonl").open(encoding="utf-8"))
        checkin = _wechat(standin, "checkin")
        body = {
            "opencheckindatatype": 2,
            "starttime": START,
            "endtime": END,
            "useridlist": users,
        }
        rows = checkin.post("checkin/getcheckindata", data=body)["checkindata"]
        assert rows and {r["checkin_type"] for r in rows} == {"外出打卡"}
        # a token of the wrong app: WeCom's 48002, which wechatpy raises as it comes
        with pytest.raises(WeChatClientException) as info:
            contact.post("checkin/getcheckindata", data=body)
        assert info.value.errcode == 48002
        assert standin.tokens_issued == 2
        # an expired token is refreshed by wechatpy's own retry
        standin.expire_tokens()
        assert checkin.post("checkin/getcheckindata", data=body)["checkindata"] == rows
        assert standin.tokens_issued == 3
        with pytest.raises(WeChatClientException) as info:
            WeChatClient("wwstandin", "wrong")._fetch_access_token(
                standin.api_url + "gettoken", {"corpid": "wwstandin", "corpsecret": "wrong"}
            )
        assert info.value.errcode == 40001


def test_wechatpy_rides_out_the_faults_it_knows(org):
    faults = Faults(rate=0.3, kinds=("expired_token",), seed=2)
    with WeComStandIn(org / "wecom", app_secrets=APP_SECRETS, faults=faults) as standin:
        contact = _wechat(standin, "contact")
        for _ in range(10):
            assert contact.external_contact.get_follow_user_list()["follow_user"]
        assert faults.injected["expired_token"] > 0
        assert standin.tokens_issued == 1 + faults.injected["expired_token"]
