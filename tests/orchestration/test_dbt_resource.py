"""The dbt resource knows dbt's version without running ``dbt --version`` every run (a process
that imports dbt and asks pypi.org for its latest release), and still gets it right."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import dagster_dbt.core.resource as dagster_dbt_resource
import pytest
from packaging import version

from orchestration import resources
from salesops.dbt import dbt_executable


def _no_subprocess(*args, **kwargs):
    raise AssertionError(f"a process was started: {args}")


def test_the_runs_dbt_resource_knows_the_installed_version_without_starting_dbt(monkeypatch):
    said = subprocess.check_output([dbt_executable(), "--version"], text=True)
    installed = version.parse(re.search(r"installed: (\d+\.\d+\.\d+)", said).group(1))
    resources.dbt_cli_version.cache_clear()
    monkeypatch.setattr(dagster_dbt_resource, "check_output", _no_subprocess)
    monkeypatch.setattr(subprocess, "check_output", _no_subprocess)

    dbt = resources.build_resources()["dbt"]

    assert dbt._cli_version == installed
    assert resources.dbt_resource("spark")._cli_version == installed


def test_a_dbt_installed_elsewhere_is_asked_once_a_process(tmp_path: Path):
    asked = tmp_path / "asked"
    other = tmp_path / "bin" / "dbt"
    other.parent.mkdir()
    other.write_text(
        f"#!{sys.executable}\n"
        "import sys\n"
        f"open({str(asked)!r}, 'a').write('x')\n"
        "print('Core:\\n  - installed: 9.8.7\\n  - latest:    9.9.0')\n",
        encoding="utf-8",
    )
    other.chmod(0o755)
    resources.dbt_cli_version.cache_clear()

    first = resources.dbt_cli_version(str(other))
    again = resources.dbt_cli_version(str(other))

    assert first == again == version.parse("9.8.7")
    assert asked.read_text() == "x"


def test_an_unreadable_version_names_the_executable(tmp_path: Path):
    other = tmp_path / "bin" / "dbt"
    other.parent.mkdir()
    other.write_text(f"#!{sys.executable}\nprint('no version here')\n", encoding="utf-8")
    other.chmod(0o755)
    resources.dbt_cli_version.cache_clear()

    with pytest.raises(ValueError, match=re.escape(str(other))):
        resources.dbt_cli_version(str(other))
