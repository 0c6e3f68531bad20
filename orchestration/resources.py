"""All resources, selected by DAGSTER_ENV (local | ci | prod).

The run configuration (which sources, where the warehouse lives) is a YAML file named by the
``SALESOPS_CONFIG`` environment variable; see ``salesops.example.yml``.
"""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg
from dagster_dbt import DbtCliResource, DbtProject
from dagster_dlt import DagsterDltResource

from salesops import alerts
from salesops import config as salesops_config
from salesops.dbt import dbt_executable

ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = ROOT / "dbt_project"


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


def build_resources() -> dict[str, object]:
    return {
        "salesops": SalesopsConfig(config_path=dg.EnvVar("SALESOPS_CONFIG")),
        "dlt": DagsterDltResource(),
        "wecom_robot": wecom_robot(),
        "dbt": DbtCliResource(
            project_dir=dbt_project, target=dbt_target(), dbt_executable=dbt_executable()
        ),
    }
