"""Every environment variable the examples tell a user to set is one the product reads: a
source secret ``SOURCES__<SRC>__<NAME>`` is an argument of that source (dlt fills it from the
environment) or a ``sources.<src>.<name>`` key the code asks dlt for; any other name is read by
its exact spelling in the code, the dbt project or the Dagster instance configuration."""

from __future__ import annotations

import importlib
import inspect
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = (".env.example", "salesops.example.yml")
NAME = re.compile(r"\b(?:SOURCES__[A-Z0-9_]+|SALESOPS_[A-Z0-9_]+|DAGSTER_[A-Z0-9_]+)\b")
CODE = ("salesops", "ingest", "orchestration", "expectations", "dbt_project/macros")


def named(example: str) -> list[str]:
    return sorted(set(NAME.findall((ROOT / example).read_text(encoding="utf-8"))))


def code_text() -> str:
    files = [ROOT / "dbt_project" / "profiles.yml", ROOT / "orchestration" / "dagster.yaml"]
    for folder in CODE:
        files += sorted(p for p in (ROOT / folder).rglob("*") if p.suffix in (".py", ".sql"))
    return "\n".join(p.read_text(encoding="utf-8") for p in files)


def is_read(name: str, code: str) -> bool:
    source_secret = re.fullmatch(r"SOURCES__([A-Z0-9]+)__([A-Z0-9_]+)", name)
    if source_secret:
        src, key = (part.lower() for part in source_secret.groups())
        source = getattr(importlib.import_module(f"ingest.{src}"), f"{src}_source", None)
        arguments = inspect.signature(source).parameters if source else {}
        return key in arguments or f"sources.{src}.{key}" in code
    return re.search(rf"""["']{name}["']""", code) is not None


@pytest.mark.parametrize("example", EXAMPLES)
def test_every_variable_an_example_names_is_read(example):
    code = code_text()
    names = named(example)
    assert names, f"{example} names no variable"
    assert [n for n in names if not is_read(n, code)] == []


def test_a_variable_nothing_reads_is_caught():
    code = code_text()
    assert not is_read("SOURCES__U8__CREDENTIALS", code)
    assert not is_read("SALESOPS_WECOM_ROBOT_KEY", code)
    assert is_read("SOURCES__U8__URL", code) and is_read("SOURCES__CRM__CLIENT_ID", code)
