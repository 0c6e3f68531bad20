"""The run-configuration source sections for a generated org, its API stand-ins served."""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator
from datetime import date
from pathlib import Path


@contextlib.contextmanager
def served_sources(
    src_dir: Path,
    as_of: date,
    crm: str = "api",
    wecom_omit_fields: dict[str, tuple[str, ...]] | None = None,
) -> Iterator[dict[str, dict]]:
    """Source sections for the org in ``src_dir``. WeCom (and, with ``crm="api"``, the CRM) is
    served over HTTP by its contract stand-in for as long as the block lasts — the API paths
    are the ones a real company uses; the stand-ins' secrets are made up per block and passed
    as real ones are, through the environment. ``crm="export"`` reads the CRM export folder
    instead; U8 and the spreadsheets are read where they lie. ``wecom_omit_fields``: fields the
    WeCom stand-in leaves out of its APIs' items (``WeComStandIn``)."""
    from devkit.demo.writers import CONTACT_EVENTS_DIR
    from devkit.standins.salesforce import SalesforceStandIn
    from devkit.standins.wecom import WeComStandIn

    if crm not in ("api", "export"):
        raise ValueError(f"crm must be 'api' or 'export', not {crm!r}")
    # WeCom grants a secret per app: 客户联系 for the contact APIs, 打卡 for check-ins
    app_secrets = {app: secrets.token_urlsafe(16) for app in ("contact", "checkin")}
    client_secret = secrets.token_urlsafe(16)
    secrets_env = {f"SOURCES__WECOM__{app.upper()}_SECRET": s for app, s in app_secrets.items()}
    with contextlib.ExitStack() as stack:
        wecom = stack.enter_context(
            WeComStandIn(
                src_dir / "wecom",
                corp_id="wwdemo",
                app_secrets=app_secrets,
                omit_fields=wecom_omit_fields,
            )
        )
        if crm == "api":
            sf = stack.enter_context(
                SalesforceStandIn(
                    src_dir / "crm_export", client_id="salesops-demo", client_secret=client_secret
                )
            )
            crm_section = {"instance_url": sf.base_url}
            secrets_env.update(
                SOURCES__CRM__CLIENT_ID="salesops-demo", SOURCES__CRM__CLIENT_SECRET=client_secret
            )
        else:
            crm_section = {"export_dir": str(src_dir / "crm_export")}
        os.environ.update(secrets_env)
        try:
            yield {
                "crm": crm_section,
                "wecom": {
                    "base_url": wecom.api_url,
                    "corp_id": "wwdemo",
                    "chat_archive_dir": str(src_dir / "chat_archive"),
                    "contact_events_dir": str(src_dir / "wecom" / CONTACT_EVENTS_DIR),
                    "end_date": as_of.isoformat(),
                },
                "u8": {"url": f"sqlite:///{src_dir / 'u8' / 'UFDATA_001_2026.db'}"},
                "sheets": {"dir": str(src_dir / "sheets")},
            }
        finally:
            for name in secrets_env:
                os.environ.pop(name, None)


def _serve_until_told(src_dir: str, as_of: str, crm: str, conn) -> None:
    """The body of ``served_sources_apart``'s child: serve, send the sections and the secrets'
    environment back, wait for the word to stop."""
    before = dict(os.environ)
    with served_sources(Path(src_dir), date.fromisoformat(as_of), crm=crm) as sections:
        env = {k: v for k, v in os.environ.items() if before.get(k) != v}
        conn.send((sections, env))
        conn.recv()


@contextlib.contextmanager
def served_sources_apart(
    src_dir: Path, as_of: date, crm: str = "api"
) -> Iterator[tuple[dict, int]]:
    """``served_sources`` in a process of its own: the stand-ins play the vendors' servers, so
    their memory and CPU are not the pipeline's (the benchmark measures the pipeline's process
    tree without them). Yields the source sections and the stand-ins' process id; the secrets
    are put into this process's environment for as long as the block lasts."""
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    ours, theirs = ctx.Pipe()
    child = ctx.Process(
        target=_serve_until_told, args=(str(src_dir), as_of.isoformat(), crm, theirs), daemon=True
    )
    child.start()
    try:
        if not ours.poll(600):
            raise RuntimeError("the source stand-ins did not start within 10 minutes")
        sections, env = ours.recv()
        os.environ.update(env)
        try:
            yield sections, child.pid
        finally:
            for name in env:
                os.environ.pop(name, None)
            ours.send("stop")
    finally:
        child.join(60)
        if child.is_alive():
            child.kill()
