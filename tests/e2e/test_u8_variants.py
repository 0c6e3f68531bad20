"""A U8 that differs from the demo's (devkit.demo.variants), loaded by the real U8 source into a
copy of the scale-S demo warehouse and rebuilt where it is read: what cannot be computed says
so (ops.source_contract, rpt_metric_applicability), never a figure of 0."""

from __future__ import annotations

import shutil

import duckdb
import pytest

from devkit.demo import variants
from ingest.pipelines import check_contract, check_empty, make_pipeline
from ingest.u8 import u8_source
from tests.support.dbt import dbt_run
from tests.support.warehouse import first_rows

pytestmark = pytest.mark.slow

# what reads U8's amounts, with the contract and the applicability they follow
REBUILT = (
    "stg_ops__source_contract rpt_metric_applicability stg_u8__invoice_lines stg_u8__receipts "
    "stg_u8__sales_order_lines rpt_forecast_vs_actual rpt_forecast_accuracy fct_customer_health"
)


def test_blank_u8_amounts_make_the_actuals_not_applicable_not_zero(demo_run, tmp_path):
    """U8 invoice lines, receipts and order lines whose amount column is there but blank in
    every row: the invoiced and received actuals, the errors against them and the payment part
    of customer health are null, never 0, and 不适用 with the reason; the CRM-to-U8 amount check
    says 不适用; the invoices themselves still land and the forecasts stand."""
    sources = tmp_path / "sources"
    shutil.copytree(demo_run.sources / "u8", sources / "u8")
    variants.apply(sources, ["u8_blank_amounts"], {})
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(demo_run.config.warehouse, warehouse)
    with duckdb.connect(str(warehouse)) as con:  # this U8 is loaded afresh, as on a first run
        con.execute("drop schema raw_u8 cascade")
    section = {"url": f"sqlite:///{sources / 'u8' / 'UFDATA_001_2026.db'}"}
    assert check_contract("u8", section, warehouse) == []
    make_pipeline("u8", warehouse, pipelines_dir=tmp_path / "p").run(u8_source(**section))
    found = check_empty("u8", section, warehouse)
    assert sorted((f.object, f.column) for f in found) == [
        ("Ap_CloseBill", "iAmount"),
        ("SO_SODetails", "iSum"),
        ("SaleBillVouchs", "iSum"),
    ]
    dbt_run(warehouse, demo_run.config.as_of, REBUILT, tmp_path / "target")

    got = first_rows(
        warehouse,
        invoiced="select is_applicable, reason from marts.rpt_metric_applicability "
        "where metric = 'actual_invoiced'",
        received="select is_applicable, reason from marts.rpt_metric_applicability "
        "where metric = 'actual_received'",
        orders="select is_applicable, reason from marts.rpt_metric_applicability "
        "where metric = 'erp_order_amount'",
        actuals="select count(*), count(forecast_amount), count(actual_invoiced), "
        "count(actual_received), count(abs_error), count(pct_error), count(empirical_pct_error) "
        "from marts.rpt_forecast_vs_actual",
        accuracy="select count(*), count(forecast_amount), count(actual_invoiced), "
        "count(actual_received), count(pct_error) from marts.rpt_forecast_accuracy",
        health="select count(*), count(received_amount), count(payment_score), "
        "count(health_score) from marts.fct_customer_health",
        invoices="select count(*), count(gross_amount) from staging.stg_u8__invoice_lines",
    )
    assert got["invoiced"] == (False, "用友 U8 SaleBillVouchs.iSum 字段全部为空")
    assert got["received"] == (False, "用友 U8 Ap_CloseBill.iAmount 字段全部为空")
    assert got["orders"] == (False, "用友 U8 SO_SODetails.iSum 字段全部为空")
    actuals, accuracy, health = got["actuals"], got["accuracy"], got["health"]
    assert actuals[0] > 0 and actuals[1] > 0 and actuals[2:] == (0, 0, 0, 0, 0)
    assert accuracy[0] > 0 and accuracy[1] > 0 and accuracy[2:] == (0, 0, 0)
    # nothing is read as received (or unpaid): payment is left out of the weighting
    assert health[0] > 0 and health[1:3] == (0, 0) and health[3] == health[0]
    assert got["invoices"][0] > 0 and got["invoices"][1] == 0

    # the forecast page says so, and draws no series and no error chart of what is not there
    from salesops import bi, publish
    from tests.support import pages

    bi_file = tmp_path / "warehouse_bi.duckdb"
    publish.publish_bi(warehouse, bi_file)
    (report,) = pages.inspect_pages(bi.build_site(bi_file, tmp_path / "site"), ["forecast"])
    assert report.console_errors == [] and report.error_boxes == [], report
    assert report.blank_charts == [], report
    assert "U8 开票：不适用" in report.text and "SaleBillVouchs.iSum 字段全部为空" in report.text
    assert "U8 回款：不适用" in report.text and "Ap_CloseBill.iAmount 字段全部为空" in report.text
    assert "预测误差：不适用" in report.text and "预测误差月度走势" not in report.text
