"""No raw table shrinks by more than ``volume_drop_max`` (15%) from one day to the next: a
partial export or a broken filter shows as a drop before it shows in the metrics.

Compares each table's newest row count in ``ops.table_volumes`` (written after every load)
with its last count from an earlier day; a table seen on one day only passes."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import great_expectations as gx
import pandas as pd

GUARDS = "dq_findings"
BLOCKING = False
COLUMNS = ["record_id", "previous_rows", "row_count", "change"]


def frame(con, settings, as_of) -> pd.DataFrame:
    exists = con.execute(
        "select count(*) from information_schema.tables "
        "where table_schema = 'ops' and table_name = 'table_volumes'"
    ).fetchone()[0]
    if not exists:
        return pd.DataFrame(columns=COLUMNS).astype({"change": "float64"})
    return con.execute(
        """
        with latest as (
            select table_name, row_count, observed_at
            from ops.table_volumes
            qualify row_number() over (partition by table_name order by observed_at desc) = 1
        ),
        previous as (
            select v.table_name, v.row_count
            from ops.table_volumes as v
            inner join latest on v.table_name = latest.table_name
            where cast(v.observed_at as date) < cast(latest.observed_at as date)
            qualify row_number() over (partition by v.table_name order by v.observed_at desc) = 1
        )
        select
            latest.table_name as record_id,
            previous.row_count as previous_rows,
            latest.row_count,
            case when previous.row_count > 0
                then latest.row_count / previous.row_count - 1 end as change
        from latest
        left join previous using (table_name)
        order by 1
        """
    ).df()


def build_suite(settings: dict[str, float]) -> gx.ExpectationSuite:
    import great_expectations as gx
    import great_expectations.expectations as gxe

    suite = gx.ExpectationSuite(name="source_volume")
    suite.add_expectation(
        gxe.ExpectColumnValuesToBeBetween(
            column="change",
            min_value=-settings["volume_drop_max"],
            meta={"rule": "volume_drop"},
            description="no raw table lost more than volume_drop_max of its rows since yesterday",
        )
    )
    return suite
