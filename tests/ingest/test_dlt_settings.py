"""dlt reads the project's settings folder (``ingest/.dlt``: config.toml, and secrets.toml where
the README tells a company to put its secrets) wherever a run starts from, also when dlt was
imported first; a folder the company names in ``DLT_PROJECT_DIR`` is read instead."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

READ = """
import json, sys
import dlt
{imports}
print(json.dumps({{
    "api_version": dlt.config.get("sources.crm.api_version"),
    "telemetry": dlt.config.get("runtime.dlthub_telemetry"),
    "u8_url": dlt.secrets.get("sources.u8.url"),
}}))
"""


def _read(cwd: Path, imports: str, **env: str) -> dict:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("DLT_", "SOURCES__"))}
    environ["PYTHONPATH"] = str(ROOT)
    out = subprocess.run(
        [sys.executable, "-c", READ.format(imports=imports)],
        cwd=cwd,
        env={**environ, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_a_run_started_anywhere_reads_the_projects_dlt_settings(tmp_path: Path):
    # dlt imported and asked before the sources are: the settings are read again
    read = _read(tmp_path, "dlt.config.get('sources.crm.batch_size')\nimport ingest.pipelines")

    assert read["api_version"] == "62.0"
    assert read["telemetry"] is False


def test_the_definitions_read_the_projects_dlt_settings(tmp_path: Path):
    read = _read(tmp_path, "import orchestration.definitions")

    assert read["api_version"] == "62.0"
    assert read["telemetry"] is False


def test_a_settings_folder_the_company_names_is_read_instead(tmp_path: Path):
    own = tmp_path / "deploy"
    (own / ".dlt").mkdir(parents=True)
    (own / ".dlt" / "secrets.toml").write_text(
        '[sources.u8]\nurl = "mssql+pyodbc://u8reader@erp/UFDATA_001_2026"\n', encoding="utf-8"
    )

    read = _read(tmp_path, "import ingest", DLT_PROJECT_DIR=str(own))

    assert read["u8_url"] == "mssql+pyodbc://u8reader@erp/UFDATA_001_2026"
    assert read["api_version"] is None
