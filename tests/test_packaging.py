"""Packaging: pyproject.toml declares what the product needs (runtime apart from the dev and test
extras), the lock is compiled from it with hashes and satisfies every declaration, and the
pre-commit hooks run exactly `make lint`."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent


def locked() -> dict[str, tuple[str, int]]:
    """Package -> (version, number of hashes) from requirements.lock."""
    text = (ROOT / "requirements.lock").read_text(encoding="utf-8")
    pins: dict[str, tuple[str, int]] = {}
    for block in re.split(r"\n(?=[A-Za-z0-9])", text):
        pin = re.match(r"([A-Za-z0-9_.\-]+)==(\S+)", block)
        if pin:
            name = re.sub(r"[-_.]+", "-", pin.group(1)).lower()
            pins[name] = (pin.group(2), block.count("--hash=sha256:"))
    return pins


def test_the_lock_is_compiled_from_pyproject_with_hashes_and_meets_it():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    extras = project["optional-dependencies"]
    assert set(extras) == {"dev", "spark", "test"}
    header = (ROOT / "requirements.lock").read_text(encoding="utf-8").splitlines()[1]
    compile_command = "uv pip compile pyproject.toml --extra dev --extra spark --extra test"
    assert f"{compile_command} --generate-hashes" in header
    pins = locked()
    assert pins and all(hashes for _version, hashes in pins.values())
    unmet = []
    for line in [*project["dependencies"], *(dep for extra in extras.values() for dep in extra)]:
        req = Requirement(line)
        name = re.sub(r"[-_.]+", "-", req.name).lower()
        if name not in pins or not req.specifier.contains(pins[name][0], prereleases=True):
            unmet.append(line)
    assert unmet == []
    # the test tools are no runtime dependency
    runtime = {Requirement(d).name for d in project["dependencies"]}
    assert not runtime & {"pytest", "ruff", "sqlfluff", "syrupy"}


def test_pre_commit_runs_the_same_lint_as_make_lint():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    recipe = re.search(r"^lint:.*\n((?:\t.*\n)+)", makefile, re.M).group(1)
    make_lint = [line.strip().replace("$(BIN)/", ".venv/bin/") for line in recipe.splitlines()]
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text(encoding="utf-8"))
    hooks = [hook for repo in config["repos"] for hook in repo["hooks"]]
    assert [hook["entry"] for hook in hooks] == make_lint
    assert all(hook["pass_filenames"] is False for hook in hooks)
