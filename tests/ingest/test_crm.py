"""The CRM source against a fixture org: export folder and REST API (a local Salesforce stand-in
on 127.0.0.1), incremental merges, faults, a killed load, and bad export files."""

from __future__ import annotations

import copy
import csv
import importlib.util
import logging
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest
from dlt.pipeline.exceptions import PipelineStepFailed

from devkit.standins.base import Faults, Request, Response, StandIn
from devkit.standins.salesforce import SalesforceStandIn
from ingest.crm import CrmApiError, crm_source, source_from_config
from ingest.crm.helpers import RetryPolicy, SalesforceClient, object_specs, read_export_file
from ingest.pipelines import append_first_loads, make_pipeline, settle_first_loads
from tests.support.network import netrc_naming


def _load_fixture_module():
    # tests/ is not a package: load the shared fixture builder by path
    path = Path(__file__).resolve().parents[1] / "fixtures" / "crm_org.py"
    spec = importlib.util.spec_from_file_location("crm_org_fixture", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


crm_org = _load_fixture_module()

CLIENT_ID = "test-client-id"
CLIENT_SECRET = "test-client-secret"
FAST_RETRY = {"retry_base_seconds": 0.01, "retry_max_seconds": 0.05, "retry_budget_seconds": 20}
TABLES = [s.table for s in object_specs().values()]


# -- helpers -------------------------------------------------------------------------------------


@dataclass
class CleanLoad:
    """The fixture org as first built, and the warehouse of one clean export-folder load."""

    org: object
    warehouse: Path
    loaded: dict[str, int]
    snapshot: dict


@pytest.fixture(scope="module")
def clean(tmp_path_factory) -> CleanLoad:
    base = tmp_path_factory.mktemp("crm_clean")
    org = crm_org.build_org(base / "export")
    pipeline = run(crm_source(export_dir=str(org.export_dir)), base / "clean.duckdb")
    wh = base / "clean.duckdb"
    return CleanLoad(org, wh, loaded_rows(pipeline), snapshot(wh))


@pytest.fixture
def org(clean, tmp_path):
    """A private copy of the clean org (tests edit it)."""
    shutil.copytree(clean.org.export_dir, tmp_path / "export")
    org = copy.deepcopy(clean.org)
    org.export_dir = tmp_path / "export"
    return org


def standin(export_dir: Path, **kw) -> SalesforceStandIn:
    return SalesforceStandIn(export_dir, client_id=CLIENT_ID, client_secret=CLIENT_SECRET, **kw)


def api_source(sf: SalesforceStandIn, **kw):
    return crm_source(
        instance_url=sf.base_url,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        **FAST_RETRY,
        **kw,
    )


def run(source, warehouse: Path):
    pipeline = make_pipeline("crm", warehouse, warehouse.parent / f".{warehouse.stem}_pipelines")
    pipeline.run(source)
    return pipeline


def loaded_rows(pipeline) -> dict[str, int]:
    """Rows the last run wrote per raw table (dlt's own bookkeeping tables left out)."""
    info = pipeline.last_trace.last_normalize_info
    counts = info.row_counts if info else {}
    return {t: n for t, n in counts.items() if not t.startswith("_dlt")}


def snapshot(warehouse: Path) -> dict[str, tuple[list, list]]:
    """Every raw_crm table: its (column, type) list and its rows ordered by id."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        cols = con.sql(
            "select table_name, column_name, data_type from information_schema.columns "
            "where table_schema = 'raw_crm' and table_name not like '_dlt%' "
            "order by table_name, ordinal_position"
        ).fetchall()
        out = {}
        for table in sorted({c[0] for c in cols}):
            rows = con.sql(f"select * from raw_crm.{table} order by id").fetchall()
            out[table] = ([(c[1], c[2]) for c in cols if c[0] == table], rows)
        return out


def clone_warehouse(clean: CleanLoad, tmp_path: Path) -> Path:
    """A copy of the clean load's warehouse and pipeline state, to continue incrementally."""
    wh = tmp_path / "w.duckdb"
    shutil.copy(clean.warehouse, wh)
    src = clean.warehouse.parent / f".{clean.warehouse.stem}_pipelines"
    shutil.copytree(src, tmp_path / f".{wh.stem}_pipelines")
    return wh


def counts(snap) -> dict[str, int]:
    return {t: len(rows) for t, (_, rows) in snap.items()}


def assert_no_duplicate_ids(warehouse: Path) -> None:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        tables = con.execute(
            "select table_name from information_schema.tables "
            "where table_schema = 'raw_crm' and table_name not like '_dlt%'"
        ).fetchall()
        assert tables
        for (table,) in tables:
            n, distinct = con.execute(
                f"select count(*), count(distinct id) from raw_crm.{table}"
            ).fetchall()[0]
            assert n == distinct, table


# -- whole org, both ways in -----------------------------------------------------------------------


def test_export_folder_loads_every_object_with_typed_columns(clean):
    org, snap = clean.org, clean.snapshot
    assert clean.loaded == org.counts()
    assert counts(snap) == org.counts()
    types = {t: dict(cols) for t, (cols, _) in snap.items()}
    assert types["opportunities"]["amount"] == "DECIMAL(18,2)"
    assert types["opportunities"]["probability"] == "DOUBLE"
    assert types["opportunities"]["close_date"] == "DATE"
    assert types["opportunities"]["is_won"] == "BOOLEAN"
    assert types["opportunities"]["next_step_date_c"] == "DATE"
    assert types["tasks"]["system_modstamp"] == "TIMESTAMP WITH TIME ZONE"
    assert types["tasks"]["call_duration_in_seconds"] == "BIGINT"
    assert types["content_versions"]["evidence_type_c"] == "VARCHAR"
    assert types["lead_history"]["created_date"] == "TIMESTAMP WITH TIME ZONE"
    # column order follows the object's field list
    assert [c for c, _ in snap["users"][0]] == [
        "id", "name", "username", "email", "manager_id", "is_active",
        "created_date", "last_modified_date", "system_modstamp",
    ]  # fmt: skip
    # values: Chinese text, embedded quotes, commas and line breaks survive; empty = null
    task = next(r for r in org.records["Task"] if r["Description"] and "\n" in r["Description"])
    with duckdb.connect(str(clean.warehouse), read_only=True) as con:
        got = con.execute(
            "select description, completed_date_time from raw_crm.tasks where id = ?", [task["Id"]]
        ).fetchall()[0]
    assert got[0] == task["Description"]
    assert got[1] == task["CompletedDateTime"]


def test_rest_api_lands_the_same_tables_as_the_export(clean, org, tmp_path):
    with standin(org.export_dir, page_size=40) as sf:
        pipeline = run(api_source(sf), tmp_path / "api.duckdb")
        pages = sum(n for p, n in sf.requests.items() if "/query" in p)
    assert loaded_rows(pipeline) == org.counts()
    assert pages > len(TABLES)  # paged through nextRecordsUrl
    assert snapshot(tmp_path / "api.duckdb") == clean.snapshot


def test_an_org_without_some_fields_lands_them_empty_both_ways(org, tmp_path):
    # custom fields differ between orgs: an export without the column, an org without the field
    _rewrite(org.export_dir / "ContentVersion.csv", drop="Evidence_Type__c")
    _rewrite(org.export_dir / "Opportunity.csv", drop="Next_Step_Date__c")
    objects = ["ContentVersion", "Opportunity"]
    run(crm_source(export_dir=str(org.export_dir), objects=objects), tmp_path / "e.duckdb")
    with standin(org.export_dir) as sf:
        run(api_source(sf, objects=objects), tmp_path / "api.duckdb")
    snap = snapshot(tmp_path / "api.duckdb")
    assert snap == snapshot(tmp_path / "e.duckdb")
    evidence = dict(snap["content_versions"][0])["evidence_type_c"]
    assert evidence == "VARCHAR"
    with duckdb.connect(str(tmp_path / "api.duckdb"), read_only=True) as con:
        filled = con.execute(
            "select count(evidence_type_c), count(*) from raw_crm.content_versions"
        ).fetchall()[0]
    assert filled == (0, 50)

    # a required field the org lacks is named
    _rewrite(org.export_dir / "Opportunity.csv", drop="StageName")
    with standin(org.export_dir) as sf, pytest.raises(PipelineStepFailed) as exc:
        run(api_source(sf, objects=["Opportunity"]), tmp_path / "api2.duckdb")
    assert "Opportunity has no field StageName in this org" in str(exc.value)


# -- incremental -------------------------------------------------------------------------------


def test_export_rerun_adds_nothing_and_a_newer_export_merges_only_changes(clean, org, tmp_path):
    wh = clone_warehouse(clean, tmp_path)
    again = run(crm_source(export_dir=str(org.export_dir)), wh)
    assert loaded_rows(again) == {}

    changes = crm_org.change_org(org, now=datetime(2026, 3, 3, 8, 0, 0, 123000, tzinfo=UTC))
    newer = run(crm_source(export_dir=str(org.export_dir)), wh)
    expected = {t: len(c["changed"]) + len(c["added"]) for t, c in changes.items()}
    assert loaded_rows(newer) == expected
    snap = snapshot(wh)
    assert counts(snap) == org.counts()
    assert_no_duplicate_ids(wh)
    changed_user = changes["users"]["changed"][0]
    with duckdb.connect(str(wh), read_only=True) as con:
        name = con.execute(
            "select name from raw_crm.users where id = ?", [changed_user]
        ).fetchall()[0][0]
    assert name == "changed 08:00"
    assert loaded_rows(run(crm_source(export_dir=str(org.export_dir)), wh)) == {}


def _first_load(export_dir: Path, warehouse: Path):
    """A load as a run makes it: tables not landed yet appended to, then settled."""
    source = crm_source(export_dir=str(export_dir))
    appended = append_first_loads("crm", source, warehouse)
    pipeline = run(source, warehouse)
    settle_first_loads("crm", warehouse)
    return appended, pipeline


def test_a_first_load_appends_keeps_the_row_a_merge_keeps_and_the_next_load_merges(
    clean, org, tmp_path
):
    # a task exported twice: the newer copy first, an older one after it (the merge keeps the
    # newer, by SystemModstamp)
    tasks = org.export_dir / "Task.csv"
    with tasks.open(newline="", encoding="utf-8") as fh:
        first_row = next(csv.DictReader(fh))
    older = {**first_row, "Subject": "an older copy", "SystemModstamp": "2020-01-01T00:00:00.000Z"}
    with tasks.open("a", newline="", encoding="utf-8") as fh:
        csv.DictWriter(fh, fieldnames=list(first_row), quoting=csv.QUOTE_ALL).writerow(older)

    wh = tmp_path / "first.duckdb"
    appended, pipeline = _first_load(org.export_dir, wh)
    assert set(appended) == set(TABLES)
    assert loaded_rows(pipeline)["tasks"] == clean.loaded["tasks"] + 1
    assert_no_duplicate_ids(wh)
    assert snapshot(wh) == clean.snapshot  # what one merge of the same export leaves
    with duckdb.connect(str(wh), read_only=True) as con:
        assert not con.execute(
            "select 1 from ops.run_state where key like 'first_load:%'"
        ).fetchall()

    # the next load merges: changed records replace their rows, a rerun adds nothing
    changes = crm_org.change_org(org, now=datetime(2026, 3, 3, 8, 0, 0, 123000, tzinfo=UTC))
    appended, newer = _first_load(org.export_dir, wh)
    assert appended == []
    assert loaded_rows(newer)["users"] == len(changes["users"]["changed"]) + len(
        changes["users"]["added"]
    )
    assert counts(snapshot(wh)) == org.counts()
    assert_no_duplicate_ids(wh)
    (tmp_path / "merged").mkdir()
    merged_only = clone_warehouse(clean, tmp_path / "merged")
    run(crm_source(export_dir=str(org.export_dir)), merged_only)
    assert snapshot(wh) == snapshot(merged_only)
    assert loaded_rows(_first_load(org.export_dir, wh)[1]) == {}


def test_an_export_file_unchanged_since_its_last_read_is_not_read_again(clean, org, tmp_path):
    wh = clone_warehouse(clean, tmp_path)
    tasks = org.export_dir / "Task.csv"
    stat = tasks.stat()
    # the same name, size and time, but bytes no reader could parse: only a read would notice
    tasks.write_bytes(b"\xff" * stat.st_size)
    os.utime(tasks, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert loaded_rows(run(crm_source(export_dir=str(org.export_dir)), wh)) == {}
    os.utime(tasks, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    with pytest.raises(PipelineStepFailed):
        run(crm_source(export_dir=str(org.export_dir)), wh)


def test_api_rerun_adds_nothing_and_loads_only_changed_records(org, tmp_path):
    wh = tmp_path / "w.duckdb"
    with standin(org.export_dir, page_size=50) as sf:
        run(api_source(sf), wh)
        assert loaded_rows(run(api_source(sf), wh)) == {}
        changes = crm_org.change_org(org, now=datetime(2026, 3, 3, 8, 0, tzinfo=UTC))
        newer = run(api_source(sf), wh)
    assert loaded_rows(newer) == {
        t: len(c["changed"]) + len(c["added"]) for t, c in changes.items()
    }
    assert counts(snapshot(wh)) == org.counts()
    assert_no_duplicate_ids(wh)
    # the same org read from the (newer) export folder is the same warehouse
    run(crm_source(export_dir=str(org.export_dir)), tmp_path / "e.duckdb")
    assert snapshot(wh) == snapshot(tmp_path / "e.duckdb")


# -- faults --------------------------------------------------------------------------------------


def test_api_under_faults_ends_with_the_tables_of_a_clean_run(clean, org, tmp_path):
    faults = Faults(rate=0.1, kinds=("5xx", "rate_limit", "expired_token", "truncated"), seed=0)
    with standin(org.export_dir, faults=faults, page_size=10) as sf:
        wh = tmp_path / "faulty.duckdb"
        pipeline = run(api_source(sf), wh)
        tokens = sf.tokens_issued
    assert set(faults.injected) == {"5xx", "rate_limit", "expired_token", "truncated"}
    assert tokens == 1 + faults.injected["expired_token"]
    assert loaded_rows(pipeline) == org.counts()
    assert snapshot(wh) == clean.snapshot
    assert_no_duplicate_ids(wh)


def test_slow_answers_still_load(org, tmp_path):
    faults = Faults(rate=0.3, kinds=("slow",), seed=1, slow_seconds=0.05)
    with standin(org.export_dir, faults=faults) as sf:
        pipeline = run(api_source(sf, objects=["User", "Lead"]), tmp_path / "w.duckdb")
    assert faults.injected["slow"] > 0
    assert loaded_rows(pipeline) == {"users": 12, "leads": 120}


def test_rate_limit_beyond_the_retry_budget_fails_naming_the_endpoint(org, tmp_path):
    faults = Faults(rate=1.0, kinds=("rate_limit",))
    with standin(org.export_dir, faults=faults) as sf:
        source = crm_source(
            instance_url=sf.base_url,
            client_id=CLIENT_ID,
            client_secret=CLIENT_SECRET,
            objects="User",
            retry_base_seconds=0.01,
            retry_max_seconds=0.02,
            retry_budget_seconds=0.3,
        )
        with pytest.raises(PipelineStepFailed) as exc:
            run(source, tmp_path / "w.duckdb")
    msg = str(exc.value)
    assert "GET " in msg and "/services/data/v62.0/sobjects/User/describe" in msg
    assert "REQUEST_LIMIT_EXCEEDED" in msg and "retry budget" in msg
    assert isinstance(exc.value.__cause__.__cause__, CrmApiError)


def test_bad_credentials_fail_clearly_without_leaking_them(org, tmp_path):
    with standin(org.export_dir) as sf:
        source = crm_source(
            instance_url=sf.base_url, client_id=CLIENT_ID, client_secret="wrong-secret-xyz"
        )
        with pytest.raises(PipelineStepFailed) as exc:
            run(source, tmp_path / "w.duckdb")
    msg = str(exc.value)
    assert "/services/oauth2/token" in msg and "invalid_client" in msg
    assert "wrong-secret-xyz" not in msg


def test_username_password_flow(org, tmp_path):
    with SalesforceStandIn(
        org.export_dir,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        username="ops@example.com",
        password="pw+token",
    ) as sf:
        source = api_source(sf, username="ops@example.com", password="pw+token", objects=["User"])
        assert loaded_rows(run(source, tmp_path / "w.duckdb")) == {"users": 12}
        bad = api_source(sf, username="ops@example.com", password="nope", objects=["User"])
        with pytest.raises(PipelineStepFailed, match="invalid_grant"):
            run(bad, tmp_path / "w2.duckdb")


def test_a_netrc_entry_for_the_host_does_not_replace_the_token(org, tmp_path, monkeypatch):
    """A machine whose ~/.netrc (here $NETRC) names the Salesforce host: requests would send
    that login as Basic auth in place of the Bearer token on every call, and each would be
    refused. The client sends only its token."""
    netrc_naming("127.0.0.1", tmp_path, monkeypatch)
    with standin(org.export_dir) as sf:
        assert loaded_rows(run(api_source(sf, objects=["User"]), tmp_path / "w.duckdb")) == {
            "users": 12
        }
        assert sf.authorizations["Bearer"] > 0 and "Basic" not in sf.authorizations
        assert sf.requests["/services/oauth2/token"] == 1


def test_the_client_reports_salesforce_query_errors(org):
    with standin(org.export_dir) as sf:
        client = SalesforceClient(sf.base_url, CLIENT_ID, CLIENT_SECRET)
        with pytest.raises(CrmApiError, match="INVALID_FIELD: No such column 'Nope'"):
            list(client.query("SELECT Id, Nope FROM Lead ORDER BY SystemModstamp"))
        with pytest.raises(CrmApiError, match="INVALID_TYPE"):
            list(client.query("SELECT Id FROM Leed ORDER BY SystemModstamp"))
        # the plain query endpoint leaves deleted records out, queryAll keeps them
        soql = "SELECT Id, IsDeleted FROM Lead ORDER BY SystemModstamp"
        live = [r for page in client.query(soql, include_deleted=False) for r in page]
        every = [r for page in client.query(soql) for r in page]
    deleted = sum(1 for r in org.records["Lead"] if r["IsDeleted"])
    assert deleted > 0
    assert (len(live), len(every)) == (120 - deleted, 120)
    assert all("attributes" not in r for r in every)


class _CutJsonOnce(StandIn):
    """Answers the first query with a complete HTTP response holding cut-off JSON."""

    def __init__(self) -> None:
        super().__init__()
        self.queries = 0

    def handle(self, request: Request) -> Response:
        if request.path == "/services/oauth2/token":
            return Response.json({"access_token": "t0k", "instance_url": self.base_url})
        self.queries += 1
        if self.queries == 1:
            return Response(200, b'{"totalSize": 1, "done": true, "records": [{"Id": "00Q')
        record = {"attributes": {"type": "Lead"}, "Id": "00Q000000000001AAA"}
        return Response.json({"totalSize": 1, "done": True, "records": [record]})


def test_invalid_json_in_a_complete_answer_is_retried():
    with _CutJsonOnce() as server:
        client = SalesforceClient(
            server.base_url, CLIENT_ID, CLIENT_SECRET, retry=RetryPolicy(0.01, 0.02, 5)
        )
        pages = list(client.query("SELECT Id FROM Lead ORDER BY SystemModstamp"))
    assert pages == [[{"Id": "00Q000000000001AAA"}]]
    assert (server.queries, client.retries) == (2, 1)


# -- a killed load -------------------------------------------------------------------------------

KILL_OBJECTS = ["Lead", "LeadHistory", "Task"]

_CHILD = """
import sys, time
from ingest.crm import crm_source
from ingest.pipelines import make_pipeline
warehouse, pipelines_dir, mode, arg = sys.argv[1:5]
pipeline = make_pipeline("crm", warehouse, pipelines_dir)
if mode == "api":
    pipeline.run(crm_source(instance_url=arg, objects="Lead,LeadHistory,Task"))
else:
    pipeline.extract(crm_source(export_dir=arg))
    pipeline.normalize()
    print("normalized", flush=True)
    time.sleep(60)
    pipeline.load()
"""


def _child(tmp_path: Path, wh: Path, mode: str, arg: str) -> subprocess.Popen:
    env = {
        **os.environ,
        "SOURCES__CRM__CLIENT_ID": CLIENT_ID,
        "SOURCES__CRM__CLIENT_SECRET": CLIENT_SECRET,
    }
    pipelines = str(wh.parent / f".{wh.stem}_pipelines")
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(_CHILD), str(wh), pipelines, mode, arg],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _kill(child: subprocess.Popen) -> None:
    child.send_signal(signal.SIGKILL)
    child.wait()
    child.stdout.close()
    child.stderr.close()
    assert child.returncode == -signal.SIGKILL


def test_a_load_killed_while_paging_completes_on_rerun(org, tmp_path):
    wh = tmp_path / "w.duckdb"
    with standin(org.export_dir, page_size=20) as sf:
        run(api_source(sf, objects=KILL_OBJECTS), wh)
    changes = crm_org.change_org(
        org, now=datetime(2026, 3, 3, 8, 0, tzinfo=UTC), changed=30, added=30
    )
    run(crm_source(export_dir=str(org.export_dir), objects=KILL_OBJECTS), tmp_path / "clean.duckdb")
    changes = {t: c for t, c in changes.items() if t in ("leads", "lead_history", "tasks")}

    slow = Faults(rate=1.0, kinds=("slow",), slow_seconds=0.03)
    with standin(org.export_dir, faults=slow, page_size=20) as sf:
        child = _child(tmp_path, wh, "api", sf.base_url)
        deadline = time.monotonic() + 30
        while sum(n for p, n in sf.requests.items() if "/query/" in p) < 3:  # next-page calls
            assert child.poll() is None, child.stderr.read()
            assert time.monotonic() < deadline
            time.sleep(0.01)
        _kill(child)
    assert snapshot(wh) != snapshot(tmp_path / "clean.duckdb")
    with standin(org.export_dir, page_size=20) as sf:
        rerun = run(api_source(sf, objects=KILL_OBJECTS), wh)
    assert loaded_rows(rerun) == {
        t: len(c["changed"]) + len(c["added"]) for t, c in changes.items()
    }
    assert snapshot(wh) == snapshot(tmp_path / "clean.duckdb")
    assert_no_duplicate_ids(wh)


def test_a_load_killed_after_extract_completes_on_rerun(clean, org, tmp_path):
    wh = clone_warehouse(clean, tmp_path)
    changes = crm_org.change_org(org, now=datetime(2026, 3, 3, 8, 0, tzinfo=UTC))
    run(crm_source(export_dir=str(org.export_dir)), tmp_path / "clean.duckdb")

    child = _child(tmp_path, wh, "export", str(org.export_dir))
    line = child.stdout.readline()
    assert line.strip() == "normalized", child.stderr.read()
    _kill(child)
    # the rerun loads the package the killed run left behind ...
    rerun = run(crm_source(export_dir=str(org.export_dir)), wh)
    assert loaded_rows(rerun) == {}  # (nothing new extracted: its cursors were committed)
    packages = rerun.last_trace.last_load_info.load_packages
    assert sum(len(p.jobs["completed_jobs"]) for p in packages) > len(TABLES)
    assert snapshot(wh) == snapshot(tmp_path / "clean.duckdb")
    # ... and the next run finds nothing new
    assert loaded_rows(run(crm_source(export_dir=str(org.export_dir)), wh)) == {}
    assert_no_duplicate_ids(wh)
    assert changes


# -- export files --------------------------------------------------------------------------------


def _rewrite(path: Path, header_map=None, drop=None, extra=None, row_edit=None) -> None:
    import csv

    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    header = rows[0]
    if drop:
        i = header.index(drop)
        rows = [r[:i] + r[i + 1 :] for r in rows]
    if header_map:
        rows[0] = [header_map(h) for h in rows[0]]
    if extra:
        rows[0].append(extra[0])
        for r in rows[1:]:
            r.append(extra[1])
    if row_edit:
        row_edit(rows)
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, quoting=csv.QUOTE_ALL, lineterminator="\n").writerows(rows)


def test_a_missing_required_column_is_named(org, tmp_path):
    path = org.export_dir / "Task.csv"
    _rewrite(path, drop="SystemModstamp")
    with pytest.raises(PipelineStepFailed) as exc:
        run(crm_source(export_dir=str(org.export_dir), objects=["Task"]), tmp_path / "w.duckdb")
    msg = str(exc.value)
    assert f"{path}: required column 'SystemModstamp' is missing (object Task)" in msg


def test_a_bad_value_is_named_by_file_row_and_column(org, tmp_path):
    path = org.export_dir / "Opportunity.csv"

    def spoil(rows):
        rows[5][rows[0].index("Amount")] = "12,5 万"

    _rewrite(path, row_edit=spoil)
    with pytest.raises(PipelineStepFailed) as exc:
        run(
            crm_source(export_dir=str(org.export_dir), objects="Opportunity"), tmp_path / "w.duckdb"
        )
    assert f"{path}: data row 5, column 'Amount'" in str(exc.value)


def test_missing_file_lands_an_empty_table_and_extra_or_absent_optional_columns_are_handled(
    org, tmp_path, caplog
):
    (org.export_dir / "ContentVersion.csv").unlink()
    _rewrite(org.export_dir / "Lead.csv", drop="Industry", extra=("Region__c", "华东"))
    # Data Loader writes upper-case headers
    _rewrite(org.export_dir / "Account.csv", header_map=str.upper)
    wh = tmp_path / "w.duckdb"
    with caplog.at_level(logging.WARNING, logger="ingest.crm"):
        pipeline = run(crm_source(export_dir=str(org.export_dir)), wh)
    assert "has no ContentVersion.csv: table content_versions lands empty" in caplog.text
    expected = {t: n for t, n in org.counts().items() if t != "content_versions"}
    assert {t: n for t, n in loaded_rows(pipeline).items() if n} == expected
    with duckdb.connect(str(wh), read_only=True) as con:
        industry, region = con.execute(
            "select count(industry), min(region_c) from raw_crm.leads"
        ).fetchall()[0]
        tables = {r[0] for r in con.sql("select table_name from duckdb_tables()").fetchall()}
        acc = con.execute(
            "select count(*), count(system_modstamp) from raw_crm.accounts"
        ).fetchall()[0]
    assert (industry, region) == (0, "华东")
    assert "content_versions" in tables  # typed and empty, so the models over it build
    assert acc == (40, 40)


def test_records_longer_than_a_parse_block_are_read(org):
    path = org.export_dir / "Task.csv"
    long_text = '客户反馈, "需要"\n' * 20_000  # ~400 kB, quotes and line breaks inside

    def lengthen(rows):
        rows[240][rows[0].index("Description")] = long_text

    _rewrite(path, row_edit=lengthen)
    spec = object_specs()["Task"]
    tables = list(read_export_file(path, spec, block_size=64 << 10, rows_per_table=50))
    assert len(tables) > 2
    got = pa.concat_tables(tables)
    assert got.equals(pa.concat_tables(list(read_export_file(path, spec))))
    assert got.num_rows == 300
    assert got["description"][239].as_py() == long_text
    assert got["id"].to_pylist() == [r["Id"] for r in org.records["Task"]]


def test_the_start_date_bounds_a_first_load_and_the_cursor_every_load_after(org, tmp_path):
    """The first load of an export keeps the records modified on or after ``start_date`` (a
    file of older records only lands its table empty); later loads keep what is newer than the
    cursor, whatever the start date."""
    wh = tmp_path / "w.duckdb"
    records = org.records["Task"]
    stamps = sorted(r["SystemModstamp"] for r in records)
    after_all = (stamps[-1] + timedelta(days=1)).isoformat()
    run(crm_source(export_dir=str(org.export_dir), objects=["Task"], start_date=after_all), wh)
    with duckdb.connect(str(wh), read_only=True) as con:
        assert con.execute("select count(*) from raw_crm.tasks").fetchall() == [(0,)]

    middle = stamps[len(stamps) // 2]
    run(
        crm_source(export_dir=str(org.export_dir), objects=["Task"], start_date=middle),
        tmp_path / "m.duckdb",
    )
    kept = sorted(r["Id"] for r in records if r["SystemModstamp"] >= middle)
    with duckdb.connect(str(tmp_path / "m.duckdb"), read_only=True) as con:
        ids = [i for (i,) in con.sql("select id from raw_crm.tasks order by id").fetchall()]
    assert ids == kept and 0 < len(kept) < len(records)

    # an export with the oldest record changed since: only that change lands, though the start
    # date (now before every record) would let every record in
    changed = tmp_path / "changed"
    changed.mkdir()
    shutil.copy(org.export_dir / "Task.csv", changed / "Task.csv")

    def edit(rows: list[list[str]]) -> None:
        stamp, subject = rows[0].index("SystemModstamp"), rows[0].index("Subject")
        oldest = min(rows[1:], key=lambda r: r[stamp])
        newest = max(r[stamp] for r in rows[1:])
        oldest[subject], oldest[stamp] = "改过的主题", newest[:-4] + "999Z"

    _rewrite(changed / "Task.csv", row_edit=edit)
    src = crm_source(export_dir=str(changed), objects=["Task"], start_date=stamps[0].isoformat())
    pipeline = run(src, tmp_path / "m.duckdb")
    assert loaded_rows(pipeline) == {"tasks": 1}
    with duckdb.connect(str(tmp_path / "m.duckdb"), read_only=True) as con:
        got = con.execute(
            "select count(*), count(*) filter (subject = '改过的主题') from raw_crm.tasks"
        ).fetchall()
    assert got == [(len(kept) + 1, 1)]


# -- configuration -------------------------------------------------------------------------------


def test_source_from_config(org, tmp_path, monkeypatch):
    src = source_from_config({"export_dir": org.export_dir, "objects": ["leads", "Task"]})
    assert sorted(src.resources) == ["leads", "tasks"]
    src = source_from_config({"export_dir": str(org.export_dir), "start_date": "2026-02-15"})
    pipeline = run(src, tmp_path / "w.duckdb")
    newer = sum(
        1 for r in org.records["Task"] if r["SystemModstamp"] >= datetime(2026, 2, 15, tzinfo=UTC)
    )
    assert loaded_rows(pipeline)["tasks"] == newer < len(org.records["Task"])

    monkeypatch.setenv("SOURCES__CRM__CLIENT_ID", CLIENT_ID)
    monkeypatch.setenv("SOURCES__CRM__CLIENT_SECRET", CLIENT_SECRET)
    with standin(org.export_dir) as sf:
        src = source_from_config({"instance_url": sf.base_url, "objects": "User"})
        assert loaded_rows(run(src, tmp_path / "api.duckdb")) == {"users": 12}

    monkeypatch.delenv("SOURCES__CRM__CLIENT_SECRET")
    with pytest.raises(Exception, match="SOURCES__CRM__CLIENT_SECRET"):
        source_from_config({"instance_url": "https://example.my.salesforce.com"})
    with pytest.raises(ValueError, match=r"holds secrets \(client_secret\)"):
        source_from_config(
            {"instance_url": "https://example.my.salesforce.com", "client_secret": "s"}
        )
    with pytest.raises(Exception, match="exactly one of 'export_dir'"):
        source_from_config({})
    with pytest.raises(Exception, match="unknown CRM object 'Quote'"):
        source_from_config({"export_dir": str(org.export_dir), "objects": ["Quote"]})


# -- the demo org --------------------------------------------------------------------------------


def _manifest_counts(manifest: dict, specs) -> dict[str, int]:
    """Rows per raw_crm table from the generator's ``truth/manifest.json``, whichever way it
    keys them under a CRM section (by raw table, by object, or by ``<Object>.csv``)."""
    flat: dict[str, int] = {}

    def walk(node, path: tuple[str, ...]) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                walk(v, (*path, *str(k).lower().replace("raw_crm.", "raw_crm/").split("/")))
        elif isinstance(node, int) and not isinstance(node, bool):
            flat["/".join(path)] = node

    walk(manifest, ())
    counts: dict[str, int] = {}
    for spec in specs.values():
        names = {spec.table, spec.name.lower(), f"{spec.name.lower()}.csv"}
        for key, n in flat.items():
            parts = key.split("/")
            if parts[-1] in names and any("crm" in p for p in parts[:-1]):
                counts[spec.table] = n
                break
    return {t: n for t, n in counts.items() if n}


def test_demo_org_loads_completely_both_ways(tmp_path):
    demo = pytest.importorskip("devkit.demo.generate")
    from datetime import date

    out = tmp_path / "org"
    demo.generate(out, seed=7, scale="XS", as_of=date(2026, 3, 2))
    manifest = __import__("json").loads((out / "truth" / "manifest.json").read_text("utf-8"))
    expected = _manifest_counts(manifest, object_specs())
    assert expected, f"no CRM row counts found in {out / 'truth' / 'manifest.json'}"

    export = run(crm_source(export_dir=str(out / "crm_export")), tmp_path / "e.duckdb")
    assert {t: n for t, n in loaded_rows(export).items() if t in expected} == expected
    with standin(out / "crm_export") as sf:
        run(api_source(sf), tmp_path / "api.duckdb")
    assert snapshot(tmp_path / "api.duckdb") == snapshot(tmp_path / "e.duckdb")


# -- source contract ---------------------------------------------------------------------------


def test_the_contract_reads_the_same_from_the_export_and_the_api(org, tmp_path, monkeypatch):
    """A Data Loader export with picked Task fields: the same findings from its headers and
    from the org's describe; they land in ops.source_contract, naming what degrades."""
    from ingest import contracts
    from ingest.pipelines import check_contract

    task = org.export_dir / "Task.csv"
    _rewrite(task, drop="CompletedDateTime")
    _rewrite(task, drop="IsClosed", extra=("Legacy_Ref__c", "x"))
    (org.export_dir / "Event.csv").unlink()
    (org.export_dir / "notes.csv").write_text("a,b\n1,2\n", encoding="utf-8")

    wh = tmp_path / "w.duckdb"
    findings = check_contract("crm", {"export_dir": str(org.export_dir)}, wh)
    got = {(f.object, f.column, f.status) for f in findings}
    assert got == {
        ("Task", "CompletedDateTime", contracts.MISSING_OPTIONAL),
        ("Task", "IsClosed", contracts.MISSING_OPTIONAL),
        ("Task", "Legacy_Ref__c", contracts.UNKNOWN),
        ("Event", None, contracts.MISSING_OBJECT),
        ("notes.csv", None, contracts.UNKNOWN),
    }
    completed = next(f for f in findings if f.column == "CompletedDateTime")
    assert "ActivityDate" in completed.degrades and "CreatedDate" in completed.degrades
    with duckdb.connect(str(wh), read_only=True) as con:
        rows = con.execute(
            "select object, column_name, status, degrades from ops.source_contract "
            "where source = 'crm' order by 1, 2"
        ).fetchall()
    assert {(o, c, s) for o, c, s, _ in rows} == got
    assert contracts.recorded(wh) == sorted(findings, key=lambda f: (f.object, f.column or ""))

    monkeypatch.setenv("SOURCES__CRM__CLIENT_ID", CLIENT_ID)
    monkeypatch.setenv("SOURCES__CRM__CLIENT_SECRET", CLIENT_SECRET)
    with standin(org.export_dir) as sf:
        api = check_contract("crm", {"instance_url": sf.base_url, "objects": ["Task"]})
    # the org's describe shows the same gaps (fields it does not read are not reported)
    assert {(f.object, f.column, f.status) for f in api} == {
        ("Task", "CompletedDateTime", contracts.MISSING_OPTIONAL),
        ("Task", "IsClosed", contracts.MISSING_OPTIONAL),
    }


def test_a_column_blank_in_every_row_is_recorded_as_empty_from_the_export_and_the_api(
    org, tmp_path, monkeypatch
):
    """Opportunity.Objection__c is in the header (and the describe) but blank in every row: after
    the load it is an 'empty' finding naming what degrades, from the export and the REST API
    alike; a column only partly blank is not (data quality, not applicability)."""
    from ingest import contracts
    from ingest.pipelines import check_contract, check_empty

    def blank(rows, column="Objection__c"):
        i = rows[0].index(column)
        for r in rows[1:]:
            r[i] = ""

    def blank_first(rows):
        rows[1][rows[0].index("NextStep")] = ""

    path = org.export_dir / "Opportunity.csv"
    _rewrite(path, row_edit=blank)
    _rewrite(path, row_edit=blank_first)
    expected = {("Opportunity", "Objection__c", contracts.EMPTY)}
    section = {"export_dir": str(org.export_dir), "objects": ["Opportunity"]}
    wh = tmp_path / "export.duckdb"
    assert check_contract("crm", section, wh) == []
    run(crm_source(export_dir=str(org.export_dir), objects=["Opportunity"]), wh)
    found = check_empty("crm", section, wh)
    assert {(f.object, f.column, f.status) for f in found} == expected
    assert "information completeness" in found[0].degrades
    assert contracts.recorded(wh) == found

    monkeypatch.setenv("SOURCES__CRM__CLIENT_ID", CLIENT_ID)
    monkeypatch.setenv("SOURCES__CRM__CLIENT_SECRET", CLIENT_SECRET)
    api_wh = tmp_path / "api.duckdb"
    with standin(org.export_dir) as sf:
        section = {"instance_url": sf.base_url, "objects": ["Opportunity"]}
        check_contract("crm", section, api_wh)
        run(api_source(sf, objects=["Opportunity"]), api_wh)
    found = check_empty("crm", section, api_wh)
    assert {(f.object, f.column, f.status) for f in found} == expected
    with duckdb.connect(str(api_wh), read_only=True) as con:
        statuses = con.execute(
            "select status from ops.source_contract where source = 'crm'"
        ).fetchall()
    assert statuses == [(contracts.EMPTY,)]  # the 'ok' row of the check before gave way


def test_a_missing_required_column_or_object_fails_the_source_naming_the_fix(org, tmp_path):
    from ingest.contracts import ContractError
    from ingest.pipelines import check_contract

    _rewrite(org.export_dir / "Opportunity.csv", drop="StageName")
    (org.export_dir / "Lead.csv").unlink()
    wh = tmp_path / "w.duckdb"
    with pytest.raises(ContractError) as exc:
        check_contract("crm", {"export_dir": str(org.export_dir)}, wh)
    msg = str(exc.value)
    assert "crm Opportunity.StageName: required column is missing" in msg
    assert "fix: add column StageName to Opportunity" in msg
    assert "crm Lead: required object is missing; fix: export Lead too" in msg
    # recorded all the same, for the data-quality page
    with duckdb.connect(str(wh), read_only=True) as con:
        statuses = con.execute(
            "select object, status from ops.source_contract where source = 'crm' order by 1"
        ).fetchall()
    assert statuses == [("Lead", "missing_required"), ("Opportunity", "missing_required")]
    # the load itself refuses too, naming the file and the fix
    with pytest.raises(PipelineStepFailed) as exc:
        run(crm_source(export_dir=str(org.export_dir), objects=["Lead"]), tmp_path / "x.duckdb")
    assert "object Lead is required; fix: export Lead too" in str(exc.value)


def test_the_erp_code_field_is_named_in_the_run_configuration(org, tmp_path):
    """The U8 code in AccountNumber: with ``fields: {erp_customer_code: AccountNumber}`` it
    lands in the canonical column, from the export and over the API; without it the contract
    says what is missing and what is unknown."""
    from ingest.pipelines import contract_findings

    codes: dict[str, str] = {}

    def fill(rows):
        rows[0] = ["AccountNumber" if h == "ERP_Customer_Code__c" else h for h in rows[0]]
        col = rows[0].index("AccountNumber")
        for i, r in enumerate(rows[1:]):
            r[col] = f"C{i:04d}" if i % 3 else ""
            if r[col]:
                codes[r[0]] = r[col]

    _rewrite(org.export_dir / "Account.csv", row_edit=fill)
    plain = {
        (f.object, f.column, f.status)
        for f in contract_findings("crm", {"export_dir": str(org.export_dir)})
    }
    assert plain == {
        ("Account", "ERP_Customer_Code__c", "missing_optional"),
        ("Account", "AccountNumber", "unknown"),
    }
    section = {"export_dir": str(org.export_dir), "fields": {"erp_customer_code": "AccountNumber"}}
    assert contract_findings("crm", section) == []

    fields = {"erp_customer_code": "AccountNumber"}
    run(source_from_config(section), tmp_path / "e.duckdb")
    with standin(org.export_dir) as sf:
        run(api_source(sf, objects=["Account"], fields=fields), tmp_path / "a.duckdb")
    for wh in ("e.duckdb", "a.duckdb"):
        with duckdb.connect(str(tmp_path / wh), read_only=True) as con:
            landed = dict(
                con.execute(
                    "select id, erp_customer_code_c from raw_crm.accounts "
                    "where erp_customer_code_c is not null"
                ).fetchall()
            )
            columns = {
                r[0]
                for r in con.execute(
                    "select column_name from information_schema.columns "
                    "where table_schema = 'raw_crm' and table_name = 'accounts'"
                ).fetchall()
            }
        assert landed == codes, wh
        assert "account_number" not in columns, wh
    with pytest.raises(ValueError, match="unknown CRM field key 'erp_code'"):
        contract_findings("crm", dict(section, fields={"erp_code": "AccountNumber"}))
