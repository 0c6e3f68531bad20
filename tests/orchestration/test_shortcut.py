"""A scheduled ``salesops run`` starts in a fresh process. With nothing new anywhere it ends
before the pipeline's definitions are imported (Dagster, dagster-dbt, dbt's adapters): the
sources' stamps and the build decided from what the last plain run resolved, kept beside the
warehouse. It records what a run that goes on records. When something is new, the stamps it
took go to the run that goes on, whose loads take them instead of asking the sources again."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import pytest

from devkit.demo.serve import served_sources
from ingest import stamps
from orchestration import buildplan, runner, shortcut
from orchestration.buildplan import DECISION_STATE
from salesops import config as salesops_config
from tests.orchestration.test_run_cost import AS_OF, copy_of, org_config, rewrite_leads
from tests.support.warehouse import query_file

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
# `salesops run --no-bi` as a schedule starts it, then what it imported of the pipeline
FRESH_RUN = """
import sys
from orchestration import cli
code = cli.main(["run", "--config", sys.argv[1], "--no-bi"])
heavy = ("dagster", "dagster_dbt", "orchestration.definitions", "orchestration.runner")
print("imported:", ", ".join(m for m in heavy if m in sys.modules) or "none")
sys.exit(code)
"""
SOURCES = ["crm", "wecom", "u8", "sheets"]


def fresh_run(config: Path) -> str:
    done = subprocess.run(
        [sys.executable, "-c", FRESH_RUN, str(config)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout


def loads_run_with(tag: str) -> dg.DagsterRun:
    """The newest run of the instance tagged ``tag``."""
    runs = dg.DagsterInstance.get().get_runs()  # newest first
    return next(run for run in runs if tag in run.tags)


def edit_lead(leads: Path, row: int, company: str, hour: int) -> str:
    """Lead ``row`` of the export renamed ``company``, changed after every load (its id)."""
    later = f"{AS_OF + timedelta(days=1)}T{hour:02d}:00:00.000Z"

    def edit(rows):
        rows[row]["Company"] = company
        rows[row]["SystemModstamp"] = rows[row]["LastModifiedDate"] = later

    return rewrite_leads(leads, edit)[row]["Id"]


def test_a_fresh_run_with_nothing_new_ends_before_the_definitions_are_imported(
    clean_org_run, tmp_path, monkeypatch
):
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    (tmp_path / "dagster_home").mkdir()
    warehouse, sheets = copy_of(clean_org_run, tmp_path)
    src = tmp_path / "sources"  # the CRM export is edited below (times kept: the same stamps)
    shutil.copytree(clean_org_run.sources, src)
    lines: list[str] = []
    with served_sources(src, AS_OF, crm="export") as sections:
        config = org_config(tmp_path, warehouse, sections, sheets)
        cfg = salesops_config.load(config)

        # nothing kept yet: the run goes the whole way, and keeps what it resolved
        assert shortcut.kept_selection(cfg, ("bi",)) is None
        first = runner.run(config, exclude_groups=("bi",), echo=lines.append)
        assert first.success, first.errors
        assert first.build_note and first.build_note.startswith("nothing new"), first.build_note
        kept = shortcut.kept_selection(cfg, ("bi",))
        assert kept is not None and kept["sources"] == SOURCES and kept["others"] == []
        assert "fct_activities" in kept["models"] and len(kept["models"]) > 50
        assert shortcut.kept_selection(cfg, ()) is None  # with the BI hand-off: another one

        # as a schedule starts it: over before Dagster is imported, recorded as a run that
        # goes on records it (each source's load attempt, the build's decision); no Dagster run
        loads = "select source, attempted_at from ops.source_loads order by 1"
        before = dict(query_file(warehouse, loads))
        runs = len(dg.DagsterInstance.get().get_run_records())
        said = fresh_run(config)
        assert "imported: none" in said, said
        assert f"not loaded, nothing new since their last load: {', '.join(SOURCES)}" in said
        assert "dbt not launched: nothing new since the build of run" in said, said
        run_id = re.search(r"run ([0-9a-f]{8}) succeeded", said).group(1)
        decision = query_file(
            warehouse, "select value from ops.run_state where key = ?", (DECISION_STATE,)
        )
        decision = json.loads(decision[0][0])
        assert decision["run_id"].startswith(run_id) and decision["built"] is False
        after = dict(query_file(warehouse, loads))
        assert sorted(after) == sorted(SOURCES)
        assert all(after[src] > before[src] for src in SOURCES), (before, after)
        assert len(dg.DagsterInstance.get().get_run_records()) == runs

        # with nothing new, a run still goes on when the incremental models' full build is due
        assert buildplan.last_full_build(warehouse) is None  # a copied warehouse: none counted
        due = datetime.now(UTC) - timedelta(days=cfg.models_full_every_days, hours=1)
        buildplan.save_full_build(warehouse, due)
        assert shortcut.ask(config, ("bi",), lines.append).outcome is None
        buildplan.save_full_build(warehouse, datetime.now(UTC))
        assert shortcut.ask(config, ("bi",), lines.append).outcome is not None

        # a lead edited in the export: asked, the run goes on with the stamps taken; a second
        # edit lands after they were taken. The CRM's load takes the stamp asked (it does not
        # ask again) and reads both edits; the next run, whose stamp is newer, loads it again
        leads = src / "crm_export" / "Lead.csv"
        edited = edit_lead(leads, 0, "改名后的公司", 9)
        asked = shortcut.ask(config, ("bi",), lines.append)
        assert asked.outcome is None and asked.stamps is not None
        assert list(asked.stamps) == SOURCES
        assert asked.stamps["crm"] != stamps.last(warehouse, "crm")
        later = edit_lead(leads, 1, "之后又改的公司", 10)
        changed = runner.run(config, exclude_groups=("bi",), echo=lines.append, asked=asked)
        assert changed.success, changed.errors
        assert changed.unchanged_sources == ["wecom", "u8", "sheets"]
        crm_tag = "salesops/stamp_crm"
        loads_run = loads_run_with(crm_tag)
        assert loads_run.tags[crm_tag] == f"{loads_run.run_id}:{asked.stamps['crm']}"
        assert stamps.last(warehouse, "crm") == asked.stamps["crm"]
        companies = "select id, company from raw_crm.leads where id in (?, ?) order by 1"
        assert dict(query_file(warehouse, companies, (edited, later))) == {
            edited: "改名后的公司",
            later: "之后又改的公司",
        }

        again = fresh_run(config)
        assert "imported: dagster" in again, again
        assert "not loaded, nothing new since their last load: wecom, u8, sheets" in again
