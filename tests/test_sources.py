"""The registry of sources (ingest/sources.py) is the one list: each entry has its folder, the run
configuration accepts exactly these names, Dagster has one ingest group per entry and a
scheduled run leaves out the ones a configuration does not name; dbt reads it too (freshness,
labels) and `salesops check` finds each source's probe in it."""

from __future__ import annotations

import shutil
from datetime import date

import dagster as dg
import duckdb
import pytest

from ingest import sources
from orchestration.definitions import defs
from orchestration.defs.automation import configured_selection
from salesops import config as salesops_config
from tests.support.dbt import PROJECT, dbt_run


def test_each_entry_is_a_folder_with_its_source():
    for name in sources.NAMES:
        package = sources.module(name)
        assert callable(getattr(package, f"{name}_source")), name
        assert callable(package.source_from_config), name
        # its tables are listed without reaching the system
        assert list(sources.placeholder(name).resources), name


def test_the_configuration_and_dagster_follow_the_registry(tmp_path):
    graph = defs.resolve_asset_graph()
    groups = {graph.get(k).group_name for k in graph.get_all_asset_keys()}
    assert {g for g in groups if g.startswith("ingest_")} == {f"ingest_{n}" for n in sources.NAMES}
    with pytest.raises(salesops_config.ConfigError, match=", ".join(sources.NAMES)):
        salesops_config.from_dict(
            {"warehouse": {"path": "w.duckdb"}, "sources": {"hubspot": {}}}, base=tmp_path
        )
    # a configuration naming one source: the others' ingestion is left out
    cfg = salesops_config.from_dict(
        {"warehouse": {"path": "w.duckdb"}, "sources": {"crm": {"export_dir": "x"}}},
        base=tmp_path,
    )
    ingest = dg.AssetSelection.groups(*(f"ingest_{n}" for n in sources.NAMES))
    kept = configured_selection(cfg, ingest).resolve(graph)
    named = {n for n in sources.NAMES if cfg.has(n)}  # sheets fall back to the shipped defaults
    assert {k.path[0] for k in kept} == named and {"u8", "wecom"}.isdisjoint(named)


def test_dbt_reads_the_registry_as_make_writes_it():
    # make writes the macro from the registry; an entry added without it fails here
    assert sources.DBT_MACRO.read_text(encoding="utf-8") == sources.dbt_macro()


def test_every_source_has_a_probe_for_check():
    for entry in sources.SOURCES:
        assert callable(sources.probe(entry.name)), entry.name


def test_a_new_registry_entry_and_its_folder_are_in_freshness(tmp_path):
    """A source added as the recipe says (its registry entry, its dbt sources folder) is listed
    on the freshness page with its label, never loaded and so stale; no model is edited."""
    project = tmp_path / "dbt_project"
    shutil.copytree(PROJECT, project, ignore=shutil.ignore_patterns("target", "logs"))
    added = sources.Source("hubspot", "HubSpot", {})
    (project / "macros" / sources.DBT_MACRO.name).write_text(
        sources.dbt_macro((*sources.SOURCES, added)), encoding="utf-8"
    )
    folder = project / "models" / "staging" / "hubspot"
    folder.mkdir()
    (folder / "_hubspot__sources.yml").write_text(
        "version: 2\nsources:\n  - name: hubspot\n    schema: raw_hubspot\n"
        "    tables:\n      - name: _dlt_loads\n",
        encoding="utf-8",
    )
    # a warehouse with only the settings sheet (the shipped defaults): no source loaded yet
    warehouse = tmp_path / "warehouse.duckdb"
    settings = sources.ROOT / "ingest" / "sheets" / "defaults" / "settings.csv"
    con = duckdb.connect(str(warehouse))
    con.execute("create schema raw_sheets")
    con.execute(
        f"create table raw_sheets.settings as select * from read_csv('{settings}', header = true, "
        "names = ['name', 'value', 'description'], all_varchar = true)"
    )
    limits = dict(
        con.execute("select name, cast(value as double) from raw_sheets.settings").fetchall()
    )
    con.close()
    dbt_run(warehouse, date(2026, 3, 31), "+rpt_source_freshness", tmp_path / "target", project)
    con = duckdb.connect(str(warehouse), read_only=True)
    rows = con.execute(
        "select source_name, source_label, last_loaded_at, is_stale, max_hours "
        "from marts.rpt_source_freshness order by source_name"
    ).fetchall()
    con.close()
    expected = sorted(
        (s.name, s.label, None, True, limits[s.freshness_setting])
        for s in (*sources.SOURCES, added)
    )
    assert rows == expected
