"""``salesops check``: every configured source reached, its credentials tried and its contract
compared, against a generated org served by the vendor stand-ins; nothing is loaded."""

from __future__ import annotations

import sqlite3
from datetime import date

import pytest
import yaml

from devkit.demo.generate import generate
from devkit.standins.salesforce import SalesforceStandIn
from devkit.standins.wecom import WeComStandIn
from orchestration import cli

AS_OF = date(2026, 11, 20)


@pytest.fixture(scope="module")
def org(tmp_path_factory):
    src = tmp_path_factory.mktemp("preflight") / "sources"
    generate(src, seed=5, scale="XS", as_of=AS_OF, variants=("dataloader_minimal",))
    return src


def _check(tmp_path, capsys, sources: dict) -> tuple[int, str]:
    path = tmp_path / "salesops.yml"
    data = {"warehouse": {"path": str(tmp_path / "warehouse.duckdb")}, "sources": sources}
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    code = cli.main(["check", "--config", str(path)])
    return code, capsys.readouterr().out


def test_check_reaches_every_source_and_reports_the_contract(org, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("SOURCES__CRM__CLIENT_ID", "check-client")
    monkeypatch.setenv("SOURCES__CRM__CLIENT_SECRET", "crm-secret-value")
    monkeypatch.setenv("SOURCES__WECOM__CONTACT_SECRET", "contact-secret-value")
    monkeypatch.setenv("SOURCES__WECOM__CHECKIN_SECRET", "checkin-secret-value")
    with (
        SalesforceStandIn(
            org / "crm_export", client_id="check-client", client_secret="crm-secret-value"
        ) as sf,
        WeComStandIn(
            org / "wecom",
            corp_id="wwcheck",
            app_secrets={"contact": "contact-secret-value", "checkin": "checkin-secret-value"},
        ) as wc,
    ):
        sources = {
            "crm": {"instance_url": sf.base_url},
            "wecom": {"base_url": wc.api_url, "corp_id": "wwcheck"},
            "u8": {"url": f"sqlite:///{org / 'u8' / 'UFDATA_001_2026.db'}"},
            "sheets": {"dir": str(org / "sheets")},
        }
        code, out = _check(tmp_path, capsys, sources)
        assert code == 0, out
        assert "ok   credentials: token from" in out
        assert "ok   credentials (contact, 客户联系): access token obtained" in out
        assert "ok   credentials (checkin, 打卡): access token obtained" in out
        assert "ok   reachable: connected, catalogue read" in out
        # the Data Loader export's gaps, read from the org's describe, with what they degrade
        assert "note crm Task.CompletedDateTime: optional column is missing; degrades:" in out
        assert "every source is ready" in out

        # wrong secrets: named as refused, never printed
        monkeypatch.setenv("SOURCES__CRM__CLIENT_SECRET", "wrong-crm-secret")
        monkeypatch.setenv("SOURCES__WECOM__CHECKIN_SECRET", "wrong-wecom-secret")
        code, out = _check(tmp_path, capsys, sources)
    assert code == 1
    assert "FAIL credentials: POST" in out and "token request was refused" in out
    assert "FAIL credentials (checkin, 打卡): gettoken: errcode" in out
    assert "ok   credentials (contact, 客户联系)" in out
    assert "not ready: crm, wecom" in out
    assert "wrong-crm-secret" not in out and "wrong-wecom-secret" not in out
    assert not (tmp_path / "warehouse.duckdb").exists()  # nothing was loaded


def test_check_fails_on_a_missing_required_column_or_an_unreachable_source(org, tmp_path, capsys):
    db = tmp_path / "u8.db"
    db.write_bytes((org / "u8" / "UFDATA_001_2026.db").read_bytes())
    with sqlite3.connect(db) as con:
        con.execute("alter table SO_SOMain drop column cCusCode")
    sources = {
        "crm": {"export_dir": str(org / "crm_export")},
        "u8": {"url": f"sqlite:///{db}"},
        "sheets": {"dir": str(tmp_path / "no_such_folder")},
    }
    code, out = _check(tmp_path, capsys, sources)
    assert code == 1
    assert "FAIL u8 SO_SOMain.cCusCode: required column is missing; fix:" in out
    assert "FAIL reachable: spreadsheets folder" in out and "does not exist" in out
    assert "not ready: sheets, u8" in out
    assert "crm: export folder" in out and "— ok" in out.split("crm:")[1].splitlines()[0]
