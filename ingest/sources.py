"""The registry of sources: one entry per system the product loads.

A source is this entry plus its folder ``ingest/<name>/``, whose ``__init__.py`` defines
``<name>_source`` (the dlt source) and ``source_from_config(section)`` (the source built from its
section of the run configuration). The run configuration accepts ``sources.<name>``, Dagster
gets one ``ingest_<name>`` asset group and the scheduled runs leave it out where it is not
configured, all from this list.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Source:
    name: str
    # a configuration section that lets the source list its tables without reaching the real
    # system (Dagster names its assets from it when the definitions load)
    placeholder: dict[str, str]
    # secrets the source needs to be built at all, given as placeholders for the same purpose
    placeholder_secrets: dict[str, str] = field(default_factory=dict)
    # a missing required column fails the load (ingest.contracts); else the source handles it
    # itself (a sheet lacking one keeps its previous snapshot and the other sheets load)
    fails_on_missing_required: bool = True


SOURCES = (
    Source("crm", {"export_dir": str(ROOT)}),
    Source(
        "wecom",
        {
            "base_url": "http://127.0.0.1:9/cgi-bin/",
            "corp_id": "placeholder",
            "chat_archive_dir": str(ROOT),
        },
        placeholder_secrets={"corp_secret": "placeholder"},
    ),
    Source("u8", {"url": "sqlite://"}),
    Source("sheets", {"dir": str(ROOT)}, fails_on_missing_required=False),
)
NAMES = tuple(source.name for source in SOURCES)
BY_NAME = {source.name: source for source in SOURCES}


def module(name: str) -> ModuleType:
    """The source's package ``ingest.<name>``."""
    return importlib.import_module(f"ingest.{name}")


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
