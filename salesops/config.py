"""The run configuration: which sources a company has, where they are, where the warehouse lives.

A YAML file (see ``salesops.example.yml``). Relative paths resolve against the file's folder.
Secrets never live here: they come from environment variables or ``ingest/.dlt/secrets.toml``
(``SOURCES__<SRC>__<NAME>``), read by dlt when a source runs.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from ingest import sources

SOURCE_NAMES = sources.NAMES
# the business time zone when the configuration names none (days, weeks, months cut in it)
DEFAULT_TIMEZONE = "Asia/Shanghai"
# the engines the dbt models build on (warehouse: {engine: ...}); salesops.spark for spark
ENGINES = ("duckdb", "spark")
_PATH_KEYS = ("_dir", "_path", "_file")
DEFAULT_MAX_WAIT_MINUTES = 30.0
# 1GB keeps a run at scale M under 3 GB of memory, dbt's process included (2.0 GB for dbt, 2.7
# with 2GB); past it DuckDB spills to disk, at M a dbt build 35% slower (BENCHMARKS.md)
DEFAULT_DUCKDB_MEMORY_LIMIT = "1GB"
DEFAULT_DUCKDB_THREADS = 2
DEFAULT_CHECKS_FULL_EVERY_DAYS = 7.0
DEFAULT_MODELS_FULL_EVERY_DAYS = 7.0
# the ``runs:`` settings (each a Config field of the same name): its default, what it must be
_RUN_SETTINGS = {
    "max_wait_minutes": (DEFAULT_MAX_WAIT_MINUTES, "a number of minutes"),
    "checks_full_every_days": (DEFAULT_CHECKS_FULL_EVERY_DAYS, "a number of days"),
    "models_full_every_days": (DEFAULT_MODELS_FULL_EVERY_DAYS, "a number of days"),
}


class ConfigError(ValueError):
    """The configuration file is missing, unreadable or inconsistent."""


@dataclass(frozen=True)
class Config:
    path: Path | None
    warehouse: Path
    bi_warehouse: Path
    timezone: str = DEFAULT_TIMEZONE
    # where the dbt models build: duckdb (the warehouse file) or spark (salesops.spark; the
    # sources still land in the warehouse file, and the marts are copied back into it)
    engine: str = "duckdb"
    spark_dir: Path | None = None
    as_of: date | None = None
    sources: dict[str, dict[str, Any]] = field(default_factory=dict)
    bi_site_dir: Path | None = None
    bi_out_dir: Path | None = None
    # region-scoped sites: one per sales region, holding only that region's rows
    bi_regions: bool = False
    bi_regions_dir: Path | None = None
    # how long a run waits for another run writing the same warehouse (or holding the
    # Dagster pool ``duckdb_write``) before it gives up (``runs: {max_wait_minutes: N}``)
    max_wait_minutes: float = DEFAULT_MAX_WAIT_MINUTES
    # where readers open the executive site (the morning report and the robot link to it)
    bi_site_url: str | None = None
    # the web server in front of the sites: address, logins and the site each may open
    serve: dict[str, Any] = field(default_factory=dict)
    # DuckDB's working memory and threads for every process writing the warehouse (dbt and
    # the loaders; ``warehouse: {memory_limit, threads}``): past the limit it spills to disk
    # beside the warehouse instead of growing
    duckdb_memory_limit: str = DEFAULT_DUCKDB_MEMORY_LIMIT
    duckdb_threads: int = DEFAULT_DUCKDB_THREADS
    # the Great Expectations row checks read what changed since the last check, and all
    # history when the last full check is this many days old (``runs: {checks_full_every_days}``)
    checks_full_every_days: float = DEFAULT_CHECKS_FULL_EVERY_DAYS
    # the incremental models (dq_findings, fct_activities, ...) are rebuilt from all history
    # when the last full build is this many days old (``runs: {models_full_every_days}``): it
    # catches what arrives later than their look-back windows
    models_full_every_days: float = DEFAULT_MODELS_FULL_EVERY_DAYS

    @property
    def duckdb_settings(self) -> dict[str, Any]:
        return {"memory_limit": self.duckdb_memory_limit, "threads": self.duckdb_threads}

    def region_bi_file(self, region: str) -> Path:
        """The BI file published for one region (beside the executive one)."""
        return self.bi_warehouse.with_name(f"{self.bi_warehouse.stem}.{region}.duckdb")

    @property
    def regions_out_dir(self) -> Path:
        return self.bi_regions_dir or self.work_dir / "site_regions"

    @property
    def work_dir(self) -> Path:
        """Folder for run state next to the warehouse (dlt pipeline state, logs)."""
        return self.warehouse.parent

    @property
    def pipelines_dir(self) -> Path:
        return self.work_dir / ".dlt_pipelines"

    def has(self, source: str) -> bool:
        return source in self.sources


def _resolve(value: Any, key: str, base: Path) -> Any:
    if isinstance(value, str) and (key in ("dir", "path", "file") or key.endswith(_PATH_KEYS)):
        p = Path(value).expanduser()
        return p if p.is_absolute() else (base / p).resolve()
    if isinstance(value, str) and key == "url" and value.startswith("sqlite:///"):
        raw = value[len("sqlite:///") :]
        p = Path(raw)
        if not p.is_absolute():
            return "sqlite:///" + str((base / p).resolve())
    return value


def _number(
    section: dict[str, Any], key: str, default: float, what: str, where: str, kind: type = float
) -> Any:
    """The setting ``key`` (``section.name``) of ``section`` as ``kind``, ``default`` when
    absent; a ConfigError naming it when it is not ``what``."""
    try:
        return kind(section.get(key.rsplit(".", 1)[1], default))
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"'{key}' must be {what}{where}") from exc


def from_dict(data: dict[str, Any], base: Path, path: Path | None = None) -> Config:
    where = f" in {path}" if path else ""
    wh = data.get("warehouse") or {}
    if "path" not in wh:
        raise ConfigError(f"'warehouse.path' is required{where}")
    warehouse = Path(_resolve(wh["path"], "_path", base))
    default_bi = str(warehouse.with_name("warehouse_bi.duckdb"))
    bi = Path(_resolve(wh.get("bi_path", default_bi), "_path", base))
    engine = wh.get("engine", "duckdb")
    if engine not in ENGINES:
        raise ConfigError(
            f"'warehouse.engine' is {engine!r}{where}; expected one of {', '.join(ENGINES)}"
        )
    spark_dir = Path(_resolve(wh.get("spark_dir", str(warehouse.with_name("spark"))), "_dir", base))
    sources: dict[str, dict[str, Any]] = {}
    for name, section in (data.get("sources") or {}).items():
        if name not in SOURCE_NAMES:
            raise ConfigError(
                f"unknown source '{name}'{where}; expected one of {', '.join(SOURCE_NAMES)}"
            )
        if section is None or section.get("enabled", True) is False:
            continue
        sources[name] = {k: _resolve(v, k, base) for k, v in section.items()}
    # the sheets carry the business rules: without a folder they are the shipped defaults
    # (ingest/sheets/defaults), so a company with nothing but a CRM export still runs
    sources.setdefault("sheets", {})
    as_of = data.get("as_of")
    if isinstance(as_of, str):
        as_of = date.fromisoformat(as_of)
    bi_cfg = data.get("bi") or {}
    runs_cfg = data.get("runs") or {}
    runs = {
        name: _number(runs_cfg, f"runs.{name}", default, what, where)
        for name, (default, what) in _RUN_SETTINGS.items()
    }
    threads = _number(wh, "warehouse.threads", DEFAULT_DUCKDB_THREADS, "a whole number", where, int)
    return Config(
        path=path,
        warehouse=warehouse,
        bi_warehouse=bi,
        timezone=data.get("timezone", DEFAULT_TIMEZONE),
        engine=engine,
        spark_dir=spark_dir if engine == "spark" else None,
        as_of=as_of,
        sources=sources,
        bi_site_dir=_resolve(bi_cfg["site_dir"], "_dir", base) if "site_dir" in bi_cfg else None,
        # the built site lands beside the warehouse unless configured
        bi_out_dir=Path(
            _resolve(bi_cfg.get("out_dir", str(warehouse.parent / "site")), "_dir", base)
        ),
        bi_regions=bool(bi_cfg.get("regions", False)),
        bi_regions_dir=Path(_resolve(bi_cfg["regions_dir"], "_dir", base))
        if bi_cfg.get("regions_dir")
        else None,
        bi_site_url=bi_cfg.get("site_url"),
        serve={k: _resolve(v, k, base) for k, v in (data.get("serve") or {}).items()},
        duckdb_memory_limit=str(wh.get("memory_limit", DEFAULT_DUCKDB_MEMORY_LIMIT)),
        duckdb_threads=threads,
        **runs,
    )


def load(path: str | Path) -> Config:
    path = Path(path).resolve()
    if not path.exists():
        raise ConfigError(f"config file not found: {path}")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"config file {path} is not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"config file {path} must hold a mapping at the top level")
    return from_dict(data, path.parent, path)


def dump(config: Config) -> str:
    """YAML text of a config (paths absolute), e.g. for the demo's generated config file."""
    data: dict[str, Any] = {
        "warehouse": {
            "path": str(config.warehouse),
            "bi_path": str(config.bi_warehouse),
            "memory_limit": config.duckdb_memory_limit,
            "threads": config.duckdb_threads,
        },
        "timezone": config.timezone,
        "sources": {
            n: {k: str(v) if isinstance(v, Path) else v for k, v in s.items()}
            for n, s in config.sources.items()
        },
    }
    if config.engine != "duckdb":
        data["warehouse"].update(engine=config.engine, spark_dir=str(config.spark_dir))
    if config.as_of:
        data["as_of"] = config.as_of.isoformat()
    bi = {
        "site_dir": config.bi_site_dir,
        "out_dir": config.bi_out_dir,
        "regions_dir": config.bi_regions_dir,
    }
    if any(bi.values()) or config.bi_regions:
        data["bi"] = {k: str(v) for k, v in bi.items() if v}
        if config.bi_regions:
            data["bi"]["regions"] = True
    runs = {
        name: getattr(config, name)
        for name, (default, _) in _RUN_SETTINGS.items()
        if getattr(config, name) != default
    }
    if runs:
        data["runs"] = runs
    if config.bi_site_url:
        data.setdefault("bi", {})["site_url"] = config.bi_site_url
    if config.serve:
        data["serve"] = {k: str(v) if isinstance(v, Path) else v for k, v in config.serve.items()}
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


def business_timezone() -> str:
    """The time zone of the configuration ``SALESOPS_CONFIG`` names (Dagster's schedules and
    daily partitions are cut in it when its definitions load), else the default."""
    path = os.environ.get("SALESOPS_CONFIG")
    if not path or not Path(path).is_file():
        return DEFAULT_TIMEZONE
    return load(path).timezone
