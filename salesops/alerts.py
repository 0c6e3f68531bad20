"""Sending alerts and reports to a WeCom group robot (群机器人 webhook, SPEC §3.2)."""

from __future__ import annotations

import time

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
