"""Preflight of the configured sources, without loading anything (``salesops check``).

Per source: is it reachable (the export or sheets folder exists, the HTTP endpoint answers,
the database connects), are the credentials good (a token is obtainable; a failure is
reported, a secret never), and what its contract findings are (``ingest.contracts``). Which
probe a source has is said by its entry in the registry (``ingest.sources``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from ingest import contracts, sources

TIMEOUT = (5.0, 20.0)


@dataclass
class Probe:
    """One line of the preflight: what was tried, whether it worked, and what was seen."""

    what: str
    ok: bool
    detail: str = ""


@dataclass
class SourceReport:
    source: str
    where: str
    probes: list[Probe] = field(default_factory=list)
    findings: list[contracts.Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(p.ok for p in self.probes) and not any(
            f.status == contracts.MISSING_REQUIRED for f in self.findings
        )


def _http(url: str) -> Probe:
    """Reachable = the server answers at all (any HTTP status)."""
    try:
        resp = requests.get(url, timeout=TIMEOUT)
    except requests.RequestException as exc:
        return Probe("reachable", False, f"GET {url}: {type(exc).__name__}")
    return Probe("reachable", True, f"GET {url}: HTTP {resp.status_code}")


def _folder(path: Any, what: str) -> Probe:
    folder = Path(str(path or "")).expanduser()
    if folder.is_dir():
        return Probe("reachable", True, f"{what} {folder} exists")
    return Probe("reachable", False, f"{what} {folder} does not exist")


def crm(section: dict[str, Any], report: SourceReport) -> None:
    from ingest.crm import client_from_config

    if section.get("export_dir"):
        report.where = f"export folder {section['export_dir']}"
        report.probes.append(_folder(section["export_dir"], "export folder"))
        return
    url = str(section.get("instance_url") or "")
    report.where = f"REST API {url}"
    probe = _http(url)
    report.probes.append(probe)
    if not probe.ok:
        return
    try:
        client = client_from_config(section)
        client.authenticate()
    except Exception as exc:  # the client's messages name the endpoint, never a secret
        report.probes.append(Probe("credentials", False, str(exc)))
        return
    report.probes.append(Probe("credentials", True, f"token from {client.token_url}"))


def wecom(section: dict[str, Any], report: SourceReport) -> None:
    import dlt

    base = str(section.get("base_url") or "https://qyapi.weixin.qq.com/cgi-bin/")
    base = base if base.endswith("/") else base + "/"
    report.where = f"API {base}"
    probe = _http(base + "gettoken")
    report.probes.append(probe)
    if probe.ok:
        corp = dlt.secrets.get("sources.wecom.corp_secret")
        # one secret per app, as WeCom grants them (corp_secret stands in for either)
        for app, label in (("contact", "客户联系"), ("checkin", "打卡")):
            secret = dlt.secrets.get(f"sources.wecom.{app}_secret") or corp
            what = f"credentials ({app}, {label})"
            if not secret:
                detail = f"SOURCES__WECOM__{app.upper()}_SECRET is not set"
                report.probes.append(Probe(what, False, detail))
                continue
            try:
                body = requests.get(
                    base + "gettoken",
                    params={"corpid": section.get("corp_id"), "corpsecret": secret},
                    timeout=TIMEOUT,
                ).json()
            except (requests.RequestException, ValueError) as exc:
                body = {"errcode": None, "errmsg": type(exc).__name__}
            good = body.get("errcode") == 0 and bool(body.get("access_token"))
            detail = (
                "access token obtained"
                if good
                else f"gettoken: errcode {body.get('errcode')} {body.get('errmsg')}"
            )
            report.probes.append(Probe(what, good, detail))
    if section.get("chat_archive_dir"):
        archive = _folder(section["chat_archive_dir"], "chat archive folder")
        report.probes.append(Probe("chat archive", archive.ok, archive.detail))
    if section.get("contact_events_dir"):
        events = _folder(section["contact_events_dir"], "contact events folder")
        report.probes.append(Probe("contact events", events.ok, events.detail))


def u8(section: dict[str, Any], report: SourceReport) -> None:
    from ingest.u8 import mask_url

    report.where = f"database {mask_url(str(section.get('url') or 'SOURCES__U8__URL'))}"


def sheets(section: dict[str, Any], report: SourceReport) -> None:
    if not section.get("dir"):  # no folder named: every rule sheet is the shipped default
        report.where = "the project's default rule sheets (ingest/sheets/defaults)"
        report.probes.append(Probe("reachable", True, "no sheets folder: defaults apply"))
        return
    report.where = f"folder {section.get('dir')}"
    report.probes.append(_folder(section.get("dir"), "spreadsheets folder"))


def check_source(src: str, section: dict[str, Any]) -> SourceReport:
    """Reachability, credentials and contract findings of one configured source."""
    from ingest.pipelines import contract_findings

    report = SourceReport(src, "")
    probe = sources.probe(src)
    if probe is not None:
        probe(section, report)
    if not all(p.ok for p in report.probes):
        return report
    reaches = src in sources.BY_NAME and sources.BY_NAME[src].contract_reaches
    try:
        report.findings = contract_findings(src, section)
    except Exception as exc:  # reading the catalogue / headers failed: that is the finding
        what = "reachable" if reaches else "contract"
        report.probes.append(Probe(what, False, str(exc)))
        return report
    if reaches:
        report.probes.append(Probe("reachable", True, "connected, catalogue read"))
    return report
