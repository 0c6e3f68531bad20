"""Every job does what its schedule promises, and nothing more.

The assets and checks each job selects are compared with a committed snapshot
(``__snapshots__/test_jobs/``): a change nobody meant fails here. After an intended change,
review the diff and update it with ``pytest tests/orchestration/test_jobs.py --snapshot-update``.
"""

from __future__ import annotations

import dagster as dg
import pytest
from syrupy.extensions.json import JSONSnapshotExtension

from orchestration.definitions import defs
from orchestration.resources import SalesopsConfig
from salesops import config as salesops_config

JOBS = ("refresh_all_job", "u8_job", "bi_job", "salesops_run_job")
MORNING_REPORT = dg.AssetKey(["morning_report"])


def selected(job_name: str) -> dict[str, list[str]]:
    layer = defs.resolve_job_def(job_name).asset_layer
    checks = layer.asset_graph.asset_check_keys
    return {
        "assets": sorted(k.to_user_string() for k in layer.selected_asset_keys),
        "checks": sorted(k.to_user_string() for k in checks),
    }


@pytest.fixture
def snapshot_json(snapshot):
    return snapshot.use_extension(JSONSnapshotExtension)


@pytest.mark.parametrize("job_name", JOBS)
def test_each_job_selects_what_it_always_did(job_name, snapshot_json):
    assert selected(job_name) == snapshot_json


def test_the_morning_report_goes_out_only_from_bi_job_and_by_hand():
    having = {
        name
        for name in JOBS
        if MORNING_REPORT in defs.resolve_job_def(name).asset_layer.selected_asset_keys
    }
    assert having == {"bi_job", "salesops_run_job"}
    # a job that runs every 15 minutes publishes nothing either (bi_job does, at 08:00)
    u8 = defs.resolve_job_def("u8_job").asset_layer.selected_asset_keys
    assert not {k for k in u8 if defs.resolve_asset_graph().get(k).group_name in ("bi", "report")}


def _config(tmp_path, sources: dict) -> SalesopsConfig:
    cfg = salesops_config.from_dict(
        {"warehouse": {"path": str(tmp_path / "w.duckdb")}, "sources": sources}, base=tmp_path
    )
    path = tmp_path / "salesops.yml"
    path.write_text(salesops_config.dump(cfg), encoding="utf-8")
    return SalesopsConfig(config_path=str(path))


def _tick(schedule_name: str, resource: SalesopsConfig):
    schedule = defs.resolve_schedule_def(schedule_name)
    context = dg.build_schedule_context(
        resources={"salesops": resource}, repository_def=defs.get_repository_def()
    )
    return list(schedule.evaluate_tick(context).run_requests or []), schedule


def test_scheduled_runs_select_only_configured_sources(tmp_path):
    crm_only = _config(tmp_path, {"crm": {"export_dir": "."}, "sheets": {"dir": "."}})
    (request,), schedule = _tick("refresh_all_job_schedule", crm_only)
    keys = {k.to_user_string() for k in request.asset_selection}
    assert "crm/leads" in keys and "sheets/org_reps" in keys and "bi_site" in keys
    assert not any(k.startswith(("u8/", "wecom/")) for k in keys)
    assert "morning_report" not in keys
    # the request is a valid subset of its job, checks included
    job = defs.resolve_job_def(schedule.job_name)
    subset = job.get_subset(
        asset_selection=set(request.asset_selection),
        asset_check_selection=set(request.asset_check_keys),
    )
    assert subset.asset_layer.selected_asset_keys == set(request.asset_selection)
    assert {str(k) for k in request.asset_check_keys} >= {
        str(k) for k in subset.asset_layer.asset_graph.asset_check_keys
    }
    assert request.asset_check_keys

    # U8's job does not run for a company without U8, and loads only U8 for one with it
    requests, _ = _tick("u8_job_schedule", crm_only)
    assert requests == []
    with_u8 = _config(tmp_path, {"crm": {"export_dir": "."}, "u8": {"url": "sqlite://"}})
    (request,), _ = _tick("u8_job_schedule", with_u8)
    keys = {k.to_user_string() for k in request.asset_selection}
    assert "u8/so_somain" in keys
    assert not any(k.startswith(("crm/", "wecom/", "sheets/")) for k in keys)
    assert not keys & {"warehouse_bi", "bi_site", "morning_report"}


def test_a_run_of_the_models_reached_keeps_one_dbt_step_the_suites_and_the_bi_hand_off(
    monkeypatch,
):
    """What a command-line run launches after its loads when only a U8 table changed: the
    models reached and the BI hand-off, in one dbt step; the dbt tests of the models left out
    are not in it, every GX suite is, and the hand-off waits for the suites (one that blocks
    still keeps it from publishing)."""
    from dagster._core.execution.api import create_execution_plan

    from orchestration.buildplan import reached_models, read_manifest
    from orchestration.defs.ingest import ingest_assets
    from orchestration.defs.quality import SPECS
    from orchestration.defs.transform import dbt_models
    from orchestration.runner import JOB_NAME, _narrowed

    monkeypatch.setenv("SALESOPS_CONFIG", "salesops.yml")  # read when a run starts, not here
    job = defs.resolve_job_def(JOB_NAME)
    loading = {key for assets in ingest_assets for key in assets.keys}
    rest = [key for key in job.asset_layer.selected_asset_keys if key not in loading]
    reached = reached_models(read_manifest(), {"raw_u8.so_somain"}, set(), {"as_of": "2026-11-20"})
    left = {key for key in rest if key in dbt_models.keys and key.path[-1] not in reached}
    assert dg.AssetKey("fct_identity_links") in left
    keys, checks = _narrowed(job, [key for key in rest if key not in left], left)

    kept = set(keys) & left  # left out, but a blocking suite on them is read by the run
    blocking = {spec.asset_key for _, spec in SPECS.values() if spec.blocking}
    assert kept <= blocking and dg.AssetKey("fct_identity_links") not in keys
    assert not {c for c in checks if c.asset_key in left and c in dbt_models.check_keys}
    assert {c.name for c in checks} >= set(SPECS)
    plan = create_execution_plan(
        job.get_subset(asset_selection=set(keys), asset_check_selection=checks)
    )
    upstream = {
        step.key: {
            handle.step_key
            for step_input in step.step_inputs
            for handle in step_input.get_step_output_handle_dependencies()
        }
        for step in plan.steps
    }
    assert set(upstream) == {"dbt_models", "gx_checks", "warehouse_bi", "bi_site", "morning_report"}
    assert upstream["warehouse_bi"] == {"dbt_models", "gx_checks"}
