"""The registry of sources: one entry per system the product loads.

A source is this entry plus its folder ``ingest/<name>/``, whose ``__init__.py`` defines
``<name>_source`` (the dlt source) and ``source_from_config(section)`` (the source built from its
section of the run configuration). The run configuration accepts ``sources.<name>``, Dagster
gets one ``ingest_<name>`` asset group and the scheduled runs leave it out where it is not
configured, all from this list; dbt reads the names, labels and freshness settings from
``dbt_project/macros/source_registry.sql``, which ``make`` writes from it (``write_dbt_macro``).
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Source:
    name: str
    # the source's name as the pages show it
    label: str
    # a configuration section that lets the source list its tables without reaching the real
    # system (Dagster names its assets from it when the definitions load)
    placeholder: dict[str, str]
    # secrets the source needs to be built at all, given as placeholders for the same purpose
    placeholder_secrets: dict[str, str] = field(default_factory=dict)
    # a missing required column fails the load (ingest.contracts); else the source handles it
    # itself (a sheet lacking one keeps its previous snapshot and the other sheets load)
    fails_on_missing_required: bool = True
    # the setting (settings sheet) that says after how many hours without a load it is stale
    freshness_setting: str = "freshness_max_hours"
    # ``salesops check``: the reachability probe, "module:function" taking (section, report)
    # (ingest.preflight); without one, only the contract is read
    probe: str = ""
    # reading the contract is what reaches the system (a database): its failure is reported
    # as unreachable, its success as reached
    contract_reaches: bool = False
    # its rows land with their dlt load id (``_dlt_load_id``) and its columns blank in every
    # row are looked for in the latest load's rows only (``contracts.empty_columns``): an API
    # answers with whatever fields it sends today, and a field it stopped sending is missing
    # from today's figures although the rows of earlier loads still hold it
    checks_latest_load: bool = False
    # its rows land with their dlt load id though its columns are looked for in every row: a
    # table a load leaves as it is keeps the id of the load that wrote it (the sheets)
    load_id_on_rows: bool = False


SOURCES = (
    Source("crm", "CRM（Salesforce）", {"export_dir": str(ROOT)}, probe="ingest.preflight:crm"),
    Source(
        "wecom",
        "企业微信",
        {
            "base_url": "http://127.0.0.1:9/cgi-bin/",
            "corp_id": "placeholder",
            "chat_archive_dir": str(ROOT),
        },
        placeholder_secrets={"corp_secret": "placeholder"},
        probe="ingest.preflight:wecom",
        checks_latest_load=True,
    ),
    Source(
        "u8",
        "用友 U8",
        {"url": "sqlite://"},
        freshness_setting="freshness_max_hours_u8",
        probe="ingest.preflight:u8",
        contract_reaches=True,
    ),
    Source(
        "sheets",
        "业务表格",
        {"dir": str(ROOT)},
        fails_on_missing_required=False,
        probe="ingest.preflight:sheets",
        load_id_on_rows=True,
    ),
)
NAMES = tuple(source.name for source in SOURCES)
BY_NAME = {source.name: source for source in SOURCES}


DBT_MACRO = ROOT / "dbt_project" / "macros" / "source_registry.sql"


def dbt_macro(sources: Iterable[Source] = SOURCES) -> str:
    """The dbt macro ``registered_sources()``: each source's name, label and freshness
    setting, in the registry's order (the dbt project reads the registry through it)."""
    rows = "\n".join(
        f"        {{'name': '{s.name}', 'label': '{s.label}', "
        f"'freshness_setting': '{s.freshness_setting}'}},"
        for s in sources
    )
    return (
        "{# Written by `make` from the registry of sources (ingest/sources.py): edit it there. #}\n"
        "{% macro registered_sources() -%}\n"
        "    {{ return([\n"
        f"{rows}\n"
        "    ]) }}\n"
        "{%- endmacro %}\n"
    )


def write_dbt_macro(path: Path = DBT_MACRO) -> None:
    path.write_text(dbt_macro(), encoding="utf-8")


def module(name: str) -> ModuleType:
    """The source's package ``ingest.<name>``."""
    return importlib.import_module(f"ingest.{name}")


def probe(name: str) -> Callable[[dict[str, Any], Any], None] | None:
    """Source ``name``'s reachability probe for ``salesops check`` (None: it has none)."""
    entry = BY_NAME.get(name)
    if entry is None or not entry.probe:
        return None
    where, function = entry.probe.split(":")
    return getattr(importlib.import_module(where), function)


def placeholder(name: str):
    """Source ``name`` built only to list its tables (no system is reached)."""
    entry = BY_NAME[name]
    if entry.placeholder_secrets:
        factory = getattr(module(name), f"{name}_source")
        return factory(**entry.placeholder, **entry.placeholder_secrets)
    return module(name).source_from_config(entry.placeholder)


def arguments(
    label: str,
    section: Mapping[str, Any],
    keys: Iterable[str],
    paths: Iterable[str] = (),
    log: logging.Logger | None = None,
) -> dict[str, Any]:
    """A source function's arguments from its run-configuration section: the ``keys`` it takes
    that are set (``paths`` as text); any other key is named in a warning and ignored."""
    keys = tuple(keys)
    unknown = sorted(set(section) - set(keys) - {"enabled"})
    if unknown:
        (log or logging.getLogger(__name__)).warning(
            "%s configuration: unknown keys ignored: %s", label, ", ".join(unknown)
        )
    kwargs = {k: section[k] for k in keys if section.get(k) is not None}
    for key in paths:
        if key in kwargs:
            kwargs[key] = str(kwargs[key])
    return kwargs


if __name__ == "__main__":
    write_dbt_macro()
