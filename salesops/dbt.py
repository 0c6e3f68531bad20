"""Small helpers around the dbt project (manifest preparation)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

# the project's dbt project, and the manifest ``dbt parse`` writes there (make, ensure_manifest)
PROJECT_DIR = Path(__file__).resolve().parent.parent / "dbt_project"
MANIFEST = PROJECT_DIR / "target" / "manifest.json"


def dbt_executable() -> str:
    exe = Path(sys.executable).with_name("dbt")
    return str(exe) if exe.exists() else "dbt"


def ensure_manifest(project_dir: str | Path, profiles_dir: str | Path) -> Path:
    """Parse the dbt project when its manifest is missing or older than any model file."""
    project_dir = Path(project_dir)
    manifest = project_dir / "target" / "manifest.json"
    sources = [
        p
        for sub in ("models", "macros", "tests", "seeds")
        for p in (project_dir / sub).rglob("*")
        if p.is_file()
    ] + [project_dir / "dbt_project.yml"]
    newest = max((p.stat().st_mtime for p in sources if p.exists()), default=0)
    if manifest.exists() and manifest.stat().st_mtime >= newest:
        return manifest
    result = subprocess.run(
        [
            dbt_executable(),
            "parse",
            "--project-dir",
            str(project_dir),
            "--profiles-dir",
            str(profiles_dir),
            "--quiet",
        ],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise RuntimeError(
            f"dbt parse failed in {project_dir}:\n{result.stdout[-4000:]}{result.stderr[-4000:]}"
        )
    return manifest
