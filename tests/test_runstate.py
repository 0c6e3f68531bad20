"""What a build starts from (salesops.runstate): a table's summary changes with its content, not
with a load that rewrote the same rows; the incremental models a changed sheet reaches."""

from __future__ import annotations

import duckdb

from salesops import runstate

TABLES = [("raw_sheets", "dict_effective_actions"), ("ops", "source_loads")]


def warehouse() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("create schema raw_sheets; create schema ops")
    con.execute(
        "create table raw_sheets.dict_effective_actions as "
        "select * from (values ('拜访', '1', 'a1'), ('报价', '1', 'a2')) t(keyword, _dlt_load_id, "
        "_dlt_id)"
    )
    con.execute(
        "create table ops.source_loads as select 'crm' as source, 'ok' as status, "
        "now() as attempted_at"
    )
    return con


def test_a_reload_of_the_same_rows_keeps_the_hash_a_changed_row_does_not():
    con = warehouse()
    first = runstate.fingerprints(con, TABLES)
    assert first["raw_sheets.dict_effective_actions"][:2] == [2, "1"]
    # the same rows loaded again (new load id, new dlt row ids), and another attempt logged
    con.execute("update raw_sheets.dict_effective_actions set _dlt_load_id = '2', _dlt_id = 'x'")
    con.execute("update ops.source_loads set attempted_at = now() + interval 1 hour")
    again = runstate.fingerprints(con, TABLES, prior=first)
    assert (
        again["raw_sheets.dict_effective_actions"][2]
        == first["raw_sheets.dict_effective_actions"][2]
    )
    assert again["ops.source_loads"] == first["ops.source_loads"]
    assert runstate.changed_tables(first, again) == []
    con.execute("update raw_sheets.dict_effective_actions set keyword = '送样', _dlt_load_id = '3' "
                "where keyword = '报价'")  # fmt: skip
    con.execute("update ops.source_loads set status = 'failed'")
    changed = runstate.fingerprints(con, TABLES, prior=again)
    assert (
        changed["raw_sheets.dict_effective_actions"][2]
        != again["raw_sheets.dict_effective_actions"][2]
    )
    assert runstate.changed_tables(again, changed) == [
        "ops.source_loads",
        "raw_sheets.dict_effective_actions",
    ]


def test_a_raw_table_with_new_rows_is_changed_without_reading_it():
    con = duckdb.connect()
    con.execute("create schema raw_crm")
    con.execute("create table raw_crm.tasks as select 1 as id, '1' as _dlt_load_id")
    tables = [("raw_crm", "tasks")]
    first = runstate.fingerprints(con, tables)
    assert first["raw_crm.tasks"][2] is not None
    con.execute("insert into raw_crm.tasks values (2, '2')")
    grown = runstate.fingerprints(con, tables, prior=first)
    assert grown["raw_crm.tasks"] == [2, "2", None]
    assert runstate.changed_tables(first, grown) == ["raw_crm.tasks"]
    assert runstate.fingerprints(con, tables, prior=grown) == grown  # nothing new since
    con.execute("update raw_crm.tasks set _dlt_load_id = '3'")  # rewritten: read it now
    rewritten = runstate.fingerprints(con, tables, prior=grown)
    assert rewritten["raw_crm.tasks"][2] is not None
    # its last hash is unknown, so it counts as changed once
    assert runstate.changed_tables(grown, rewritten) == ["raw_crm.tasks"]
    con.execute("update raw_crm.tasks set _dlt_load_id = '4'")
    assert runstate.changed_tables(rewritten, runstate.fingerprints(con, tables)) == []


def test_the_models_a_changed_sheet_reaches():
    manifest = {
        "sources": {
            "source.p.sheets.kw": {"schema": "raw_sheets", "name": "dict_effective_actions"},
            "source.p.sheets.targets": {"schema": "raw_sheets", "name": "targets"},
        },
        "nodes": {
            "model.p.stg_kw": {
                "name": "stg_kw",
                "resource_type": "model",
                "config": {"materialized": "view"},
                "depends_on": {"nodes": ["source.p.sheets.kw"]},
            },
            "model.p.fct_activities": {
                "name": "fct_activities",
                "resource_type": "model",
                "config": {"materialized": "incremental", "incremental_strategy": "delete+insert"},
                "depends_on": {"nodes": ["model.p.stg_kw"]},
            },
            "model.p.fct_log": {
                "name": "fct_log",
                "resource_type": "model",
                "config": {"materialized": "incremental", "incremental_strategy": "append"},
                "depends_on": {"nodes": ["model.p.stg_kw"]},
            },
            "model.p.fct_targets": {
                "name": "fct_targets",
                "resource_type": "model",
                "config": {"materialized": "incremental"},
                "depends_on": {"nodes": ["source.p.sheets.targets"]},
            },
        },
    }
    changed = ["raw_sheets.dict_effective_actions"]
    assert runstate.refreshed_models(manifest, changed) == {
        "fct_activities": ["raw_sheets.dict_effective_actions"]
    }
    assert runstate.refreshed_models(manifest, changed, models={"fct_targets"}) == {}
    assert runstate.source_tables(manifest) == [
        ("raw_sheets", "dict_effective_actions"),
        ("raw_sheets", "targets"),
    ]
