"""Secrets stay secret: with known canary secrets in the environment and the stand-ins injecting
faults (retries, expired tokens, truncated answers), neither the secrets nor any access token
the stand-ins issued appears in any file a run writes, nor in what it prints; and the run
calls nothing but the company's systems (here the stand-ins on this machine): no usage
statistics to dlt's, dbt's or anyone's servers, from the run or from the dbt it starts."""

from __future__ import annotations

from pathlib import Path

import pytest

from devkit.demo.generate import generate
from devkit.standins.base import Faults
from devkit.standins.salesforce import SalesforceStandIn
from devkit.standins.wecom import WeComStandIn
from orchestration import runner
from salesops import config as salesops_config
from salesops import publish
from tests.conftest import AS_OF
from tests.support import pii
from tests.support.network import calls_out, outside

pytestmark = pytest.mark.slow

CLIENT_SECRET = "canary-client-secret-7d41c0e2"
APP_SECRETS = {
    "contact": "canary-contact-secret-93be2a58",
    "checkin": "canary-checkin-secret-4f0c7b",
}
DBT_DIR = Path(__file__).resolve().parents[2] / "dbt_project"


def _files(*roots: Path) -> list[Path]:
    return [p for root in roots if root.exists() for p in root.rglob("*") if p.is_file()]


def test_no_secret_nor_token_reaches_any_file_or_output_nor_any_other_host(
    tmp_path, monkeypatch, capfd
):
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    (tmp_path / "dagster_home").mkdir()
    src = tmp_path / "sources"
    generate(src, seed=21, scale="XS", as_of=AS_OF)
    sf_faults = Faults(rate=0.15, kinds=("5xx", "rate_limit", "expired_token", "truncated"), seed=2)
    wc_faults = Faults(
        rate=0.15, kinds=("5xx", "busy", "rate_limit", "expired_token", "truncated"), seed=2
    )
    printed: list[str] = []
    with (
        calls_out(tmp_path / "net") as hosts,
        SalesforceStandIn(
            src / "crm_export", client_id="salesops-canary", client_secret=CLIENT_SECRET,
            faults=sf_faults,
        ) as sf,
        WeComStandIn(
            src / "wecom", corp_id="wwcanary", app_secrets=APP_SECRETS, faults=wc_faults
        ) as wecom,
    ):  # fmt: skip
        monkeypatch.setenv("SOURCES__CRM__CLIENT_ID", "salesops-canary")
        monkeypatch.setenv("SOURCES__CRM__CLIENT_SECRET", CLIENT_SECRET)
        for app, secret in APP_SECRETS.items():
            monkeypatch.setenv(f"SOURCES__WECOM__{app.upper()}_SECRET", secret)
        cfg = salesops_config.from_dict(
            {
                "warehouse": {
                    "path": str(tmp_path / "warehouse.duckdb"),
                    "bi_path": str(tmp_path / "warehouse_bi.duckdb"),
                },
                "as_of": AS_OF.isoformat(),
                "sources": {
                    "crm": {"instance_url": sf.base_url},
                    "wecom": {
                        "base_url": wecom.api_url,
                        "corp_id": "wwcanary",
                        "chat_archive_dir": str(src / "chat_archive"),
                        "end_date": AS_OF.isoformat(),
                    },
                    "u8": {"url": f"sqlite:///{src / 'u8' / 'UFDATA_001_2026.db'}"},
                    "sheets": {"dir": str(src / "sheets")},
                },
            },
            base=tmp_path,
        )
        path = tmp_path / "salesops.yml"
        path.write_text(salesops_config.dump(cfg), encoding="utf-8")
        outcome = runner.run(path, exclude_groups=("bi",), echo=printed.append)
        publish.publish_bi(cfg.warehouse, cfg.bi_warehouse)
    # the secrets are used by the loads; a check failing later (an XS org has no wins for U8
    # to confirm) makes this a failed run, whose artifacts must hold no secret either
    loads = {f"ingest_{s}" for s in ("crm", "wecom", "u8", "sheets")} | {"dbt_models"}
    assert {step: outcome.steps.get(step) for step in loads} == dict.fromkeys(loads, "ok"), (
        outcome.errors
    )
    assert sum(sf_faults.injected.values()) > 0 and sum(wc_faults.injected.values()) > 0
    assert sf.issued_tokens and wecom.issued_tokens
    needles = [CLIENT_SECRET, *APP_SECRETS.values(), *sf.issued_tokens, *wecom.issued_tokens]
    out, err = capfd.readouterr()
    said = "\n".join([*printed, out, err])
    assert [n for n in needles if n in said] == []
    # every file of the run: warehouse folder (dlt pipelines, dbt targets, data docs, BI file),
    # Dagster's run and event storage, and the dbt project's own target and logs
    files = _files(tmp_path, DBT_DIR / "target", DBT_DIR / "logs")
    assert len(files) > 100
    leaks = []
    for file in files:
        data = file.read_bytes()
        leaks += [(str(file), n[:12]) for n in needles if n.encode() in data]
        if file.suffix == ".duckdb":  # compressed strings: read them back as text
            text = pii.database_text(file)
            leaks += [(str(file), n[:12]) for n in needles if n in text]
    assert leaks == []
    # the stand-ins were called (the loads ran), and nothing else was
    assert ("socket.connect", "127.0.0.1") in hosts
    assert outside(hosts) == []
