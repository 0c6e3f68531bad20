"""The registry of sources (ingest/sources.py) is the one list: each entry has its folder, the run
configuration accepts exactly these names, Dagster has one ingest group per entry and a
scheduled run leaves out the ones a configuration does not name."""

from __future__ import annotations

import dagster as dg
import pytest

from ingest import sources
from orchestration.definitions import defs
from orchestration.defs.automation import configured_selection
from salesops import config as salesops_config


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
