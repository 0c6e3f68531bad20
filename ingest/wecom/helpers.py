"""The WeCom HTTP client: access token, errcode envelope, retries and backoff."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

import requests

from ingest.sessions import api_session
from ingest.wecom.settings import (
    API_APPS,
    APPS,
    BACKOFF_ERRCODES,
    CONFIG_ERRCODES,
    RETRY_ERRCODES,
    SHARED_SECRET_VAR,
    TOKEN_ERRCODES,
)

logger = logging.getLogger(__name__)
T = TypeVar("T")
R = TypeVar("R")


class WeComError(Exception):
    """A WeCom call failed for good; the message names the endpoint and errcode."""

    def __init__(self, endpoint: str, errcode: int | None, message: str) -> None:
        self.endpoint = endpoint
        self.errcode = errcode
        super().__init__(f"WeCom {endpoint}: {message}")


@dataclass
class RetryPolicy:
    attempts: int = 6
    base_seconds: float = 0.5
    max_seconds: float = 30.0

    def delay(self, attempt: int) -> float:
        return min(self.max_seconds, self.base_seconds * 2**attempt)


class KeptAnswers:
    """Answers of WeCom calls kept for one more use, in this process: what the source's stamp
    asked (``ingest.wecom.stamp``), for the load that follows it to take instead of asking
    WeCom the same again. WeCom counts every call against the app's limits; a daily run
    stamps, then loads, the same window. An answer is given once and only while younger than
    ``max_age`` seconds; a call it does not hold is asked of WeCom."""

    def __init__(self, max_age: float) -> None:
        self.max_age = max_age
        self._lock = threading.Lock()
        self._answers: dict[tuple[str, ...], tuple[float, dict[str, Any]]] = {}
        self._given: dict[str, int] = {}  # endpoint -> answers given since last asked

    @staticmethod
    def key(client: WeComClient, method: str, endpoint: str, body: dict[str, Any]) -> tuple:
        return (client.base_url, client.corp_id, method, endpoint, json.dumps(body, sort_keys=True))

    def clear(self) -> None:
        with self._lock:
            self._answers.clear()

    def keep(self, key: tuple, answer: dict[str, Any]) -> None:
        with self._lock:
            self._answers[key] = (time.monotonic(), answer)

    def take(self, key: tuple) -> dict[str, Any] | None:
        with self._lock:
            kept = self._answers.pop(key, None)
        if kept is None or time.monotonic() - kept[0] > self.max_age:
            return None
        return kept[1]

    def given(self, endpoint: str) -> int:
        """How many answers to ``endpoint`` were given instead of asked since the last call."""
        with self._lock:
            return self._given.pop(endpoint, 0)

    def ask(
        self,
        client: WeComClient,
        method: str,
        endpoint: str,
        body: dict[str, Any] | None = None,
        keep: bool = False,
    ) -> tuple[dict[str, Any], bool]:
        """``client``'s answer to the call, and whether it was kept (not asked now). ``keep``:
        asked of WeCom, and kept for the next ask of the same call."""
        key = self.key(client, method, endpoint, body or {})
        answer = None if keep else self.take(key)
        if answer is not None:
            with self._lock:
                self._given[endpoint] = self._given.get(endpoint, 0) + 1
            return answer, True
        call = client.get if method == "GET" else client.post
        answer = call(endpoint, body or {})
        if keep:
            self.keep(key, answer)
        return answer, False


def app_of(endpoint: str) -> str:
    """The app whose secret's token may call ``endpoint`` (``settings.API_APPS``)."""
    for prefix, app in API_APPS.items():
        if endpoint.startswith(prefix):
            return app
    raise ValueError(f"WeCom {endpoint}: no app is known to grant this API")


class WeComClient:
    """Calls ``<base_url><endpoint>?access_token=...`` with the token of the app that grants the
    endpoint (``settings.API_APPS``): one token per app, fetched with that app's secret, cached
    and refreshed on 40014/42001. Retries -1, 5xx, broken or truncated bodies, and backs off on
    45009/45033; configuration errors (40001, 48002, 60011...) fail at once with what to fix.

    ``secrets`` maps app (``settings.APPS``) to its secret; an app without one fails its first
    call with the variable to set."""

    def __init__(
        self,
        base_url: str,
        corp_id: str,
        secrets: dict[str, str | None],
        retry: RetryPolicy | None = None,
        timeout: float = 60.0,
    ) -> None:
        self.base_url = base_url if base_url.endswith("/") else base_url + "/"
        self.corp_id = corp_id
        self._secrets = dict(secrets)
        self.retry = retry or RetryPolicy()
        self.timeout = timeout
        self._local = threading.local()  # a connection pool per thread: calls run side by side
        self._token_lock = threading.Lock()
        self._count_lock = threading.Lock()
        self._tokens: dict[str, str] = {}
        self.calls = 0
        self.retries = 0

    @property
    def session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = api_session()
        return session

    def _token_value(self, app: str, endpoint: str) -> str:
        with self._token_lock:  # one gettoken per app, however many calls wait for it
            return self._token_held(app, endpoint)

    def _token_held(self, app: str, endpoint: str) -> str:
        if app not in self._tokens:
            secret = self._secrets.get(app)
            if not secret:
                name, var = APPS[app]
                raise WeComError(
                    endpoint,
                    None,
                    f"no secret for the {name} app: set {var} (or {SHARED_SECRET_VAR} for one "
                    f"self-built app granted every API)",
                )
            payload = self._send(
                "GET", "gettoken", {"corpid": self.corp_id, "corpsecret": secret}, None, app, False
            )
            self._tokens[app] = payload["access_token"]
        return self._tokens[app]

    def get(self, endpoint: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        return self._send("GET", endpoint, params or {}, None, app_of(endpoint))

    def post(self, endpoint: str, body: dict[str, Any]) -> dict[str, Any]:
        return self._send("POST", endpoint, {}, body, app_of(endpoint))

    def _send(
        self,
        method: str,
        endpoint: str,
        params: dict[str, Any],
        body: dict[str, Any] | None,
        app: str,
        auth: bool = True,
    ) -> dict[str, Any]:
        last = "no attempt"
        for attempt in range(self.retry.attempts):
            if attempt:
                with self._count_lock:
                    self.retries += 1
            query = dict(params)
            if auth:
                query["access_token"] = self._token_value(app, endpoint)
            with self._count_lock:
                self.calls += 1
            try:
                resp = self.session.request(
                    method, self.base_url + endpoint, params=query, json=body, timeout=self.timeout
                )
            except requests.RequestException as exc:
                last = f"connection failed ({exc.__class__.__name__})"
                time.sleep(self.retry.delay(attempt))
                continue
            if resp.status_code >= 500:
                last = f"HTTP {resp.status_code}"
                time.sleep(self.retry.delay(attempt))
                continue
            try:
                payload = resp.json()
            except (ValueError, json.JSONDecodeError):
                last = f"unreadable response (HTTP {resp.status_code}, {len(resp.content)} bytes)"
                time.sleep(self.retry.delay(attempt))
                continue
            code = payload.get("errcode", 0)
            if code == 0:
                return payload
            message = payload.get("errmsg", "")
            if code in TOKEN_ERRCODES and auth:
                with self._token_lock:  # refresh and retry at once (unless another call did)
                    if self._tokens.get(app) == query["access_token"]:
                        del self._tokens[app]
                last = f"errcode {code} {message}"
                continue
            if code in RETRY_ERRCODES or code in BACKOFF_ERRCODES:
                last = f"errcode {code} {message}"
                wait = self.retry.delay(attempt) * (4 if code in BACKOFF_ERRCODES else 1)
                logger.info("WeCom %s: errcode %s, retrying in %.1fs", endpoint, code, wait)
                time.sleep(wait)
                continue
            name, var = APPS[app]
            hint = CONFIG_ERRCODES.get(code, "").format(app=name, var=var)
            raise WeComError(
                endpoint, code, f"errcode {code} {message}" + (f": {hint}" if hint else "")
            )
        raise WeComError(endpoint, None, f"gave up after {self.retry.attempts} attempts: {last}")


def parallel_map(fn: Callable[[T], R], items: Iterable[T], workers: int) -> Iterator[R]:
    """``fn`` over ``items`` with at most ``workers`` calls at once, the results in the order of
    ``items``. The first call that fails raises here, and the calls not yet started are
    dropped."""
    items = list(items)
    if workers <= 1 or len(items) <= 1:
        yield from map(fn, items)
        return
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="wecom")
    try:
        yield from pool.map(fn, items)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
