"""The WeCom source against the contract stand-in over real HTTP, with faults."""

from __future__ import annotations

import json
import logging
import os
import shutil
from datetime import date
from pathlib import Path

import dlt
import duckdb
import pyarrow as pa
import pytest

import ingest.wecom as wecom
from devkit.demo.generate import generate
from devkit.standins.base import Faults
from devkit.standins.wecom import WeComStandIn, store_contact_event
from ingest.pipelines import append_first_loads, make_pipeline, settle_first_loads
from ingest.wecom import WeComError, source_from_config, wecom_source, windows
from ingest.wecom.archive import _columns, read_columns, read_rows
from ingest.wecom.helpers import KeptAnswers, WeComClient
from tests.support.network import netrc_naming
from tests.support.warehouse import query_file

SECRET = "s3cret-corp-key"  # a self-built app granted every API
APP_SECRETS = {"contact": "s3cret-contact-key", "checkin": "s3cret-checkin-key"}
SECRET_ARGS = {"contact_secret": APP_SECRETS["contact"], "checkin_secret": APP_SECRETS["checkin"]}
TABLES = ("follow_users", "external_contacts", "user_behavior_data", "checkins", "chat_messages")


@pytest.fixture(scope="module")
def org(tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("org")
    manifest = generate(out, seed=9, scale="S", as_of=date(2026, 11, 20))
    return out, manifest


def _standin(org_dir: Path, **kw) -> WeComStandIn:
    return WeComStandIn(org_dir / "wecom", app_secrets=APP_SECRETS, **kw)


def _run(org_dir: Path, base: Path, standin: WeComStandIn, as_a_run=False, **kw) -> Path:
    """One load; ``as_a_run``: as a run makes it, tables not landed yet appended to, then
    settled."""
    pipeline = make_pipeline("wecom", base / "w.duckdb", pipelines_dir=base / "p")
    source = wecom_source(
        corp_id="wwstandin",
        base_url=standin.api_url,
        start_date="2026-06-01",
        end_date="2026-11-20",
        chat_archive_dir=str(org_dir / "chat_archive"),
        retry_base_seconds=0.01,
        **(SECRET_ARGS | kw),
    )
    appended = append_first_loads("wecom", source, base / "w.duckdb") if as_a_run else []
    pipeline.run(source)
    if as_a_run:
        settle_first_loads("wecom", base / "w.duckdb")
        _run.appended = appended
    return base / "w.duckdb"


def _tables(wh: Path) -> dict[str, list[tuple]]:
    con = duckdb.connect(str(wh), read_only=True)
    try:
        out = {}
        for t in TABLES:
            cols = [
                r[0]
                for r in con.execute(f"describe raw_wecom.{t}").fetchall()
                if not r[0].startswith("_dlt")
            ]
            out[t] = con.execute(
                f"select {', '.join(cols)} from raw_wecom.{t} order by all"
            ).fetchall()
        return out
    finally:
        con.close()


def test_full_load_equals_the_org_and_a_rerun_adds_nothing(org, tmp_path):
    org_dir, manifest = org
    with _standin(org_dir) as standin:
        wh = _run(org_dir, tmp_path, standin)
        first = _tables(wh)
        for table in TABLES:
            assert len(first[table]) == manifest["counts"]["wecom"][table], table
        # paging and windows were used as the contract demands
        assert standin.requests["/cgi-bin/externalcontact/batch/get_by_user"] > 10
        assert standin.tokens_issued == 2  # one token per app, each cached
        # the 打卡 app serves start/end-of-work punches too: only field check-ins land
        assert manifest["counts"]["wecom"]["work_punches"] > 0
        assert {row[2] for row in first["checkins"]} == {"外出打卡"}
        asked = [b for p, b in standin.log if p == "/cgi-bin/checkin/getcheckindata"]
        assert asked and {b["opencheckindatatype"] for b in asked} == {2}
        _run(org_dir, tmp_path, standin)
        assert _tables(wh) == first


def test_a_first_load_appends_with_calls_side_by_side_and_equals_one_call_at_a_time(org, tmp_path):
    org_dir, _ = org
    with _standin(org_dir) as standin:
        one_at_a_time = _tables(_run(org_dir, tmp_path / "serial", standin, parallel_requests=1))
        wh = _run(org_dir, tmp_path / "run", standin, as_a_run=True, parallel_requests=4)
        assert set(_run.appended) == {
            "external_contacts",
            "user_behavior_data",
            "checkins",
            "chat_messages",
        }
        assert _tables(wh) == one_at_a_time
        # the next load merges: what it asks again replaces its rows, nothing is doubled
        _run(org_dir, tmp_path / "run", standin, as_a_run=True, parallel_requests=4)
        assert _run.appended == []
        assert _tables(wh) == one_at_a_time


def test_a_field_every_response_lacks_is_recorded_naming_api_and_field(org, tmp_path):
    """The stand-in leaves check-ins' location_title, behaviour data's chat_cnt and
    reply_percentage and contacts' follow_info.remark_mobiles out of every item: after the load
    ops.source_contract names each API and field with what it degrades, and the counts land
    null, never 0; the fields every item has are not reported."""
    from ingest import contracts
    from ingest.pipelines import check_empty

    omit = {
        "checkin/getcheckindata": ("location_title",),
        "externalcontact/get_user_behavior_data": ("chat_cnt", "reply_percentage"),
        "externalcontact/batch/get_by_user": ("follow_info.remark_mobiles",),
    }
    org_dir, _ = org
    with _standin(org_dir, omit_fields=omit) as standin:
        wh = _run(org_dir, tmp_path, standin)
    found = check_empty("wecom", {}, wh)
    assert sorted((f.object, f.column, f.status) for f in found) == [
        ("checkin/getcheckindata", "location_title", contracts.EMPTY),
        ("externalcontact/batch/get_by_user", "follow_info.remark_mobiles", contracts.EMPTY),
        ("externalcontact/get_user_behavior_data", "chat_cnt", contracts.EMPTY),
        ("externalcontact/get_user_behavior_data", "reply_percentage", contracts.EMPTY),
    ]
    assert all(f.degrades for f in found)
    assert sorted(contracts.recorded(wh), key=lambda f: (f.object, f.column)) == sorted(
        found, key=lambda f: (f.object, f.column)
    )
    with duckdb.connect(str(wh), read_only=True) as con:
        rows, replies = con.execute(
            "select count(*), count(reply_percentage) from raw_wecom.user_behavior_data"
        ).fetchone()
    assert rows > 0 and replies == 0


def test_a_field_that_stops_coming_is_recorded_though_earlier_loads_had_it(org, tmp_path):
    """A first load has every field; the next, from a WeCom that no longer sends contacts'
    remark_mobiles and behaviour data's reply_percentage, rewrites only some rows (the
    contacts, the last day's statistics): the check reads the latest load's rows, so both
    fields are recorded as empty although the rows of the first load still hold them."""
    from ingest import contracts
    from ingest.pipelines import check_empty

    org_dir, _ = org
    with _standin(org_dir) as standin:
        wh = _run(org_dir, tmp_path, standin)
    assert check_empty("wecom", {}, wh) == []
    omit = {
        "externalcontact/batch/get_by_user": ("follow_info.remark_mobiles",),
        "externalcontact/get_user_behavior_data": ("reply_percentage",),
    }
    with _standin(org_dir, omit_fields=omit) as standin:
        _run(org_dir, tmp_path, standin)
    found = check_empty("wecom", {}, wh)
    assert sorted((f.object, f.column, f.status) for f in found) == [
        ("externalcontact/batch/get_by_user", "follow_info.remark_mobiles", contracts.EMPTY),
        ("externalcontact/get_user_behavior_data", "reply_percentage", contracts.EMPTY),
    ]
    with duckdb.connect(str(wh), read_only=True) as con:
        kept, loads = con.execute(
            "select count(reply_percentage), count(distinct _dlt_load_id) "
            "from raw_wecom.user_behavior_data"
        ).fetchone()
    assert kept > 0 and loads == 2  # the first load's figures are still there


def test_faults_do_not_change_the_result(org, tmp_path):
    org_dir, _ = org
    with _standin(org_dir) as clean:
        expected = _tables(_run(org_dir, tmp_path / "clean", clean))
    faults = Faults(
        rate=0.12, kinds=("5xx", "busy", "rate_limit", "expired_token", "truncated"), seed=4
    )
    with _standin(org_dir, faults=faults) as flaky:
        got = _tables(_run(org_dir, tmp_path / "flaky", flaky))
        assert sum(faults.injected.values()) >= 10
        assert set(faults.injected) >= {"5xx", "busy", "rate_limit", "expired_token"}
        assert flaky.tokens_issued > 2
    assert got == expected


def test_one_secret_per_app_and_a_token_of_the_wrong_app_is_refused(org, tmp_path):
    """A check-in call with the 客户联系 app's token gets 48002 from WeCom: the run fails naming
    the 打卡 app and the variable to set, and leaks no secret. A secret left unset names its
    variable too; one self-built app granted every API may serve both."""
    org_dir, manifest = org
    with _standin(org_dir) as standin:
        with pytest.raises(Exception) as info:
            _run(org_dir, tmp_path / "swapped", standin, checkin_secret=APP_SECRETS["contact"])
        text = str(info.value)
        assert "checkin/getcheckindata" in text and "48002" in text
        assert "打卡" in text and "SOURCES__WECOM__CHECKIN_SECRET" in text
        assert not any(secret in text for secret in APP_SECRETS.values())
        asked = standin.requests["/cgi-bin/externalcontact/get_follow_user_list"]
        with pytest.raises(Exception) as info:
            _run(org_dir, tmp_path / "unset", standin, contact_secret=None)
        text = str(info.value)
        assert "客户联系" in text and "SOURCES__WECOM__CONTACT_SECRET" in text
        assert standin.requests["/cgi-bin/externalcontact/get_follow_user_list"] == asked
    with WeComStandIn(org_dir / "wecom", corp_secret=SECRET) as shared:
        args = dict.fromkeys(SECRET_ARGS) | {"corp_secret": SECRET}
        wh = _run(org_dir, tmp_path / "shared", shared, **args)
        assert len(_tables(wh)["checkins"]) == manifest["counts"]["wecom"]["checkins"]
        assert shared.tokens_issued == 2  # still a token per app, from the same secret


def test_no_credentials_but_the_token_go_with_a_call(org, tmp_path, monkeypatch):
    """A ~/.netrc (here $NETRC) naming WeCom's host adds nothing to a call: requests would
    send that login as Basic auth with each one. WeCom is asked with the access_token alone."""
    org_dir, manifest = org
    netrc_naming("127.0.0.1", tmp_path, monkeypatch)
    with _standin(org_dir) as standin:
        wh = _run(org_dir, tmp_path / "w", standin)
        assert len(_tables(wh)["checkins"]) == manifest["counts"]["wecom"]["checkins"]
        assert sum(standin.requests.values()) > 10
        assert not standin.authorizations


def test_a_proxy_the_environment_names_does_not_take_the_calls_to_a_standin(
    org, tmp_path, monkeypatch
):
    """A machine that reaches the package registries through a proxy (HTTP_PROXY, here one
    that answers nothing) still runs the demo and the tests: the stand-ins are reached
    directly, and the bypass list keeps what it held."""
    org_dir, manifest = org
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")
    monkeypatch.setenv("NO_PROXY", "crm.internal.example")
    monkeypatch.delenv("no_proxy", raising=False)
    with _standin(org_dir) as standin:
        wh = _run(org_dir, tmp_path / "w", standin)
        assert len(_tables(wh)["checkins"]) == manifest["counts"]["wecom"]["checkins"]
    assert os.environ["no_proxy"] == os.environ["NO_PROXY"] == "crm.internal.example,127.0.0.1"


def test_the_standin_serves_the_kind_of_punch_asked_for(org):
    """opencheckindatatype 1 上下班, 2 外出, 3 全部, as WeCom documents it."""
    org_dir, manifest = org
    counts = manifest["counts"]["wecom"]
    with _standin(org_dir) as standin:
        client = WeComClient(standin.api_url, "wwstandin", APP_SECRETS)
        users = client.get("externalcontact/get_follow_user_list")["follow_user"]
        got: dict[int, list[str]] = {1: [], 2: [], 3: []}
        for kind, types in got.items():
            for first, last in windows(date(2026, 1, 1), date(2026, 11, 20)):
                for i in range(0, len(users), 100):
                    body = {
                        "opencheckindatatype": kind,
                        "starttime": wecom._midnight(first),
                        "endtime": wecom._midnight(last) + 86399,
                        "useridlist": users[i : i + 100],
                    }
                    rows = client.post("checkin/getcheckindata", body)["checkindata"]
                    types.extend(r["checkin_type"] for r in rows)
        with pytest.raises(WeComError, match="40058"):
            client.post("checkin/getcheckindata", body | {"opencheckindatatype": 4})
    assert set(got[1]) == {"上班打卡", "下班打卡"} and set(got[2]) == {"外出打卡"}
    assert len(got[2]) == counts["checkins"] and len(got[1]) == counts["work_punches"]
    assert sorted(got[3]) == sorted(got[1] + got[2])


def test_the_secrets_come_from_the_environment_per_app(org, tmp_path, monkeypatch):
    org_dir, manifest = org
    monkeypatch.setenv("SOURCES__WECOM__CONTACT_SECRET", APP_SECRETS["contact"])
    monkeypatch.setenv("SOURCES__WECOM__CHECKIN_SECRET", APP_SECRETS["checkin"])
    with _standin(org_dir) as standin:
        source = source_from_config(
            {
                "base_url": standin.api_url,
                "corp_id": "wwstandin",
                "start_date": "2026-11-01",
                "end_date": "2026-11-20",
            }
        ).with_resources("checkins", "follow_users")
        pipeline = make_pipeline("wecom", tmp_path / "w.duckdb", pipelines_dir=tmp_path / "p")
        pipeline.run(source)
        assert standin.tokens_issued == 2


FOLLOW = "/cgi-bin/externalcontact/get_follow_user_list"
BEHAVIOUR = "/cgi-bin/externalcontact/get_user_behavior_data"
CHECKIN = "/cgi-bin/checkin/getcheckindata"


def test_a_load_after_its_stamp_asks_wecom_nothing_the_stamp_asked(org, tmp_path, monkeypatch):
    """A run stamps WeCom (``ingest.stamps``), then loads it. On the day after the last load
    and again that day, the load takes the stamp's answers to the calls they share (the reps,
    the statistics and check-ins asked again) instead of asking WeCom, and lands what a load
    that asked them all lands. That load, with no stamp before it, makes exactly the calls the
    stamp made: an answer serves one load only."""
    org_dir, _ = org
    monkeypatch.setenv("SOURCES__WECOM__CONTACT_SECRET", APP_SECRETS["contact"])
    monkeypatch.setenv("SOURCES__WECOM__CHECKIN_SECRET", APP_SECRETS["checkin"])
    events = tmp_path / "events"  # the callback receiver's folder: contacts follow its events
    events.mkdir()
    with _standin(org_dir) as standin:

        def section(end: str) -> dict:
            return {
                "base_url": standin.api_url,
                "corp_id": "wwstandin",
                "start_date": "2026-10-01",
                "end_date": end,
                "contact_events_dir": str(events),
                "chat_archive_dir": str(org_dir / "chat_archive"),
            }

        def asked(during) -> dict[str, int]:
            before = {p: standin.requests[p] for p in (FOLLOW, BEHAVIOUR, CHECKIN)}
            during()
            return {p: standin.requests[p] - n for p, n in before.items()}

        def load(base: Path, end: str) -> None:
            pipeline = make_pipeline("wecom", base / "w.duckdb", pipelines_dir=base / "p")
            pipeline.run(source_from_config(section(end)))

        stamped, fresh = tmp_path / "stamped", tmp_path / "fresh"
        load(stamped, "2026-11-19")
        load(fresh, "2026-11-19")
        for end in ("2026-11-20", "2026-11-20"):  # the next day, then a rerun that day
            by_stamp = asked(lambda end=end: wecom.stamp(section(end)))
            assert by_stamp[FOLLOW] == 1 and by_stamp[BEHAVIOUR] > 10 and by_stamp[CHECKIN] > 0
            assert asked(lambda end=end: load(stamped, end)) == dict.fromkeys(by_stamp, 0)
            assert asked(lambda end=end: load(fresh, end)) == by_stamp
            assert _tables(stamped / "w.duckdb") == _tables(fresh / "w.duckdb")
    on_the_day = query_file(
        stamped / "w.duckdb",
        "select count(*) from raw_wecom.user_behavior_data where stat_date = '2026-11-20'",
    )
    assert on_the_day[0][0] > 0


def test_a_kept_answer_is_given_once_and_not_once_too_old(org):
    org_dir, _ = org
    reps = "externalcontact/get_follow_user_list"
    with _standin(org_dir) as standin:
        client = WeComClient(standin.api_url, "wwstandin", {"contact": APP_SECRETS["contact"]})
        fresh, stale = KeptAnswers(max_age=600), KeptAnswers(max_age=0)
        for kept in (fresh, stale):
            answer, _ = kept.ask(client, "GET", reps, keep=True)
            assert answer["follow_user"]
        calls = standin.requests[FOLLOW]
        assert fresh.ask(client, "GET", reps) == (answer, True)
        assert standin.requests[FOLLOW] == calls
        for kept in (fresh, stale):  # given once already; too old
            assert kept.ask(client, "GET", reps) == (answer, False)
        assert standin.requests[FOLLOW] == calls + 2


BATCH = "/cgi-bin/externalcontact/batch/get_by_user"
DETAIL = "/cgi-bin/externalcontact/get"


def _contacts(wh: Path) -> dict[tuple[str, str], tuple]:
    rows = query_file(
        wh,
        "select external_userid, userid, name, remark, tag_ids, createtime "
        "from raw_wecom.external_contacts",
    )
    return {r[:2]: r[2:] for r in rows}


def _load_contacts(wecom_dir: Path, base: Path, **kw) -> tuple[dict, dict]:
    """One run of the contacts alone; the contacts landed and the contact calls it made."""
    with WeComStandIn(wecom_dir, app_secrets=APP_SECRETS) as standin:
        pipeline = make_pipeline("wecom", base / "w.duckdb", pipelines_dir=base / "p")
        source = wecom_source(
            corp_id="wwstandin",
            base_url=standin.api_url,
            end_date="2026-11-20",
            retry_base_seconds=0.01,
            **(SECRET_ARGS | kw),
        ).with_resources("external_contacts")
        pipeline.run(source)
        calls = {path: standin.requests[path] for path in (BATCH, DETAIL)}
    return _contacts(base / "w.duckdb"), calls


def test_contacts_follow_change_events_and_a_quiet_rerun_pages_nothing(org, tmp_path):
    """With the receiver's events folder: the first run pages through every contact; a rerun
    with no new event makes no contact call; an edit, an add and deletes by either side change
    exactly those rows, one externalcontact/get a changed customer, and leave the table equal
    to a full read of WeCom as it now is."""
    org_dir, _ = org
    wecom_dir, events = tmp_path / "wecom", tmp_path / "events"
    shutil.copytree(org_dir / "wecom", wecom_dir)
    events.mkdir()
    base = tmp_path / "run"
    kw = {"contact_events_dir": str(events), "contacts_full_every_days": 7}
    first, calls = _load_contacts(wecom_dir, base, **kw)
    assert calls[BATCH] > 10 and calls[DETAIL] == 0
    again, calls = _load_contacts(wecom_dir, base, **kw)
    assert again == first and calls == {BATCH: 0, DETAIL: 0}

    lines = [json.loads(x) for x in (wecom_dir / "contacts.jsonl").read_text().splitlines()]
    edited, dropped, left, moved = lines[0], lines[5], lines[9], lines[12]
    pair = lambda c: (c["external_contact"]["external_userid"], c["follow_info"]["userid"])  # noqa: E731
    assert len({pair(c) for c in (edited, dropped, left, moved)}) == 4
    edited["follow_info"]["remark"] = "新备注"
    edited["follow_info"]["tag_id"] = ["etVIP"]
    added = json.loads(json.dumps(edited))
    added["external_contact"]["external_userid"] = "wmNEWCUSTOMER0001"
    kept = [c for c in lines if c is not dropped and c is not left]
    (wecom_dir / "contacts.jsonl").write_text(
        "".join(json.dumps(c, ensure_ascii=False) + "\n" for c in [*kept, added]), "utf-8"
    )
    at = 1_795_000_000
    store_contact_event(events, "edit_external_contact", *reversed(pair(edited)), at)
    store_contact_event(events, "add_external_contact", *reversed(pair(added)), at + 1)
    store_contact_event(events, "del_external_contact", *reversed(pair(dropped)), at + 2)
    store_contact_event(events, "del_follow_user", *reversed(pair(left)), at + 3)
    # an edit later deleted: the last event wins, the row goes
    store_contact_event(events, "edit_external_contact", *reversed(pair(moved)), at + 4)
    store_contact_event(events, "del_external_contact", *reversed(pair(moved)), at + 5)

    after, calls = _load_contacts(wecom_dir, base, **kw)
    assert calls == {BATCH: 0, DETAIL: 2}  # the edited and the added customer
    assert after[pair(edited)][1:3] == ("新备注", "etVIP")
    assert pair(added) in after
    assert pair(dropped) not in after and pair(left) not in after and pair(moved) not in after
    assert len(after) == len(first) - 2  # one added, three deleted
    assert {k: v for k, v in after.items() if k != pair(edited)} == {
        k: v
        for k, v in first.items()
        if k not in (pair(edited), pair(dropped), pair(left), pair(moved))
    } | {pair(added): after[pair(added)]}
    again, calls = _load_contacts(wecom_dir, base, **kw)
    assert again == after and calls == {BATCH: 0, DETAIL: 0}


def test_contacts_are_paged_through_every_n_days_and_deletes_without_events_go(org, tmp_path):
    """A contact deleted while no receiver stored its event leaves at the next full read:
    ``contacts_full_every_days`` 0 pages through on every run, and the result equals a fresh
    load; without an events folder every run pages through."""
    org_dir, _ = org
    wecom_dir, events = tmp_path / "wecom", tmp_path / "events"
    shutil.copytree(org_dir / "wecom", wecom_dir)
    events.mkdir()
    kw = {"contact_events_dir": str(events), "contacts_full_every_days": 0}
    first, _ = _load_contacts(wecom_dir, tmp_path / "run", **kw)
    lines = (wecom_dir / "contacts.jsonl").read_text().splitlines(keepends=True)
    (wecom_dir / "contacts.jsonl").write_text("".join(lines[3:]), "utf-8")
    after, calls = _load_contacts(wecom_dir, tmp_path / "run", **kw)
    assert calls[BATCH] > 10
    fresh, _ = _load_contacts(wecom_dir, tmp_path / "fresh")
    assert after == fresh and len(after) == len(first) - 3
    again, calls = _load_contacts(wecom_dir, tmp_path / "fresh")
    assert again == fresh and calls[BATCH] > 10


def test_a_broken_contact_event_names_file_and_byte(org, tmp_path):
    org_dir, _ = org
    events = tmp_path / "events"
    store_contact_event(events, "edit_external_contact", "u1", "wm1", 1_795_000_000)
    path = next(events.glob("*.jsonl"))
    size = path.stat().st_size
    with path.open("a", encoding="utf-8") as fh:
        fh.write('{"Event": "change_external_contact", "ChangeType": "edit_external_contact"}\n')
    kw = {"contact_events_dir": str(events), "contacts_full_every_days": 7}
    with pytest.raises(Exception, match=rf"{path.name} at byte {size}: .* without UserID"):
        _load_contacts(org_dir / "wecom", tmp_path / "run", **kw)


def _load_archive(standin: WeComStandIn, archive: Path, base: Path, **kw) -> int:
    """Load the chat archive alone into ``base/w.duckdb`` (pipeline state in ``base/p``);
    the messages the table then holds."""
    pipeline = make_pipeline("wecom", base / "w.duckdb", pipelines_dir=base / "p")
    pipeline.run(
        wecom_source(
            corp_id="wwstandin",
            corp_secret=SECRET,
            base_url=standin.api_url,
            chat_archive_dir=str(archive),
            retry_base_seconds=0.01,
            **kw,
        ).with_resources("chat_messages")
    )
    con = duckdb.connect(str(base / "w.duckdb"), read_only=True)
    try:
        return con.execute("select count(*) from raw_wecom.chat_messages").fetchone()[0]
    finally:
        con.close()


def test_new_messages_load_alone(org, tmp_path):
    org_dir, _ = org
    archive = tmp_path / "archive"
    archive.mkdir()
    source_files = sorted((org_dir / "chat_archive").glob("*.jsonl"))
    for f in source_files[:-1]:
        (archive / f.name).write_bytes(f.read_bytes())
    window = {"start_date": "2026-11-01", "end_date": "2026-11-20"}
    with WeComStandIn(org_dir / "wecom", corp_secret=SECRET) as standin:
        before = _load_archive(standin, archive, tmp_path, **window)
        (archive / source_files[-1].name).write_bytes(source_files[-1].read_bytes())
        after = _load_archive(standin, archive, tmp_path, **window)
    added = sum(1 for _ in source_files[-1].open(encoding="utf-8"))
    assert after == before + added


def test_unchanged_archive_files_are_not_read_again(org, tmp_path):
    """A file read before and unchanged since (size, mtime) is skipped: garbage put in its
    place with the same size and mtime goes unnoticed; a file that changed is read again, its
    new lines loaded once."""
    org_dir, _ = org
    archive = tmp_path / "archive"
    archive.mkdir()
    files = sorted((org_dir / "chat_archive").glob("*.jsonl"))
    assert len(files) >= 3
    for f in files:
        (archive / f.name).write_bytes(f.read_bytes())
    with WeComStandIn(org_dir / "wecom", corp_secret=SECRET) as standin:

        def run() -> int:
            return _load_archive(standin, archive, tmp_path)

        first = run()
        old = archive / files[0].name
        stat = old.stat()
        old.write_bytes(b"x" * stat.st_size)  # not JSON: reading it would fail
        os.utime(old, ns=(stat.st_atime_ns, stat.st_mtime_ns))
        assert run() == first
        # the newest file grows by one message: only that file is read again
        newest = archive / files[-1].name
        last = newest.read_text(encoding="utf-8").splitlines()[-1]
        top = max(
            json.loads(line)["seq"]
            for f in files
            for line in f.read_text(encoding="utf-8").splitlines()
        )
        extra = json.loads(last) | {"seq": top + 1, "msgid": "extra-message-1"}
        with newest.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(extra, ensure_ascii=False) + "\n")
        assert run() == first + 1
        # and a changed file that is broken is named, not skipped
        old.touch()
        with pytest.raises(Exception, match=files[0].name):
            run()


def test_an_archive_file_that_grew_is_parsed_from_where_it_was_read(org, tmp_path, caplog):
    """A month's file that only grew since it was read: only the appended bytes are parsed,
    and the table equals a fresh load of the same files; one written again with the same bytes
    is not parsed. A file whose earlier bytes changed as it grew is read whole (a line broken
    there is named)."""
    org_dir, _ = org
    archive = tmp_path / "archive"
    archive.mkdir()
    files = sorted((org_dir / "chat_archive").glob("*.jsonl"))
    for f in files:
        (archive / f.name).write_bytes(f.read_bytes())
    newest = archive / files[-1].name
    lines = newest.read_text(encoding="utf-8").splitlines(keepends=True)
    top = max(json.loads(line)["seq"] for f in files for line in f.open(encoding="utf-8"))

    def grow(n: int) -> None:
        with newest.open("a", encoding="utf-8") as fh:
            for i in range(n):
                extra = json.loads(lines[-1]) | {"seq": top + 1 + i, "msgid": f"grown-{top + i}"}
                fh.write(json.dumps(extra, ensure_ascii=False) + "\n")

    def messages(base: Path) -> list[tuple]:
        return query_file(base / "w.duckdb", "select * exclude (_dlt_load_id) "
                          "from raw_wecom.chat_messages order by msgid")  # fmt: skip

    with WeComStandIn(org_dir / "wecom", corp_secret=SECRET) as standin:
        first = _load_archive(standin, archive, tmp_path / "run")
        grow(2)
        caplog.clear()
        with caplog.at_level(logging.INFO, logger="ingest.wecom.archive"):
            assert _load_archive(standin, archive, tmp_path / "run") == first + 2
        appended = len(newest.read_bytes()) - sum(len(line.encode()) for line in lines)
        assert f"{newest.name}: {appended} bytes appended since it was read" in caplog.text
        _load_archive(standin, archive, tmp_path / "fresh")
        assert messages(tmp_path / "run") == messages(tmp_path / "fresh")
        # an older month written again with the same bytes (a later time): not parsed
        older = archive / files[0].name
        older.write_bytes(older.read_bytes())
        os.utime(older, ns=(older.stat().st_atime_ns, older.stat().st_mtime_ns + 10**9))
        caplog.clear()
        with caplog.at_level(logging.INFO, logger="ingest.wecom.archive"):
            assert _load_archive(standin, archive, tmp_path / "run") == first + 2
        assert f"{older.name}: the same bytes as when it was read, not parsed" in caplog.text
        # an earlier line broken in place (as many bytes), the file grown by one more
        # message: read whole, and named
        data = newest.read_bytes().splitlines(keepends=True)
        data[1] = b"{" + b"x" * (len(data[1]) - 2) + b"\n"
        newest.write_bytes(b"".join(data))
        top += 2
        grow(1)
        with pytest.raises(Exception, match=rf"{newest.name} line 2: not JSON"):
            _load_archive(standin, archive, tmp_path / "run")


def test_an_archive_file_parsed_ahead_keeps_only_what_lies_past_the_cursor(org, tmp_path):
    """Each file is parsed while the one before is loaded, past the cursor as it stood before
    that one: what it holds at or below the cursor it is handed on at (the one before's highest
    seq) is left out, as when the files were read one after the other."""
    org_dir, _ = org
    template = json.loads(next((org_dir / "chat_archive").glob("*.jsonl")).open().readline())
    archive = tmp_path / "archive"
    archive.mkdir()

    def write(name: str, seqs: list[int]) -> None:
        lines = [template | {"seq": n, "msgid": f"m{n}"} for n in seqs]
        (archive / name).write_text(
            "".join(json.dumps(m, ensure_ascii=False) + "\n" for m in lines), encoding="utf-8"
        )

    write("chat_2026-01.jsonl", [1, 2, 3, 10])
    write("chat_2026-02.jsonl", [4, 5, 11, 12])  # 4 and 5: below the first file's highest
    write("chat_2026-03.jsonl", [6, 13])
    with WeComStandIn(org_dir / "wecom", corp_secret=SECRET) as standin:
        assert _load_archive(standin, archive, tmp_path / "run") == 7
        write("chat_2026-03.jsonl", [6, 13, 14])  # grown: parsed from where it was read
        assert _load_archive(standin, archive, tmp_path / "run") == 8
    seqs = query_file(tmp_path / "run" / "w.duckdb", "select seq from raw_wecom.chat_messages")
    assert sorted(s for (s,) in seqs) == [1, 2, 3, 10, 11, 12, 13, 14]


def test_wrong_secret_fails_clearly_without_leaking_it(org, tmp_path):
    org_dir, _ = org
    with (
        WeComStandIn(org_dir / "wecom", corp_secret="the-right-one") as standin,
        pytest.raises(Exception) as info,
    ):
        _run(org_dir, tmp_path, standin)
    text = str(info.value)
    assert "gettoken" in text and "40001" in text and "SOURCES__WECOM__CONTACT_SECRET" in text
    assert not any(secret in text for secret in APP_SECRETS.values())


def test_secret_in_config_is_refused_and_windows_are_30_days():
    with pytest.raises(ValueError, match="SOURCES__WECOM__CORP_SECRET"):
        source_from_config({"corp_id": "ww1", "corp_secret": "x"})
    with pytest.raises(ValueError, match="SOURCES__WECOM__CHECKIN_SECRET"):
        source_from_config({"corp_id": "ww1", "checkin_secret": "x"})
    parts = list(windows(date(2026, 1, 1), date(2026, 3, 11)))
    assert len(parts) == 3 and all((b - a).days <= 29 for a, b in parts)
    assert parts[0][0] == date(2026, 1, 1) and parts[-1][1] == date(2026, 3, 11)


def test_chat_archive_with_a_broken_line_names_file_and_line(tmp_path, org):
    org_dir, _ = org
    archive = tmp_path / "archive"
    archive.mkdir()
    (archive / "chat_2026-11.jsonl").write_text(
        json.dumps({"seq": 1, "msgid": "a", "msgtime": 1, "from": "x", "tolist": []}) + "\n{oops\n",
        encoding="utf-8",
    )
    with WeComStandIn(org_dir / "wecom", corp_secret=SECRET) as standin:
        pipeline = make_pipeline("wecom", tmp_path / "w.duckdb", pipelines_dir=tmp_path / "p")
        source = wecom_source(
            corp_id="wwstandin",
            corp_secret=SECRET,
            base_url=standin.api_url,
            chat_archive_dir=str(archive),
        ).with_resources("chat_messages")
        with pytest.raises(Exception, match=r"chat_2026-11.jsonl line 2"):
            pipeline.run(source)


def _same(got: pa.Table | None, expected: pa.Table | None) -> None:
    assert (got is None) == (expected is None)
    if expected is not None:
        assert got.schema.equals(expected.schema)
        assert got.equals(expected)
        assert got.to_pylist() == expected.to_pylist()


def test_chat_archive_columnar_equals_row_by_row(org, tmp_path, monkeypatch):
    org_dir, _ = org
    files = sorted((org_dir / "chat_archive").glob("*.jsonl"))
    assert len(files) > 3
    for path in files:
        data = path.read_bytes()
        expected = read_rows(path)
        fast = _columns(data, 0)
        assert isinstance(fast, pa.Table), path.name  # no line-by-line fallback
        _same(fast, expected)
        middle = expected["seq"][expected.num_rows // 2].as_py()
        _same(_columns(data, middle), read_rows(path, middle))
        assert _columns(data, expected["seq"][-1].as_py()) is None
    # every kind of message, optional keys absent, null or empty, unknown keys ignored
    lines = [
        {
            "seq": 1,
            "msgid": "m1",
            "action": "send",
            "from": "rep1",
            "tolist": ["wm1"],
            "roomid": "",
            "msgtime": 1763600000123,
            "msgtype": "text",
            "text": {"content": "您好，方案已发"},
        },
        {
            "seq": 2,
            "msgid": "m2",
            "action": "send",
            "from": "wm1",
            "tolist": ["rep1", "rep2"],
            "roomid": "wr1",
            "msgtime": 1763600001000,
            "msgtype": "file",
            "file": {"filename": "产品方案.pdf", "filesize": 123456, "md5sum": "ab" * 16},
        },
        {
            "seq": 3,
            "msgid": "m3",
            "action": "send",
            "from": "rep1",
            "tolist": ["wm1"],
            "msgtime": 1763600002000,
            "msgtype": "link",
            "link": {
                "title": "报价",
                "description": "",
                "link_url": "https://example.cn/q?id=1",
                "image_url": "https://example.cn/i.png",
            },
        },
        {
            "seq": 4,
            "msgid": "m4",
            "action": "recall",
            "from": "rep1",
            "msgtime": 1763600003000,
            "msgtype": "revoke",
            "revoke": {"pre_msgid": "m1"},
        },
        {
            "seq": 5,
            "msgid": "m5",
            "from": "rep1",
            "tolist": [],
            "roomid": None,
            "msgtime": -1500,
            "msgtype": "text",
            "text": None,
            "file": {},
            "link": {},
        },
        {"seq": 6, "msgid": "m6", "msgtime": 0, "text": {}, "extra": [1, {"a": [2.5, None]}]},
        {"seq": 0, "msgid": "seq-0"},
    ]
    mixed = tmp_path / "chat_2026-11.jsonl"
    body = "\n".join(json.dumps(m, ensure_ascii=False) for m in lines)
    mixed.write_text(body + "\n\n", encoding="utf-8")
    fast = _columns(mixed.read_bytes(), 0)
    assert isinstance(fast, pa.Table)
    _same(fast, read_rows(mixed))
    rows = {r["msgid"]: r for r in fast.to_pylist()}
    assert set(rows) == {"m1", "m2", "m3", "m4", "m5", "m6"}
    assert rows["m1"]["content"] == "您好，方案已发" and rows["m1"]["roomid"] is None
    assert rows["m2"]["recipients"] == "rep1,rep2" and rows["m2"]["roomid"] == "wr1"
    assert (rows["m2"]["file_name"], rows["m2"]["file_size"]) == ("产品方案.pdf", 123456)
    assert rows["m3"]["link_url"] == "https://example.cn/q?id=1" and rows["m3"]["content"] is None
    assert rows["m4"]["recipients"] == "" and rows["m4"]["file_name"] is None
    assert rows["m1"]["msgtime"].microsecond == 123000
    for after in range(7):
        _same(_columns(mixed.read_bytes(), after), read_rows(mixed, after))
    # the resource yields the same rows in bounded tables
    archive = tmp_path / "archive"
    archive.mkdir()
    for path in files[:3]:
        (archive / path.name).write_bytes(path.read_bytes())
    monkeypatch.setattr(wecom, "CHUNK_ROWS", 500)
    # the resource keeps its cursor in the active pipeline's state: give it a fresh one,
    # not whichever pipeline an earlier test on this worker left active
    dlt.pipeline(pipeline_name="archive_chunks", pipelines_dir=str(tmp_path / "pipelines"))
    tables = list(wecom.chat_messages(archive))
    assert len(tables) > 3 and all(t.num_rows <= 500 for t in tables)
    _same(pa.concat_tables(tables), pa.concat_tables([read_rows(p) for p in files[:3]]))


_A = '{"seq": 1, "msgid": "a", "msgtime": 1}'
_B = '{"seq": 2, "msgid": "b", "msgtime": 2}'


@pytest.mark.parametrize(
    ("body", "error"),
    [
        # valid for the line-by-line reader, unusual for the columnar one
        (f"{_A}\r\n{_B}\r\n", None),
        (f"{_A}\n   \n\t\n {_B}", None),
        ('{"seq": 1, "msgid": "a", "msgtime": "1700000000000", "tolist": "ab"}\n', None),
        ('{"seq": 1, "msgid": "a", "msgtime": 1, "file": {"filesize": 2.0}}\n', None),
        ('{"seq": 1, "seq": 2, "msgid": "a", "msgtime": 1, "x": NaN}\n', None),
        ('{"seq": 1, "msgtime": 1}\n', None),
        (f'{_A}\n{{"msgid": "no-seq"}}\n', None),
        ('{"seq": 1, "msgid": "a", "msgtime": 253402300799000}\n', None),
        ("\n\n", None),
        ("", None),
        # broken: the line-by-line reader names the line
        (f"{_A}\n{_B}{{}}\n", "line 2"),
        (f'{_A}\n{{"seq": 2,\n"msgid": "b", "msgtime": 2}}\n', "line 2"),
        (f"\ufeff{_A}\n", "line 1"),
        (f"{_A}\n\n{{oops\n", "line 3"),
    ],
)
def test_chat_archive_unusual_files_are_read_line_by_line(tmp_path, body, error):
    path = tmp_path / "chat_2026-11.jsonl"
    path.write_text(body, encoding="utf-8")
    if body.strip():
        assert _columns(path.read_bytes(), 0) is False
    if error is None:
        _same(read_columns(path), read_rows(path))
    else:
        with pytest.raises(WeComError, match=rf"chat_2026-11.jsonl {error}: not JSON"):
            read_columns(path)


def test_chat_archive_that_is_not_utf8_fails_as_before(tmp_path):
    path = tmp_path / "chat_2026-11.jsonl"
    path.write_bytes(b'{"seq": 1, "msgid": "a", "msgtime": 1, "text": {"content": "\xff"}}\n')
    assert _columns(path.read_bytes(), 0) is False
    with pytest.raises(UnicodeDecodeError):
        read_columns(path)
