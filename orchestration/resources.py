"""All resources, selected by DAGSTER_ENV (local | ci | prod).

The run configuration (which sources, where the warehouse lives) is a YAML file named by the
``SALESOPS_CONFIG`` environment variable; see ``salesops.example.yml``.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from functools import cache, cached_property
from importlib import metadata
from pathlib import Path

import dagster as dg
from dagster_dbt import DbtCliResource, DbtProject
from dagster_dlt import DagsterDltResource
from packaging import version

from salesops import alerts
from salesops import config as salesops_config
from salesops.dbt import MANIFEST, PROJECT_DIR, dbt_executable

ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = PROJECT_DIR


class SalesopsConfig(dg.ConfigurableResource):
    """Points at the run configuration file; ``load()`` parses it."""

    config_path: str

    def load(self) -> salesops_config.Config:
        return salesops_config.load(self.config_path)


WEBHOOK_ENV = "SALESOPS_WECOM_WEBHOOK"


class WeComRobot(dg.ConfigurableResource):
    """The team's WeCom group robot (alerts, run failures, the morning report).

    Its webhook URL is a secret (the key in it is the credential), given as
    ``EnvVar("SALESOPS_WECOM_WEBHOOK")`` so Dagster resolves it per run and never shows it;
    without the variable the robot has no webhook and nothing is sent.
    """

    webhook: str = ""

    @property
    def missing(self) -> str | None:
        """Why nothing can be sent, or None when the robot is set up."""
        return None if self.webhook else f"{WEBHOOK_ENV} is not set"

    def send(self, content: str, msgtype: str = "markdown") -> None:
        alerts.send_wecom(self.webhook, content, msgtype=msgtype)

    def send_file(self, path: str | Path) -> str:
        return alerts.send_file(self.webhook, path)


def wecom_robot() -> WeComRobot:
    """The robot of this deployment: its webhook from the environment when it is set there
    (an unset ``EnvVar`` fails every run that uses the resource)."""
    if os.environ.get(WEBHOOK_ENV):
        return WeComRobot(webhook=dg.EnvVar(WEBHOOK_ENV))
    return WeComRobot()


def dagster_env() -> str:
    env = os.environ.get("DAGSTER_ENV", "local")
    if env not in ("local", "ci", "prod"):
        raise ValueError(f"DAGSTER_ENV must be local, ci or prod, not {env!r}")
    return env


def dbt_target() -> str:
    return {"local": "dev", "ci": "ci", "prod": "prod"}[dagster_env()]


dbt_project = DbtProject(
    project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR, target=dbt_target()
)
# where what decides a build without Dagster (orchestration.buildplan) reads the manifest
assert Path(dbt_project.manifest_path) == MANIFEST, dbt_project.manifest_path


@cache
def dbt_cli_version(executable: str) -> version.Version:
    """The version of the dbt that ``executable`` runs: this environment's dbt-core when it is
    this environment's dbt, else what ``dbt --version`` says (asked once a process)."""
    if Path(executable).parent == Path(sys.executable).parent:
        return version.parse(metadata.version("dbt-core"))
    out = subprocess.check_output([executable, "--version"], text=True)
    found = re.search(r"(\d+\.\d+\.\d+)", out)
    if not found:
        raise ValueError(f"cannot read dbt's version from `{executable} --version`: {out!r}")
    return version.parse(found.group(1))


class SalesopsDbtCliResource(DbtCliResource):
    """dagster-dbt's dbt resource, knowing dbt's version without asking it every run.

    dagster-dbt runs ``dbt --version`` once per resource, so once per run: a process that
    imports dbt (~3.7 s on 2 cores) and asks pypi.org for dbt's latest release. The dbt this
    project runs is the one installed beside it, whose version the package metadata holds."""

    @cached_property
    def _cli_version(self) -> version.Version:
        return dbt_cli_version(self.dbt_executable)


def dbt_resource(target: str | None = None) -> SalesopsDbtCliResource:
    return SalesopsDbtCliResource(
        project_dir=dbt_project, target=target or dbt_target(), dbt_executable=dbt_executable()
    )


def build_resources() -> dict[str, object]:
    return {
        "salesops": SalesopsConfig(config_path=dg.EnvVar("SALESOPS_CONFIG")),
        "dlt": DagsterDltResource(),
        "wecom_robot": wecom_robot(),
        "dbt": dbt_resource(),
    }
