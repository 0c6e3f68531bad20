"""Every configured source loaded recently (SPEC §6 stale sources): the last successful load
of each ``raw_<source>`` dataset is younger than its limit in the settings sheet
(``freshness_max_hours``; ``freshness_max_hours_<source>`` overrides it per source)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

import duckdb

if TYPE_CHECKING:
    import great_expectations as gx
import pandas as pd

GUARDS = "dq_findings"
BLOCKING = False


def frame(con: duckdb.DuckDBPyConnection, settings: dict[str, float], as_of) -> pd.DataFrame:
    schemas = [
        s
        for (s,) in con.execute(
            "select table_schema from information_schema.tables "
            "where table_name = '_dlt_loads' and table_schema like 'raw\\_%' escape '\\' "
            "order by 1"
        ).fetchall()
    ]
    now = datetime.now(UTC)
    rows = []
    for schema in schemas:
        source = schema.removeprefix("raw_")
        (last,) = con.execute(
            f"select max(inserted_at) from {schema}._dlt_loads where status = 0"
        ).fetchone()
        age = None if last is None else (now - last).total_seconds() / 3600
        limit = settings.get(f"freshness_max_hours_{source}", settings["freshness_max_hours"])
        rows.append(
            {
                "record_id": source,
                "last_loaded_at": last,
                "age_hours": age,
                "max_age_hours": limit,
            }
        )
    return pd.DataFrame(
        rows, columns=["record_id", "last_loaded_at", "age_hours", "max_age_hours"]
    ).astype({"age_hours": "float64", "max_age_hours": "float64"})


def build_suite(settings: dict[str, float], name: str = "source_freshness") -> gx.ExpectationSuite:
    import great_expectations as gx
    import great_expectations.expectations as gxe

    suite = gx.ExpectationSuite(name=name)
    suite.add_expectation(gxe.ExpectColumnValuesToNotBeNull(column="last_loaded_at"))
    suite.add_expectation(
        gxe.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A="max_age_hours",
            column_B="age_hours",
            or_equal=True,
            meta={"rule": "stale_source"},
            description="each source's last successful load is younger than its limit",
        )
    )
    return suite
