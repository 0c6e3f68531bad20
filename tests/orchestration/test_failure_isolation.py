"""One source failing stops nothing else: its raw tables stay as of its last good load (dlt
commits nothing of a load that failed), every mart still builds (those that read it from that
load), the failure is recorded in ``ops.source_loads`` and published for the data-quality page,
and the run ends *partial* with the source named first in its summary."""

from __future__ import annotations

import json
import shutil

import dagster as dg
import duckdb
import pytest

from devkit.demo.serve import served_sources
from orchestration import cli, runner
from salesops import config as salesops_config
from tests.orchestration.digests import VOLATILE, table_digests
from tests.support.config import write_config


def test_a_failing_source_leaves_its_tables_and_the_rest_builds(clean_org_run, tmp_path, capsys):
    clean = clean_org_run.config
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(clean.warehouse, warehouse)
    shutil.copytree(clean.pipelines_dir, tmp_path / ".dlt_pipelines")
    # the chat archive gains a file that breaks half-way: WeCom's API resources are read, then
    # the archive fails on its second line
    archive = tmp_path / "chat_archive"
    shutil.copytree(clean_org_run.sources / "chat_archive", archive)
    new = {"seq": 10**9, "msgid": "late", "msgtime": 1, "from": "x", "tolist": []}
    (archive / "chat_9999-12.jsonl").write_text(json.dumps(new) + "\n{oops\n", encoding="utf-8")

    with served_sources(clean_org_run.sources, clean.as_of, crm="export") as sections:
        sections["wecom"]["chat_archive_dir"] = str(archive)
        path = write_config(tmp_path, warehouse, sections, clean.as_of)
        said: list[str] = []
        outcome = runner.run(
            path, exclude_groups=("bi",), echo=said.append, instance=dg.DagsterInstance.ephemeral()
        )

    assert outcome.status == "partial", (outcome.errors, outcome.steps)
    assert list(outcome.failed_sources) == ["wecom"]
    assert "chat_9999-12.jsonl line 2" in outcome.failed_sources["wecom"]
    # not a success, not a failure: every step ran, the source's error comes first
    assert not outcome.success and all(v == "ok" for v in outcome.steps.values())
    assert outcome.errors == [f"ingest_wecom: {outcome.failed_sources['wecom']}"]
    # the progress read from the run's event log: each step's start and end, in order, and
    # each step's wall time; the source's failed load check said as it happened
    for step in outcome.steps:
        ends = [n for n, line in enumerate(said) if line.endswith(f"] done  {step}")]
        starts = [n for n, line in enumerate(said) if line.endswith(f"] start {step}")]
        assert len(starts) == len(ends) == 1 and starts[0] < ends[0], (step, said)
    assert set(outcome.step_seconds) == set(outcome.steps)
    assert all(s >= 0 for s in outcome.step_seconds.values())
    # and when each began and ended: the loads before the dbt step that reads them
    assert set(outcome.step_spans) == set(outcome.steps)
    for step, (begun, ended) in outcome.step_spans.items():
        assert ended - begun == pytest.approx(outcome.step_seconds[step]), step
    loads = [end for step, (_, end) in outcome.step_spans.items() if step.startswith("ingest_")]
    dbt = [begun for step, (begun, _) in outcome.step_spans.items() if step.startswith("dbt_")]
    assert loads and dbt and max(loads) <= min(dbt), outcome.step_spans
    assert any("check failed: wecom" in line and line.endswith(":loaded") for line in said), said
    capsys.readouterr()  # what the run printed (dbt's own lines)
    assert cli._report(outcome, salesops_config.load(path)) == 3
    summary = capsys.readouterr().out.splitlines()
    assert "PARTIAL" in summary[0] and "source wecom failed" in summary[0], summary
    assert summary[1].startswith("  wecom failed:"), summary

    got, want = table_digests(warehouse), table_digests(clean.warehouse)
    raw_wecom = {k for k in want if k.startswith("raw_wecom.")}
    assert "raw_wecom.chat_messages" in raw_wecom
    # nothing of the failed load was committed: the previous good load, row for row
    assert {k: got[k] for k in raw_wecom} == {k: want[k] for k in raw_wecom}
    # the other sources reloaded (nothing new) and every mart built: as the clean run's
    assert set(got) == set(want)
    assert {k for k in got if k not in VOLATILE and got[k] != want[k]} == set()

    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        loads = dict(
            con.execute(
                "select source_name, (is_failed, last_success_at, load_error) "
                "from marts.rpt_source_loads"
            ).fetchall()
        )
        last_good = con.execute(
            "select max(inserted_at) from raw_wecom._dlt_loads where status = 0"
        ).fetchone()[0]
    finally:
        con.close()
    assert set(loads) == {"crm", "wecom", "u8", "sheets"}
    failed, since, error = loads["wecom"]
    assert failed and since == last_good and "line 2" in error
    assert not any(loads[s][0] for s in ("crm", "u8", "sheets"))
