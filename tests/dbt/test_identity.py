"""Identity across CRM and U8: an account without a unique U8 customer is its own finding
(``customer_unmatched``, with the reason); its won deals cannot be verified and are never
counted as wins without an order."""

from __future__ import annotations

import json
import shutil

import duckdb

from tests.support.dbt import dbt_run
from tests.support.warehouse import query_file


def test_won_deals_of_an_account_without_a_unique_u8_match_are_unverifiable(demo_run, tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(demo_run.config.warehouse, warehouse)
    con = duckdb.connect(str(warehouse))
    # two accounts with won deals, matched to U8 by company name alone
    (ambiguous, code_a), (renamed, code_b) = con.execute("""
        select c.crm_account_id, c.u8_customer_code
        from marts.dim_customer c
        where c.u8_match = 'name' and c.crm_account_id in (
            select account_id from staging.stg_crm__opportunities where is_won)
        order by 1 limit 2
    """).fetchall()  # fmt: skip
    won = dict(
        con.execute(
            "select account_id, list(opportunity_id) from staging.stg_crm__opportunities "
            "where is_won and not is_deleted and account_id in (?, ?) group by 1",
            [ambiguous, renamed],
        ).fetchall()
    )
    # a second U8 customer with the first one's name; the second one renamed beyond recognition
    con.execute(
        "insert into raw_u8.customer by name select * replace ('C99999' as ccuscode) "
        "from raw_u8.customer where ccuscode = ?",
        [code_a],
    )
    con.execute("update raw_u8.customer set ccusname = '无关公司' where ccuscode = ?", [code_b])
    con.close()
    dbt_run(warehouse, demo_run.config.as_of, "dim_customer dq_findings", tmp_path / "target")

    rule = "select record_id, details from marts.dq_findings where rule = ?"
    findings = {i: json.loads(d) for i, d in query_file(warehouse, rule, ("customer_unmatched",))}
    unverified = {i for i, _ in query_file(warehouse, rule, ("won_without_order",))}
    assert findings.keys() == {ambiguous, renamed}
    assert findings[ambiguous]["reason"] == "ambiguous_name"
    assert findings[ambiguous]["u8_customers_with_name"] == 2
    assert findings[ambiguous]["unverifiable_won_deals"] == len(won[ambiguous]) > 0
    assert findings[renamed]["reason"] == "no_u8_customer"
    assert findings[renamed]["u8_customers_with_name"] == 0
    assert findings[renamed]["unverifiable_won_deals"] == len(won[renamed]) > 0
    # their won deals cannot be verified: none of them is a win without an order
    assert not {*won[ambiguous], *won[renamed]} & unverified
