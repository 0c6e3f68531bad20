"""Run the Great Expectations suites against the warehouse; write GX Data Docs.

A suite lives in ``expectations/suites/<name>.py`` and declares:

- ``GUARDS``: the dbt model (= Dagster asset) it guards; its check is attached there.
- ``BLOCKING``: whether a failure stops everything downstream of that asset from publishing.
- ``QUERY``: the SQL that builds the frame it validates (or a function
  ``frame(con, settings, as_of)``). ``{model_name}`` placeholders are replaced with the
  model's table in the warehouse; ``{as_of_end}`` with the run's as-of instant (UTC). Rule
  columns come from ``marts.dq_findings`` (the row-level rules of SPEC §6 run there, as SQL,
  so each finding keeps its evidence); a rule column holds the finding's details for a
  flagged record and is null otherwise.
- ``build_suite(settings) -> gx.ExpectationSuite``: thresholds from the settings sheet.
- ``CHANGED_AT`` (optional): the frame's column saying when a record last changed. With
  ``since``, such a suite validates only the records changed since then plus every record a
  rule flags (so the findings it reports are the same as over all history); without, all.

``validate_all`` runs every suite; with ``docs_dir`` it runs them through a GX checkpoint in
a file context there and rebuilds the HTML Data Docs (``<docs_dir>/gx/uncommitted/data_docs``).

With ``spark_dir`` (the Spark engine, salesops.spark) the same suites validate Spark
DataFrames through GX's Spark datasource: a suite's ``QUERY`` runs on Spark's tables (written
in DuckDB's dialect, translated to Spark SQL by sqlglot); a suite's own ``frame`` function reads
the warehouse file (the raw layer's ``ops`` tables, and Spark's marts published there), its
rows handed to Spark.
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import duckdb
import pandas as pd
import pyarrow as pa
import sqlglot
from sqlglot import exp

from expectations import suites as suites_pkg
from ingest.sheets import default_settings
from salesops import spark as spark_engine
from salesops.config import DEFAULT_TIMEZONE

# Great Expectations imports PySpark when it is installed (the Spark engine needs it), and PySpark
# warns at import that it does not fully support pandas 3: nothing this run's checks found
warnings.filterwarnings(
    "ignore", message="PySpark does not yet fully support pandas", category=FutureWarning
)

# GX takes seconds to import: it is imported where a suite is built or validated, so a run that
# finds nothing new (and the definitions, which read only the suites' names and targets) never
# pays for it
if TYPE_CHECKING:
    import great_expectations as gx

logging.getLogger("great_expectations").setLevel(logging.WARNING)
SHOWN = 20  # sample records kept per failed expectation


@dataclass
class ExpectationOutcome:
    expectation: str
    column: str | None
    rule: str | None
    success: bool
    unexpected_count: int | None
    observed: Any
    sample: list[Any] = field(default_factory=list)
    records: list[str] = field(default_factory=list)
    error: str | None = None


@dataclass
class ValidationSummary:
    suite: str
    guards: str
    blocking: bool
    success: bool
    rows: int
    evaluated: int
    failed: int
    outcomes: list[ExpectationOutcome]

    def failures(self) -> list[ExpectationOutcome]:
        return [o for o in self.outcomes if not o.success]

    def lines(self) -> list[str]:
        """One line per failed expectation, for logs and check metadata."""
        out = []
        for o in self.failures():
            what = o.rule or f"{o.expectation}({o.column or ''})"
            if o.error:
                out.append(f"{what}: could not be evaluated: {o.error}")
            else:
                shown = o.records or o.sample
                out.append(f"{what}: {o.unexpected_count} unexpected, e.g. {shown[:3]}")
        return out


def suite_names() -> list[str]:
    """The suites in ``expectations/suites``."""
    return sorted(
        m.name for m in pkgutil.iter_modules(suites_pkg.__path__) if not m.name.startswith("_")
    )


def suite_module(name: str) -> ModuleType:
    return importlib.import_module(f"expectations.suites.{name}")


_context = None


def get_context():
    """The process's ephemeral GX context (GX needs one before a suite can be built)."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    global _context
    if _context is None:
        _context = gx.get_context(mode="ephemeral")
        _context.variables.progress_bars = ProgressBarsConfig(globally=False)
    return _context


# -- reading the warehouse ------------------------------------------------------------------------
def _tables(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """model/table name -> qualified name; ``marts`` wins over other schemas."""
    rows = con.execute(
        "select table_schema, table_name from information_schema.tables "
        "order by table_schema = 'marts', table_schema"
    ).fetchall()
    return {name: f'"{schema}"."{name}"' for schema, name in rows}


def settings(con: duckdb.DuckDBPyConnection) -> dict[str, float]:
    """The thresholds the suites read: the settings sheet over the project's defaults (the
    sheets loader's own, ``ingest/sheets/defaults/settings.csv``)."""
    out = default_settings()
    table = _tables(con).get("stg_sheets__settings")
    if table:
        for name, value in con.execute(
            f"select setting_name, setting_value from {table}"
        ).fetchall():
            try:
                out[name] = float(value)
            except (TypeError, ValueError):
                continue
    return out


def as_of_end(as_of: date | None, timezone: str = DEFAULT_TIMEZONE) -> datetime:
    """The end of the as-of day in the business time zone, as naive UTC (how the marts store
    time)."""
    if as_of is None:
        return datetime.now(UTC).replace(tzinfo=None)
    local = datetime.combine(as_of + timedelta(days=1), time(), ZoneInfo(timezone))
    return local.astimezone(UTC).replace(tzinfo=None)


def frame(
    con: duckdb.DuckDBPyConnection,
    module: ModuleType,
    as_of: date | None,
    limits: dict[str, float] | None = None,
    since: datetime | None = None,
    timezone: str = DEFAULT_TIMEZONE,
) -> pd.DataFrame:
    """The suite's frame: its ``frame(con, settings, as_of)`` or its ``QUERY`` (with ``since``
    and a ``CHANGED_AT`` column, the records changed since then and those a rule flags)."""
    if hasattr(module, "frame"):
        return by_record(module.frame(con, limits or settings(con), as_of))
    query = _query(module, _tables(con), as_of, timezone)
    query = _changed_since(
        module, query, since, lambda t: f"cast('{t}+00' as timestamp with time zone)"
    )
    return by_record(con.execute(query).df())


def by_record(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` in the order of its ``record_id`` column, and indexed by it (kept as a column too)
    when no id repeats.

    The order: a suite's query has none, and the records a failed expectation names (its first
    20) came out differently from one run to the next on the same data. The index: GX names each
    unexpected row by its record id; from the index it takes the id as it is, from a column it
    looks the id up row by row, checking the column name each time (the activities suite's 60k
    flagged rows at scale M: 2.3 → 1.5 s). Repeated ids, which the suites' uniqueness
    expectations report, keep the default index."""
    if "record_id" not in df.columns:
        return df
    df = df.sort_values("record_id", kind="stable", ignore_index=True)
    if df["record_id"].is_unique:
        df.index = pd.Index(df["record_id"], name="record_id")
    return df


def _changed_since(
    module: ModuleType, query: str, since: datetime | None, instant: Callable[[str], str]
) -> str:
    """``query`` narrowed to the records changed since ``since`` and those a rule flags, for a
    suite with a ``CHANGED_AT`` column; ``instant`` writes the UTC time (``YYYY-MM-DD
    HH:MM:SS``) as the engine's timestamp literal. As it is without ``since``."""
    changed = getattr(module, "CHANGED_AT", None)
    if since is None or not changed:
        return query
    flagged = "".join(f" or {rule} is not null" for rule in getattr(module, "RULES", ()))
    at = instant(f"{since.astimezone(UTC):%Y-%m-%d %H:%M:%S}")
    return f"select * from ({query}) as suite_frame where {changed} >= {at}{flagged}"


def _query(module: ModuleType, tables: dict[str, str], as_of: date | None, timezone: str) -> str:
    """The suite's ``QUERY`` with its ``{model}`` and ``{as_of_end}`` placeholders filled in."""

    def table(match: re.Match) -> str:
        name = match.group(1)
        if name == "as_of_end":
            return f"timestamp '{as_of_end(as_of, timezone):%Y-%m-%d %H:%M:%S}'"
        if name not in tables:
            raise LookupError(f"suite {module.__name__}: table {name} is not in the warehouse")
        return tables[name]

    return re.sub(r"\{(\w+)\}", table, module.QUERY)


# -- reading Spark --------------------------------------------------------------------------------
SPARK_SCHEMAS = ("staging", "marts")  # the later wins, as marts does in _tables


def _spark_tables(spark) -> dict[str, str]:
    out = {}
    for schema in SPARK_SCHEMAS:
        for row in spark.sql(f"show tables in `{schema}`").collect():
            if not row.isTemporary:
                # in DuckDB's quoting: the query is translated to Spark SQL after (spark_sql)
                out[row.tableName] = f'"{schema}"."{row.tableName}"'
    return out


def spark_frame(
    spark,
    con: duckdb.DuckDBPyConnection,
    module: ModuleType,
    as_of: date | None,
    limits: dict[str, float],
    since: datetime | None = None,
    timezone: str = DEFAULT_TIMEZONE,
):
    """The suite's frame as a Spark DataFrame (see the module's docstring)."""
    if hasattr(module, "frame"):
        rows = pa.Table.from_pandas(module.frame(con, limits, as_of), preserve_index=False)
        return spark.createDataFrame(rows)
    query = _query(module, _spark_tables(spark), as_of, timezone)
    # Spark's session time zone is UTC: a timestamp literal is the instant
    query = _changed_since(module, query, since, lambda t: f"timestamp '{t}'")
    return spark.sql(spark_sql(query))


def spark_sql(query: str) -> str:
    """A suite's query, in DuckDB's dialect, as Spark SQL: sqlglot's translation, with epoch()
    kept to the microsecond (Spark's unix_timestamp drops the fraction) and timestamps as
    instants (Spark's session time zone is UTC, the marts' time)."""

    def instants(node: exp.Expression) -> exp.Expression:
        naive = (exp.DataType.Type.TIMESTAMP, exp.DataType.Type.TIMESTAMPNTZ)
        if isinstance(node, exp.DataType) and node.this in naive:
            return exp.DataType.build("timestamptz")
        return node

    def microseconds(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.TimeToUnix):
            micros = exp.Anonymous(this="unix_micros", expressions=[node.this])
            return exp.Paren(this=exp.Div(this=micros, expression=exp.Literal.number(1000000)))
        return node

    tree = sqlglot.parse_one(query, read="duckdb").transform(instants).transform(microseconds)
    return tree.sql(dialect="spark")


def _validate_on_spark(
    spark,
    warehouse: Path,
    as_of: date | None,
    docs_dir: Path | None,
    names: list[str],
    changed_after: datetime | None,
    timezone: str,
) -> list[ValidationSummary]:
    def load(con, module, limits, since):
        df = spark_frame(spark, con, module, as_of, limits, since, timezone)
        if "record_id" in df.columns:  # the records named, as on DuckDB (``by_record``)
            df = df.orderBy("record_id")
        df = df.cache()
        return df, df.count()

    return _validate_loaded(warehouse, docs_dir, names, changed_after, load)


def _validate_loaded(
    warehouse: Path,
    docs_dir: Path | None,
    names: list[str],
    changed_after: datetime | None,
    load: Callable[[duckdb.DuckDBPyConnection, ModuleType, dict, datetime | None], tuple],
) -> list[ValidationSummary]:
    """The suites ``names`` on the frames ``load(con, module, limits, since)`` gives (a frame of
    one engine and its rows; ``since`` the start of the changed-records window, or None): the
    settings read once from the warehouse, the window ``late_arriving_days`` before
    ``changed_after``."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        limits = settings(con)
        since = None
        if changed_after is not None:
            since = changed_after - timedelta(days=limits["late_arriving_days"])
        work = []
        for name in names:
            module = suite_module(name)
            work.append((name, module, *load(con, module, limits, since)))
    finally:
        con.close()
    get_context()
    if docs_dir is None:
        return [
            _summary(n, m, rows, validate_frame(m.build_suite(limits), df))
            for n, m, df, rows in work
        ]
    return _validate_with_docs(work, limits, Path(docs_dir))


# -- validating -----------------------------------------------------------------------------------
def _summary(name: str, module: ModuleType, rows: int, result) -> ValidationSummary:
    outcomes = []
    for r in result.results:
        cfg = r.expectation_config
        res = r.result or {}
        error = None
        info = r.exception_info or {}
        infos = [info] if "raised_exception" in info else list(info.values())
        raised = [i for i in infos if isinstance(i, dict) and i.get("raised_exception")]
        if raised:
            error = "; ".join(str(i.get("exception_message")) for i in raised)[:300]
        records = [
            str(i.get("record_id"))
            for i in (res.get("partial_unexpected_index_list") or [])
            if isinstance(i, dict) and i.get("record_id") is not None
        ]
        outcomes.append(
            ExpectationOutcome(
                expectation=cfg.type,
                column=cfg.kwargs.get("column"),
                rule=(cfg.meta or {}).get("rule"),
                success=bool(r.success),
                unexpected_count=res.get("unexpected_count"),
                observed=res.get("observed_value"),
                sample=list(res.get("partial_unexpected_list") or [])[:SHOWN],
                records=records[:SHOWN],
                error=error,
            )
        )
    failed = sum(not o.success for o in outcomes)
    return ValidationSummary(
        suite=name,
        guards=module.GUARDS,
        blocking=bool(getattr(module, "BLOCKING", False)),
        success=failed == 0,
        rows=rows,
        evaluated=len(outcomes),
        failed=failed,
        outcomes=outcomes,
    )


def _result_format(df: pd.DataFrame) -> dict[str, Any]:
    fmt: dict[str, Any] = {"result_format": "SUMMARY", "partial_unexpected_count": SHOWN}
    if "record_id" in df.columns:
        fmt["unexpected_index_column_names"] = ["record_id"]
    return fmt


def _is_spark(df) -> bool:
    return not isinstance(df, pd.DataFrame)


def validate_frame(suite: gx.ExpectationSuite, df):
    """Validate ``df`` (a pandas or a Spark DataFrame) in the ephemeral context; the GX
    validation result."""
    context = get_context()
    source_name = f"frame_{suite.name}"
    if source_name in [ds.name for ds in context.data_sources.all().values()]:
        context.data_sources.delete(source_name)
    if _is_spark(df):
        source = context.data_sources.add_spark(source_name)
    else:
        source = context.data_sources.add_pandas(source_name)
    asset = source.add_dataframe_asset(name=suite.name)
    batch = asset.add_batch_definition_whole_dataframe("whole").get_batch(
        batch_parameters={"dataframe": df}
    )
    return batch.validate(suite, result_format=_result_format(df))


def validate(
    name: str,
    warehouse: str | Path,
    as_of: date | None = None,
    docs_dir: str | Path | None = None,
) -> ValidationSummary:
    """Run suite ``name`` against the warehouse (read-only)."""
    return validate_all(warehouse, as_of=as_of, docs_dir=docs_dir, names=[name])[0]


def validate_all(
    warehouse: str | Path,
    as_of: date | None = None,
    docs_dir: str | Path | None = None,
    names: list[str] | None = None,
    changed_after: datetime | None = None,
    timezone: str = DEFAULT_TIMEZONE,
    spark_dir: str | Path | None = None,
) -> list[ValidationSummary]:
    """Run the suites (default: all) and, with ``docs_dir``, rebuild GX Data Docs there.
    ``changed_after`` (the last check) narrows the suites with a ``CHANGED_AT`` column to the
    records changed since ``late_arriving_days`` (settings sheet) before it, the window
    late records arrive in, plus every flagged record. With ``spark_dir`` the frames are Spark
    DataFrames on the warehouse there (a Spark session in a child process)."""
    if spark_dir is not None:
        return spark_engine.run_in_session(
            _validate_on_spark,
            Path(spark_dir),
            Path(warehouse),
            as_of,
            Path(docs_dir) if docs_dir is not None else None,
            names or suite_names(),
            changed_after,
            timezone,
        )

    def load(con, module, limits, since):
        df = frame(con, module, as_of, limits, since, timezone)
        return df, len(df)

    return _validate_loaded(
        Path(warehouse),
        Path(docs_dir) if docs_dir is not None else None,
        names or suite_names(),
        changed_after,
        load,
    )


def _validate_with_docs(work, limits, docs_dir: Path) -> list[ValidationSummary]:
    """Each suite through a checkpoint of a file context in ``docs_dir`` (its result is kept
    there), then the Data Docs of this run's results rebuilt once."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    docs_dir.mkdir(parents=True, exist_ok=True)
    context = gx.get_context(mode="file", project_root_dir=str(docs_dir))
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    out, identifiers = [], []
    for name, module, df, rows in work:
        if _is_spark(df):
            source = context.data_sources.add_or_update_spark("warehouse_spark")
        else:
            source = context.data_sources.add_or_update_pandas("warehouse")
        suite = context.suites.add_or_update(module.build_suite(limits))
        try:
            asset = source.get_asset(name)
        except LookupError:
            asset = source.add_dataframe_asset(name=name)
        try:
            batch_definition = asset.get_batch_definition("whole")
        except KeyError:
            batch_definition = asset.add_batch_definition_whole_dataframe("whole")
        definition = context.validation_definitions.add_or_update(
            gx.ValidationDefinition(name=name, data=batch_definition, suite=suite)
        )
        checkpoint = context.checkpoints.add_or_update(
            gx.Checkpoint(
                name=f"warehouse_{name}",
                validation_definitions=[definition],
                result_format=_result_format(df),
            )
        )
        result = checkpoint.run(batch_parameters={"dataframe": df})
        ((identifier, validation),) = result.run_results.items()
        identifiers += [identifier, identifier.expectation_suite_identifier]
        out.append(_summary(name, module, rows, validation))
    prune_docs(docs_dir)
    context.build_data_docs(resource_identifiers=identifiers)
    return out


# validation results (and their pages) kept in the Data Docs
DOCS_KEEP_DAYS = 30


def prune_docs(docs_dir: Path, keep_days: int = DOCS_KEEP_DAYS) -> int:
    """Remove stored validation results and their rendered pages older than ``keep_days``:
    the Data Docs index lists every stored result, so it would grow with every run."""
    cutoff = datetime.now().timestamp() - keep_days * 86400
    removed = 0
    gx_dir = Path(docs_dir) / "gx" / "uncommitted"
    for folder in (gx_dir / "validations", gx_dir / "data_docs" / "local_site" / "validations"):
        if not folder.is_dir():
            continue
        for path in folder.rglob("*"):
            if path.is_file() and path.stat().st_mtime < cutoff:
                path.unlink()
                removed += 1
        for path in sorted(folder.rglob("*"), key=lambda p: -len(p.parts)):
            if path.is_dir() and not any(path.iterdir()):
                path.rmdir()
    return removed


def docs_index(docs_dir: str | Path) -> Path:
    """The Data Docs entry page under ``docs_dir``."""
    return Path(docs_dir) / "gx" / "uncommitted" / "data_docs" / "local_site" / "index.html"
