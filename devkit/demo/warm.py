"""What a second ``salesops demo`` may keep: each stage's inputs (its arguments and the code and
files it reads) hashed, and the hash of the stage's last success stored beside the demo.

A stage reruns when its own inputs or any earlier stage's changed; the org is the same org for
the same seed, scale and day (the generator is deterministic).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SKIP_DIRS = {"__pycache__", "node_modules", "target", "logs", ".evidence", "build", "dbt_packages"}
# what runs write into the project folders (the BI file a site build copies in, locks, logs)
SKIP_SUFFIXES = {".duckdb", ".wal", ".lock", ".log", ".pyc", ".parquet", ".arrow", ".tmp"}
# the files each stage reads, besides what the stages before it made
STAGE_INPUTS = {
    "generate": ("devkit/demo",),
    "pipeline": (
        "salesops",
        "devkit/standins",
        "ingest",
        "expectations",
        "orchestration",
        "dbt_project",
        "requirements.lock",
    ),
    "sites": ("bi_reports/pages", "bi_reports/sources", "bi_reports"),
    "report": ("bi_reports/pages", "bi_reports/sources"),
}
STAGES = tuple(STAGE_INPUTS)


def _input(path: Path) -> bool:
    return (
        path.is_file()
        and not path.name.startswith(".")
        and path.suffix not in SKIP_SUFFIXES
        and not SKIP_DIRS & set(path.relative_to(ROOT).parts)
    )


def _files(rel: str) -> list[Path]:
    path = ROOT / rel
    if path.is_file():
        return [path]
    if rel == "bi_reports":  # the site's own settings; its pages and sources are listed apart
        return sorted(p for p in path.iterdir() if _input(p))
    return sorted(p for p in path.rglob("*") if _input(p))


def stage_keys(**arguments: object) -> dict[str, str]:
    """One key per stage: the demo's arguments, every earlier stage's key, the stage's files."""
    keys, chain = {}, hashlib.sha256(json.dumps(arguments, sort_keys=True).encode())
    for stage, inputs in STAGE_INPUTS.items():
        h = chain.copy()
        for rel in inputs:
            for path in _files(rel):
                h.update(path.relative_to(ROOT).as_posix().encode() + b"\0")
                h.update(hashlib.sha256(path.read_bytes()).digest())
        keys[stage] = h.hexdigest()
        if stage in ("generate", "pipeline"):  # sites and report both follow the pipeline
            chain = h
    return keys


class Stamps:
    """The keys of the stages that last succeeded in a demo folder."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        try:
            self.done = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            self.done = {}

    def fresh(self, stage: str, keys: dict[str, str]) -> bool:
        return self.done.get(stage) == keys[stage]

    def record(self, stages: list[str], keys: dict[str, str]) -> None:
        self.done.update({s: keys[s] for s in stages})
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(json.dumps(self.done, indent=1), encoding="utf-8")

    def forget(self, stages: list[str]) -> None:
        for s in stages:
            self.done.pop(s, None)
        if self.path.parent.is_dir():
            self.path.write_text(json.dumps(self.done, indent=1), encoding="utf-8")
