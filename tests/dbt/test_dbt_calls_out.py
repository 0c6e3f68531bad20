"""dbt started outside a run (the Makefile's parse, a data engineer's ``dbt build``) calls no
host: the project turns dbt's usage statistics off itself (dbt_project.yml ``flags``)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from salesops.dbt import dbt_executable
from tests.support.network import calls_out, outside

DBT_DIR = Path(__file__).resolve().parents[2] / "dbt_project"


def test_dbt_parse_sends_nothing_anywhere(tmp_path: Path, monkeypatch):
    monkeypatch.delenv("DBT_SEND_ANONYMOUS_USAGE_STATS", raising=False)
    monkeypatch.delenv("DO_NOT_TRACK", raising=False)
    with calls_out(tmp_path) as hosts:
        subprocess.run(
            [
                dbt_executable(),
                "parse",
                "--project-dir", str(DBT_DIR),
                "--profiles-dir", str(DBT_DIR),
                "--target-path", str(tmp_path / "target"),
                "--log-path", str(tmp_path / "logs"),
                "--quiet",
            ],
            check=True,
        )  # fmt: skip

    assert (tmp_path / "target" / "manifest.json").is_file()
    assert outside(hosts) == []
