from datetime import date
from pathlib import Path

import pytest

from salesops import config


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "salesops.yml"
    path.write_text(text, encoding="utf-8")
    return path


def test_relative_paths_resolve_against_the_file(tmp_path):
    cfg = config.load(
        write(
            tmp_path,
            """
warehouse: {path: wh/warehouse.duckdb}
as_of: 2026-03-31
sources:
  crm: {export_dir: exports/sf}
  u8: {url: "sqlite:///u8/UFDATA_001_2026.db"}
  sheets: {dir: /abs/sheets}
""",
        )
    )
    assert cfg.warehouse == tmp_path / "wh" / "warehouse.duckdb"
    assert cfg.bi_warehouse == tmp_path / "wh" / "warehouse_bi.duckdb"
    assert cfg.as_of == date(2026, 3, 31)
    assert cfg.sources["crm"]["export_dir"] == tmp_path / "exports" / "sf"
    assert cfg.sources["u8"]["url"] == f"sqlite:///{tmp_path}/u8/UFDATA_001_2026.db"
    assert cfg.sources["sheets"]["dir"] == Path("/abs/sheets")
    assert cfg.has("crm") and not cfg.has("wecom")


def test_disabled_and_unknown_sources(tmp_path):
    cfg = config.load(
        write(tmp_path, "warehouse: {path: w.duckdb}\nsources:\n  wecom: {enabled: false}\n")
    )
    # the sheets always run: without a folder, on the shipped defaults
    assert cfg.sources == {"sheets": {}}
    with pytest.raises(config.ConfigError, match="unknown source 'hubspot'"):
        config.load(write(tmp_path, "warehouse: {path: w.duckdb}\nsources:\n  hubspot: {}\n"))


def test_clear_errors(tmp_path):
    with pytest.raises(config.ConfigError, match="not found"):
        config.load(tmp_path / "missing.yml")
    with pytest.raises(config.ConfigError, match="warehouse.path"):
        config.load(write(tmp_path, "sources: {}\n"))
    with pytest.raises(config.ConfigError, match="not valid YAML"):
        config.load(write(tmp_path, "warehouse: [unclosed\n"))


def test_dump_round_trips(tmp_path):
    cfg = config.load(
        write(tmp_path, "warehouse: {path: w.duckdb}\nsources:\n  sheets: {dir: s}\n")
    )
    again = config.load(write(tmp_path, config.dump(cfg)))
    assert again.warehouse == cfg.warehouse
    assert again.sources == cfg.sources


def test_run_settings_round_trip_and_name_a_bad_value(tmp_path):
    import yaml

    cfg = config.from_dict(
        {
            "warehouse": {"path": "w.duckdb"},
            "runs": {"max_wait_minutes": 5, "checks_full_every_days": "3"},
        },
        tmp_path,
    )
    assert (cfg.max_wait_minutes, cfg.checks_full_every_days) == (5.0, 3.0)
    assert cfg.models_full_every_days == config.DEFAULT_MODELS_FULL_EVERY_DAYS
    # only what differs from the defaults is written
    dumped = yaml.safe_load(config.dump(cfg))
    assert dumped["runs"] == {"max_wait_minutes": 5.0, "checks_full_every_days": 3.0}
    assert config.from_dict(dumped, tmp_path) == cfg
    assert "runs" not in yaml.safe_load(
        config.dump(config.from_dict(dumped | {"runs": {}}, tmp_path))
    )
    with pytest.raises(
        config.ConfigError,
        match=r"'runs.models_full_every_days' must be a number of days in .*x.yml",
    ):
        config.from_dict(
            {"warehouse": {"path": "w.duckdb"}, "runs": {"models_full_every_days": "weekly"}},
            tmp_path,
            tmp_path / "x.yml",
        )


def test_duckdb_memory_threads_and_insert_order_reach_the_loaders_connections(tmp_path):
    import yaml

    from ingest.pipelines import make_pipeline

    cfg = config.from_dict(
        {"warehouse": {"path": "w.duckdb", "memory_limit": "700MB", "threads": 1}}, tmp_path
    )
    assert cfg.duckdb_settings == {"memory_limit": "700MB", "threads": 1}
    assert config.from_dict(yaml.safe_load(config.dump(cfg)), tmp_path).duckdb_threads == 1
    default = config.from_dict({"warehouse": {"path": "w.duckdb"}}, tmp_path)
    assert default.duckdb_settings == {"memory_limit": "1GB", "threads": 2}
    with pytest.raises(config.ConfigError, match="warehouse.threads"):
        config.from_dict({"warehouse": {"path": "w.duckdb", "threads": "many"}}, tmp_path)

    pipeline = make_pipeline(
        "sheets", cfg.warehouse, tmp_path / "p", duckdb_settings=cfg.duckdb_settings
    )
    pipeline.run([{"n": 1}], table_name="t")
    with pipeline.sql_client() as client:
        limit, threads, ordered = client.execute_sql(
            "select current_setting('memory_limit'), current_setting('threads'), "
            "current_setting('preserve_insertion_order')"
        )[0]
    # DuckDB's own default is every core and 80% of RAM
    assert threads == 1 and limit.replace(" ", "") in ("667.5MiB", "700.0MB"), limit
    # DuckDB's default keeps insertion order, and a load's checkpoint then merges the part-filled
    # row groups an uneven load leaves (ingest.pipelines.LOAD_SETTINGS)
    assert ordered is False


def test_the_engine_is_one_warehouse_setting(tmp_path, monkeypatch):
    default = config.load(write(tmp_path, "warehouse: {path: w.duckdb}\n"))
    assert default.engine == "duckdb" and default.spark_dir is None
    cfg = config.load(
        write(
            tmp_path,
            "warehouse: {path: wh/w.duckdb, engine: spark}\ntimezone: Europe/Berlin\n",
        )
    )
    assert cfg.engine == "spark" and cfg.spark_dir == tmp_path / "wh" / "spark"
    # the setting survives a dump (the demo and the tests write configs this way)
    again = config.load(write(tmp_path, config.dump(cfg)))
    assert (again.engine, again.spark_dir) == ("spark", tmp_path / "wh" / "spark")
    with pytest.raises(config.ConfigError, match="warehouse.engine.*duckdb, spark"):
        config.load(write(tmp_path, "warehouse: {path: w.duckdb, engine: snowflake}\n"))
    # Dagster's schedules and partitions read the business time zone of SALESOPS_CONFIG
    path = write(tmp_path, "warehouse: {path: w.duckdb}\ntimezone: Europe/Berlin\n")
    monkeypatch.setenv("SALESOPS_CONFIG", str(path))
    assert config.business_timezone() == "Europe/Berlin"
    monkeypatch.delenv("SALESOPS_CONFIG")
    assert config.business_timezone() == config.DEFAULT_TIMEZONE
