"""The Dagster definitions: one connected graph from each source table to the BI site."""

from __future__ import annotations

import dagster as dg

from orchestration.definitions import defs
from orchestration.defs.automation import configured_selection
from salesops import config as salesops_config


def _graph():
    return defs.resolve_asset_graph()


def test_lineage_runs_from_raw_tables_to_the_site():
    graph = _graph()
    key = dg.AssetKey

    def parents(name: str | list[str]) -> set[str]:
        k = key(name) if isinstance(name, list) else key([name])
        return {p.to_user_string() for p in graph.get(k).parent_keys}

    assert "crm/leads" in parents("stg_crm__leads")
    assert "sheets/org_reps" in parents("stg_sheets__org_reps")
    assert "u8/so_somain" in parents("stg_u8__sales_orders")
    assert {"stg_crm__leads", "dim_rep"} <= parents("fct_lead_response")
    assert "rpt_lead_response" in parents("warehouse_bi")
    assert parents("bi_site") == {"warehouse_bi"}
    groups = {graph.get(k).group_name for k in graph.get_all_asset_keys()}
    assert {"ingest_crm", "ingest_u8", "ingest_sheets", "staging", "marts", "bi"} <= groups


def test_gx_and_dbt_checks_guard_the_mart():
    checks = {c.name for c in _graph().asset_check_keys}
    assert "gx_fct_lead_response" in checks
    assert "unique_fct_lead_response_lead_id" in checks


def test_schedules_jobs_sensors_and_one_dbt_op():
    schedules = {s.name: s for s in defs.schedules or []}
    assert {n: (s.cron_schedule, s.job_name) for n, s in schedules.items()} == {
        "refresh_all_job_schedule": ("0 6 * * *", "refresh_all_job"),
        "u8_job_schedule": ("*/15 * * * *", "u8_job"),
        "bi_job_schedule": ("0 8 * * *", "bi_job"),
    }
    assert {s.execution_timezone for s in schedules.values()} == {"Asia/Shanghai"}
    graph = _graph()
    u8 = defs.resolve_job_def("u8_job").asset_layer.selected_asset_keys
    assert dg.AssetKey(["u8", "so_somain"]) in u8 and dg.AssetKey(["bi_site"]) not in u8
    assert not any(k.path[0] in ("crm", "wecom") for k in u8)
    # every dbt model is in one op: a run is one dbt invocation, the daily mart included
    keys = graph.get_all_asset_keys()
    dbt_ops = {
        graph.get(k).assets_def.op.name
        for k in keys
        if graph.get(k).group_name in ("staging", "marts")
    }
    assert dbt_ops == {"dbt_models"}
    assert not any(graph.get(k).is_partitioned for k in keys)
    assert {s.name for s in defs.sensors or []} == {"alerts_to_wecom", "run_failure_to_wecom"}


def test_selection_follows_the_configured_sources(tmp_path):
    cfg = salesops_config.from_dict(
        {
            "warehouse": {"path": str(tmp_path / "w.duckdb")},
            "sources": {"crm": {"export_dir": "."}},
        },
        base=tmp_path,
    )
    keys = {k.to_user_string() for k in configured_selection(cfg).resolve(_graph())}
    assert "crm/leads" in keys
    assert not any(k.startswith(("u8/", "wecom/")) for k in keys)
    # the sheets always run: without a folder they land the shipped defaults
    assert "sheets/settings" in keys


def test_the_definitions_load_without_great_expectations():
    """GX takes seconds to import; a run that finds nothing new must not pay for it: the
    definitions read only the suites' names and targets, GX comes in when a suite is built."""
    import subprocess
    import sys

    code = "import sys, orchestration.definitions; sys.exit('great_expectations' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


def test_processes_importing_the_definitions_at_once_share_no_pipeline_folder(tmp_path):
    """The dlt pipelines that only name the assets live in a folder of each process's own,
    removed at its exit: in the checkout's ``build/.dlt_pipelines`` (shared by every process,
    and by a warehouse kept in ``build/``) a new pipeline wipes its folder while another
    process writes its state there, and the other's import fails."""
    import os
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    shared = Path(__file__).resolve().parents[2] / "build" / ".dlt_pipelines"
    # as on a fresh checkout; what a warehouse kept in build/ has there is put back after
    kept = tmp_path / "kept"
    if shared.exists():
        shutil.move(shared, kept)
    temp = tmp_path / "tmp"
    temp.mkdir()
    env = {**os.environ, "TMPDIR": str(temp)}
    try:
        imports = [
            subprocess.Popen(
                [sys.executable, "-c", "import orchestration.definitions"],
                env=env,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(3)
        ]
        errors = [p.communicate()[1] for p in imports]
        assert [p.returncode for p in imports] == [0, 0, 0], errors
        assert not shared.exists()
        assert list(temp.iterdir()) == []
    finally:
        if kept.exists():
            shutil.rmtree(shared, ignore_errors=True)
            shutil.move(kept, shared)
