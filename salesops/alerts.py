"""Sending alerts and reports to a WeCom group robot (群机器人 webhook, SPEC §3.2)."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

MARKDOWN_LIMIT = 4096  # bytes, UTF-8
TEXT_LIMIT = 2048


class AlertError(Exception):
    """The robot refused the message or could not be reached."""


def fit(content: str, limit: int) -> str:
    """``content`` cut to ``limit`` UTF-8 bytes on a character boundary, marked when cut."""
    data = content.encode("utf-8")
    if len(data) <= limit:
        return content
    marker = "\n…"
    cut = data[: limit - len(marker.encode("utf-8"))].decode("utf-8", errors="ignore")
    return cut + marker


def send_wecom(
    webhook_url: str,
    content: str,
    msgtype: str = "markdown",
    attempts: int = 4,
    backoff_seconds: float = 1.0,
    timeout: float = 10.0,
) -> None:
    """Post ``content`` (markdown or text) to the robot at ``webhook_url``.

    Retries connection failures, 5xx, -1 (busy) and 45009 (the robot's 20 messages a minute)
    with backoff; any other errcode raises ``AlertError`` naming it. The webhook key (a secret)
    is never part of an error message.
    """
    if msgtype not in ("markdown", "text"):
        raise ValueError(f"msgtype must be markdown or text, not {msgtype!r}")
    limit = MARKDOWN_LIMIT if msgtype == "markdown" else TEXT_LIMIT
    body = {"msgtype": msgtype, msgtype: {"content": fit(content, limit)}}
    last = ""
    for attempt in range(attempts):
        if attempt:
            time.sleep(backoff_seconds * 2 ** (attempt - 1))
        try:
            resp = requests.post(webhook_url, json=body, timeout=timeout)
        except requests.RequestException as exc:
            last = f"connection failed ({exc.__class__.__name__})"
            continue
        if resp.status_code >= 500:
            last = f"HTTP {resp.status_code}"
            continue
        try:
            payload = resp.json()
        except ValueError:
            last = f"unreadable response (HTTP {resp.status_code})"
            continue
        code = payload.get("errcode", 0)
        if code == 0:
            return
        if code in (-1, 45009):
            last = f"errcode {code} {payload.get('errmsg', '')}"
            continue
        raise AlertError(
            f"WeCom robot refused the message: errcode {code} {payload.get('errmsg', '')}"
        )
    raise AlertError(f"WeCom robot unreachable after {attempts} attempts: {last}")


# -- alerts mart -> the team's robot ---------------------------------------------------------------
MESSAGES_PER_MINUTE = 20  # WeCom's limit per robot
SEVERITY_ORDER = {
    "escalate": 0,
    "critical": 0,
    "high": 1,
    "warning": 2,
    "medium": 2,
    "low": 3,
    "info": 3,
}


@dataclass
class Dispatch:
    """What one dispatch did: messages and alerts sent, alerts left for a later call."""

    messages: int = 0
    alerts: int = 0
    pending: int = 0
    groups: list[str] = field(default_factory=list)


class Ledger:
    """Which alerts went out, and when each message went (SQLite file beside the warehouse):
    the memory that makes every alert go once and keeps a robot under its rate limit."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.con = sqlite3.connect(self.path)
        self.con.executescript(
            "create table if not exists sent_alerts (alert_key text primary key, sent_at real);"
            "create table if not exists sent_messages (robot text, sent_at real);"
        )

    def sent(self, keys: list[str]) -> set[str]:
        found: set[str] = set()
        for i in range(0, len(keys), 500):
            chunk = keys[i : i + 500]
            marks = ",".join("?" * len(chunk))
            found |= {
                k
                for (k,) in self.con.execute(
                    f"select alert_key from sent_alerts where alert_key in ({marks})", chunk
                )
            }
        return found

    def messages_since(self, robot: str, since: float) -> int:
        return self.con.execute(
            "select count(*) from sent_messages where robot = ? and sent_at > ?", (robot, since)
        ).fetchone()[0]

    def record(self, robot: str, keys: list[str], at: float) -> None:
        with self.con:
            self.con.execute("insert into sent_messages values (?, ?)", (robot, at))
            self.con.executemany(
                "insert or ignore into sent_alerts values (?, ?)", [(k, at) for k in keys]
            )

    def close(self) -> None:
        self.con.close()


def alert_key(alert: dict[str, Any]) -> str:
    """An alert is the same alert while its id, severity and start are: an escalation or a new
    stagnation episode is news and goes out again."""
    return f"{alert['alert_id']}|{alert.get('severity') or ''}|{alert.get('since') or ''}"


def open_alerts(db_file: str | Path, schema: str = "reporting") -> list[dict[str, Any]]:
    """Open alerts with the names of rep and manager, from the BI file (or a warehouse with
    ``schema='marts'``). The names come from the published alerts page table ``rpt_alerts``
    (the BI file holds no ``dim_rep``: it carries WeCom ids)."""
    import duckdb

    con = duckdb.connect(str(db_file), read_only=True)
    try:
        names = {
            t
            for (t,) in con.execute(
                "select table_name from information_schema.tables where table_schema = ?",
                [schema],
            ).fetchall()
        }
        if "alerts" not in names:
            return []
        # rpt_alerts shows 未分配 / - for a person the org sheet does not name: no name here
        named = "nullif(r.rep_name, '未分配'), nullif(r.manager_name, '-')"
        joined = f"left join {schema}.rpt_alerts as r on r.alert_id = a.alert_id"
        if "rpt_alerts" not in names:
            named, joined = "null, null", ""
        rows = con.execute(
            f"""
            select a.*, {named}
            from {schema}.alerts as a
            {joined}
            order by a.manager_id, a.since
            """
        )
        columns = [d[0] for d in rows.description]
        columns[-2:] = ["rep_name", "manager_name"]
        return [dict(zip(columns, r, strict=True)) for r in rows.fetchall()]
    finally:
        con.close()


def compose(alerts: list[dict[str, Any]]) -> list[tuple[str, list[str], str]]:
    """Markdown messages grouped per manager, each ≤ 4096 bytes: (manager, alert keys, text)."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for a in alerts:
        groups.setdefault(a.get("manager_id") or "-", []).append(a)
    out = []
    for manager, items in groups.items():
        items.sort(key=lambda a: (SEVERITY_ORDER.get(a.get("severity") or "", 9), a["since"]))
        who = items[0].get("manager_name") or manager
        head = f"**销售过程预警** · {who}（{len(items)} 条新预警）\n"
        body, keys, part = head, [], 1
        for a in items:
            level = "升级" if a.get("severity") in ("escalate", "critical", "high") else "预警"
            color = "warning" if level == "升级" else "comment"
            rep = a.get("rep_name") or a.get("rep_id") or ""
            line = f'> <font color="{color}">{level}</font> {rep}：{a.get("message") or ""}\n'
            if len((body + line).encode("utf-8")) > MARKDOWN_LIMIT and keys:
                out.append((manager, keys, body))
                part += 1
                body, keys = f"**销售过程预警** · {who}（续 {part}）\n", []
            body += fit(line, MARKDOWN_LIMIT - len(body.encode("utf-8")))
            keys.append(alert_key(a))
        out.append((manager, keys, body))
    return out


def dispatch_alerts(
    alerts: list[dict[str, Any]],
    webhook_url: str,
    ledger: Ledger,
    robot: str = "default",
    per_minute: int = MESSAGES_PER_MINUTE,
    now: Callable[[], float] = time.time,
    send: Callable[[str, str], None] | None = None,
) -> Dispatch:
    """Send the alerts not sent before, grouped per manager, at most ``per_minute`` messages
    in any minute to this robot; what does not fit waits for the next call."""
    post = send or (lambda url, text: send_wecom(url, text, msgtype="markdown"))
    fresh_keys = {alert_key(a) for a in alerts}
    done = ledger.sent(sorted(fresh_keys))
    todo = [a for a in alerts if alert_key(a) not in done]
    result = Dispatch()
    messages = compose(todo)
    for manager, keys, text in messages:
        if ledger.messages_since(robot, now() - 60) >= per_minute:
            break
        post(webhook_url, text)
        ledger.record(robot, keys, now())
        result.messages += 1
        result.alerts += len(keys)
        result.groups.append(manager)
    result.pending = len(todo) - result.alerts
    return result


def failure_message(job: str, run_id: str, failures: list[tuple[str, str]]) -> str:
    """A short text for a failed run: the job, the run and each failed step with its error."""
    lines = [f"【数据管道失败】{job} 运行 {run_id[:8]}"]
    for step, error in failures[:5]:
        first = (error or "").strip().splitlines()[0] if error else ""
        lines.append(f"- {step}: {first[:300]}")
    if len(failures) > 5:
        lines.append(f"- …另有 {len(failures) - 5} 个步骤失败")
    return fit("\n".join(lines), TEXT_LIMIT)


FILE_LIMIT = 20 * 1024 * 1024  # the robot takes files of 5 B .. 20 MB


def send_file(webhook_url: str, path: str | Path, timeout: float = 30.0) -> str:
    """Upload ``path`` to the robot (``webhook/upload_media``, type file) and post it as a file
    message; returns the media_id. Errors name the errcode, never the webhook key."""
    path = Path(path)
    size = path.stat().st_size
    if not 5 <= size <= FILE_LIMIT:
        raise AlertError(f"{path.name}: {size} bytes; the robot takes files of 5 B to 20 MB")
    base, _, query = webhook_url.partition("?")
    upload_url = base.replace("/webhook/send", "/webhook/upload_media") + f"?{query}&type=file"
    try:
        with path.open("rb") as fh:
            resp = requests.post(
                upload_url,
                files={"media": (path.name, fh, "application/octet-stream")},
                timeout=timeout,
            )
        payload = resp.json()
    except (requests.RequestException, ValueError) as exc:
        raise AlertError(
            f"uploading {path.name} to the WeCom robot failed: {exc.__class__.__name__}"
        ) from None
    if payload.get("errcode", 0) != 0 or not payload.get("media_id"):
        raise AlertError(
            f"WeCom robot refused the upload of {path.name}: errcode {payload.get('errcode')} "
            f"{payload.get('errmsg', '')}"
        )
    media_id = payload["media_id"]
    resp = requests.post(
        webhook_url, json={"msgtype": "file", "file": {"media_id": media_id}}, timeout=timeout
    )
    code = resp.json().get("errcode", 0)
    if code != 0:
        raise AlertError(f"WeCom robot refused the file message: errcode {code}")
    return media_id


def morning_summary(bi_file: str | Path, site_url: str | None = None) -> str:
    """The short markdown that goes with the morning PDF: the figures of the overview, and a
    link to the site when its address is configured (``bi.site_url``)."""
    import duckdb

    con = duckdb.connect(str(bi_file), read_only=True)
    try:
        leads, green, within_24h = con.execute(
            "select sum(leads), sum(leads) filter (where response_band = 'green'), "
            "sum(responded_within_24h) from reporting.rpt_lead_response"
        ).fetchone()
        month, phi = con.execute(
            "select month, avg(phi) from reporting.rpt_process_health "
            "group by month order by month desc limit 1"
        ).fetchone() or (None, None)
        alerts, escalated = con.execute(
            "select count(*), count(*) filter (where severity = 'escalate') "
            "from reporting.rpt_alerts"
        ).fetchone()
        findings = con.execute("select count(*) from reporting.rpt_data_quality").fetchone()[0]
    finally:
        con.close()
    share = (within_24h or 0) / leads if leads else 0
    lines = [
        "**销售过程晨报**",
        f"> 线索 {leads or 0:,} 条，24 小时内响应 {share:.0%}（绿色 {green or 0:,} 条）",
        f"> {month:%Y-%m} 平均过程健康度 PHI {phi:.1f}" if month is not None else "> PHI 暂无",
        f'> 停滞预警 {alerts} 条，其中升级 <font color="warning">{escalated}</font> 条',
        f"> 数据质量问题 {findings:,} 条（已从指标中剔除）",
        "详见附件 PDF 晨报。",
    ]
    if site_url:
        lines.append(f"[打开销售过程看板]({site_url})")
    return "\n".join(lines)
