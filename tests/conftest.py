"""Shared fixtures: one small demo org, run once through the whole pipeline."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
import yaml

from salesops import config as salesops_config

AS_OF = date(2026, 11, 20)
MONTH_START = date(2026, 12, 2)

# Session fixtures that run a whole pipeline: the tests using one share a worker under
# pytest-xdist (``--dist loadgroup``), so each org is built once.
SHARED_ORGS = {
    "demo_run": "demo",
    "demo_run_with_wecom": "demo",
    "clean_org_run": "orgs",
    "second_org_run": "orgs",
    "month_start_run": "month_start",
}
# The demo org's tests take ~20 minutes on one worker: those under these paths form a group of
# their own, whose worker builds the org again (~1 minute) and runs them beside the rest.
SPLIT_GROUPS = {"demo": (("tests/bi/", "tests/expectations/test_spark.py"), "demo_bi")}


def _module_scoped(item) -> bool:
    """Whether the test uses a fixture built once per module (an org run, say)."""
    info = getattr(item, "_fixtureinfo", None)
    defs = info.name2fixturedefs.values() if info is not None else ()
    return any(d.scope in ("module", "package") for chain in defs for d in chain)


# The groups that hold 10 minutes or more of tests on one worker. xdist hands out work units in
# the order of the collection (``--no-loadscope-reorder``): these first, then the slow tests,
# then the rest, so that no long unit starts last.
LONGEST = ("orgs", "demo", "demo_bi")


def _order(item) -> tuple[int, int]:
    group = item.get_closest_marker("xdist_group")
    name = group.args[0] if group is not None and group.args else None
    if name in LONGEST:
        return (0, LONGEST.index(name))
    return (1, 0) if item.get_closest_marker("slow") is not None else (2, 0)


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups
def pytest_collection_modifyitems(config, items) -> None:
    for item in items:
        groups = {SHARED_ORGS[f] for f in getattr(item, "fixturenames", ()) if f in SHARED_ORGS}
        for group, (paths, other) in SPLIT_GROUPS.items():
            if group in groups and item.nodeid.startswith(paths):
                groups = groups - {group} | {other}
        if groups:
            item.add_marker(pytest.mark.xdist_group("+".join(sorted(groups))))
        elif _module_scoped(item) and item.get_closest_marker("xdist_group") is None:
            # a module's fixture is built once per worker: its tests share one
            item.add_marker(pytest.mark.xdist_group(item.nodeid.split("::")[0]))
    items.sort(key=_order)  # stable: the collection's order within each rank


@dataclass
class DemoRun:
    root: Path
    sources: Path
    config_path: Path
    config: salesops_config.Config
    outcome: object

    def on_a_copy(self, folder: Path) -> Path:
        """A run configuration like this run's, on a copy of its warehouse in ``folder``."""
        import shutil

        warehouse = folder / "warehouse.duckdb"
        shutil.copy(self.config.warehouse, warehouse)
        data = yaml.safe_load(self.config_path.read_text(encoding="utf-8"))
        data["warehouse"]["path"] = str(warehouse)
        path = folder / "salesops.yml"
        path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
        return path


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory) -> DemoRun:
    """A scale-S org (the default demo size) generated, loaded (CRM, U8, sheets),
    transformed and checked; no BI."""
    from devkit.demo.generate import generate
    from orchestration import runner

    root = tmp_path_factory.mktemp("demo")
    os.environ["DAGSTER_HOME"] = str(root / "dagster_home")
    (root / "dagster_home").mkdir()
    src = root / "sources"
    generate(src, seed=3, scale="S", as_of=AS_OF)
    cfg = salesops_config.from_dict(
        {
            "warehouse": {"path": str(root / "warehouse.duckdb")},
            "as_of": AS_OF.isoformat(),
            "sources": {
                "crm": {"export_dir": str(src / "crm_export")},
                "u8": {"url": f"sqlite:///{src / 'u8' / 'UFDATA_001_2026.db'}"},
                "sheets": {"dir": str(src / "sheets")},
            },
        },
        base=root,
    )
    path = root / "salesops.yml"
    path.write_text(salesops_config.dump(cfg), encoding="utf-8")
    outcome = runner.run(path, exclude_groups=("bi",), echo=lambda _m: None)
    return DemoRun(root, src, path, salesops_config.load(path), outcome)


@pytest.fixture(scope="session")
def demo_run_with_wecom(demo_run, tmp_path_factory) -> DemoRun:
    """The same org after WeCom is added to the configuration (served by its stand-in), in a
    copy of the warehouse: ``demo_run``'s stays without WeCom whichever test runs first."""
    import shutil

    from devkit.standins.wecom import WeComStandIn
    from orchestration import runner

    src = demo_run.sources
    root = tmp_path_factory.mktemp("demo_wecom")
    shutil.copy2(demo_run.config.warehouse, root / "warehouse.duckdb")
    shutil.copytree(demo_run.config.pipelines_dir, root / ".dlt_pipelines")
    app_secrets = {"contact": "test-contact-secret", "checkin": "test-checkin-secret"}
    env = {f"SOURCES__WECOM__{app.upper()}_SECRET": s for app, s in app_secrets.items()}
    with WeComStandIn(src / "wecom", corp_id="wwtest", app_secrets=app_secrets) as wecom:
        os.environ.update(env)
        data = yaml.safe_load(demo_run.config_path.read_text(encoding="utf-8"))
        data["warehouse"] = {"path": str(root / "warehouse.duckdb")}
        data["sources"]["wecom"] = {
            "base_url": wecom.api_url,
            "corp_id": "wwtest",
            "chat_archive_dir": str(src / "chat_archive"),
            "end_date": AS_OF.isoformat(),
        }
        path = root / "salesops_wecom.yml"
        path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
        outcome = runner.run(path, exclude_groups=("bi",), echo=lambda _m: None)
        for name in env:
            os.environ.pop(name, None)
    return DemoRun(root, src, path, salesops_config.load(path), outcome)


def run_org(
    root: Path,
    seed: int,
    scale: str,
    anomaly_rate: float,
    variants: tuple[str, ...] = (),
    as_of: date = AS_OF,
    with_bi: bool = False,
    crm: str = "export",
    crm_section: dict | None = None,
    echo=lambda _m: None,
    without: tuple[str, ...] = (),
    wecom_omit_fields: dict[str, tuple[str, ...]] | None = None,
) -> DemoRun:
    """Generate an org (reshaped by export ``variants``), load every source (CRM from its
    export folder, or its REST stand-in with ``crm="api"``; ``crm_section`` adds CRM
    configuration; WeCom through its stand-in; ``without`` leaves sources out), transform,
    check; no BI unless ``with_bi`` (then the executive site, a site per region and the morning
    report too). ``wecom_omit_fields``: fields the WeCom stand-in leaves out of its APIs."""
    from devkit.demo.generate import generate
    from devkit.demo.serve import served_sources
    from orchestration import runner

    os.environ["DAGSTER_HOME"] = str(root / "dagster_home")
    (root / "dagster_home").mkdir(exist_ok=True)
    src = root / "sources"
    generate(src, seed=seed, scale=scale, as_of=as_of, anomaly_rate=anomaly_rate, variants=variants)
    with served_sources(src, as_of, crm=crm, wecom_omit_fields=wecom_omit_fields) as sections:
        sections["crm"].update(crm_section or {})
        for name in without:
            sections.pop(name)
        cfg = salesops_config.from_dict(
            {
                "warehouse": {
                    "path": str(root / "warehouse.duckdb"),
                    "bi_path": str(root / "warehouse_bi.duckdb"),
                },
                "as_of": as_of.isoformat(),
                "sources": sections,
                "bi": {"out_dir": str(root / "site"), "regions": with_bi},
            },
            base=root,
        )
        path = root / "salesops.yml"
        path.write_text(salesops_config.dump(cfg), encoding="utf-8")
        skip = () if with_bi else ("bi",)
        outcome = runner.run(path, exclude_groups=skip, echo=echo)
    return DemoRun(root, src, path, salesops_config.load(path), outcome)


@pytest.fixture(scope="session")
def clean_org_run(tmp_path_factory) -> DemoRun:
    """An org with no planted anomaly (anomaly_rate 0), every source."""
    return run_org(tmp_path_factory.mktemp("clean_org"), seed=21, scale="XS", anomaly_rate=0.0)


@pytest.fixture(scope="session")
def second_org_run(tmp_path_factory) -> DemoRun:
    """Another seed with twice the usual anomaly rates, every source."""
    return run_org(tmp_path_factory.mktemp("second_org"), seed=11, scale="S", anomaly_rate=2.0)


@pytest.fixture(scope="session")
def month_start_run(tmp_path_factory) -> DemoRun:
    """A small org on the 2nd day of a month (the month has hardly a figure yet), run end to
    end with its BI: the executive site, a site per region and the morning report."""
    root = tmp_path_factory.mktemp("month_start")
    return run_org(root, seed=7, scale="XS", anomaly_rate=1.0, as_of=MONTH_START, with_bi=True)
