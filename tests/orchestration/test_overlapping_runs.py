"""Two runs that overlap both succeed: DuckDB allows one writer per file, so the second run on
a warehouse waits for the first (the runner's warehouse lock; runs the Dagster daemon launches
queue on the `duckdb_write` pool, configured in orchestration/dagster.yaml)."""

from __future__ import annotations

import shutil
import threading
import time

import dagster as dg

from orchestration import runner
from orchestration.definitions import defs


def test_two_overlapping_runs_both_succeed(demo_run, tmp_path):
    instance_dir = tmp_path / "dagster_home"
    instance_dir.mkdir()
    shutil.copy("orchestration/dagster.yaml", instance_dir / "dagster.yaml")
    instance = dg.DagsterInstance.from_config(str(instance_dir))
    assert instance.get_concurrency_config().pool_config.default_pool_limit == 1

    path = demo_run.on_a_copy(tmp_path)
    graph = defs.resolve_asset_graph()
    keys = sorted(
        dg.AssetSelection.groups("ingest_sheets").resolve(graph)
        | {dg.AssetKey(["stg_sheets__org_reps"]), dg.AssetKey(["dim_rep"])},
        key=lambda k: k.to_user_string(),
    )
    outcomes, said = {}, []

    def go(i: int) -> None:
        outcomes[i] = runner.run(path, asset_keys=keys, echo=said.append, instance=instance)

    threads = [threading.Thread(target=go, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
        time.sleep(0.5)
    for t in threads:
        t.join(timeout=600)
    assert len(outcomes) == 2
    for outcome in outcomes.values():
        assert outcome.success, outcome.errors
        # loaded, or found as the last load left them (left out of the run)
        assert "ingest_sheets" in outcome.steps or outcome.unchanged_sources == ["sheets"]
    # the run that waited found the sheets as the first left them: it loads nothing new and
    # does not launch dbt, which the first built
    assert any("dbt_models" in outcome.steps for outcome in outcomes.values())
    assert any("waiting for it to finish" in line for line in said)
