"""A threaded HTTP server on 127.0.0.1 with seeded fault injection, shared by the stand-ins."""

from __future__ import annotations

import json
import os
import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Faults:
    """Which faults to inject and how often.

    ``rate`` is the share of requests (after the token endpoint) that fail; ``kinds`` are the
    stand-in's own fault names (e.g. ``"5xx"``, ``"rate_limit"``, ``"expired_token"``,
    ``"slow"``, ``"truncated"``), drawn uniformly. Seeded, so a run is reproducible.
    """

    rate: float = 0.0
    kinds: tuple[str, ...] = ()
    seed: int = 0
    slow_seconds: float = 0.5
    _rng: random.Random = field(init=False, repr=False)
    _lock: threading.Lock = field(init=False, repr=False, default_factory=threading.Lock)
    injected: Counter = field(init=False, default_factory=Counter)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    def draw(self) -> str | None:
        if not self.kinds or self.rate <= 0:
            return None
        with self._lock:
            if self._rng.random() >= self.rate:
                return None
            kind = self._rng.choice(self.kinds)
            self.injected[kind] += 1
            return kind


HOST = "127.0.0.1"


def reached_directly(host: str = HOST) -> None:
    """Calls to ``host`` bypass any proxy the environment names: a machine that reaches the
    package registries through ``HTTP(S)_PROXY`` would otherwise send the calls meant for a
    stand-in on this machine to the proxy. Both spellings of the bypass list get the union of
    what they held and ``host`` (requests reads ``no_proxy`` before ``NO_PROXY``); processes
    started afterwards inherit it."""
    held = [
        entry.strip()
        for name in ("no_proxy", "NO_PROXY")
        for entry in os.environ.get(name, "").split(",")
        if entry.strip()
    ]
    merged = ",".join(dict.fromkeys([*held, host]))
    for name in ("no_proxy", "NO_PROXY"):
        os.environ[name] = merged


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body or b"{}")


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    content_type: str = "application/json; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    truncate: bool = False

    @classmethod
    def json(cls, payload: Any, status: int = 200, **kw: Any) -> Response:
        return cls(status, json.dumps(payload, ensure_ascii=False).encode("utf-8"), **kw)


class StandIn:
    """Base class: subclasses implement ``handle(request) -> Response``.

    Use as a context manager; ``base_url`` is ``http://127.0.0.1:<port>``. ``requests`` counts
    every request by path, so tests can check call volumes and rate limits; ``log`` keeps
    (path, JSON body) of every POST so tests can check what was asked for; ``authorizations``
    counts the scheme of every ``Authorization`` header that came (``Bearer``, ``Basic``...).
    """

    def __init__(self, faults: Faults | None = None) -> None:
        self.faults = faults or Faults()
        self.requests: Counter = Counter()
        self.log: list[tuple[str, Any]] = []
        self.authorizations: Counter = Counter()
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- subclass API -------------------------------------------------------------------------
    def handle(self, request: Request) -> Response:  # pragma: no cover - abstract
        raise NotImplementedError

    # -- server -------------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        assert self._server is not None, "stand-in not started"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> StandIn:
        standin = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # keep test output quiet
                pass

            def _serve(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                req = Request(
                    method=self.command,
                    path=parts.path,
                    query={k: v[-1] for k, v in parse_qs(parts.query).items()},
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=body,
                )
                with standin._lock:
                    standin.requests[req.path] += 1
                    if "authorization" in req.headers:
                        standin.authorizations[req.headers["authorization"].split(" ")[0]] += 1
                    if req.method == "POST":
                        try:
                            standin.log.append((req.path, json.loads(body or b"null")))
                        except ValueError:
                            standin.log.append((req.path, None))
                try:
                    resp = standin.handle(req)
                except Exception as exc:  # a bug in the stand-in shows as a 500 with the reason
                    resp = Response.json({"error": repr(exc)}, status=500)
                payload = resp.body
                if resp.truncate and len(payload) > 2:
                    payload = payload[: len(payload) // 2]
                self.send_response(resp.status)
                self.send_header("Content-Type", resp.content_type)
                # A truncated response announces its full length, as a dropped connection would.
                self.send_header("Content-Length", str(len(resp.body)))
                for k, v in resp.headers.items():
                    self.send_header(k, v)
                self.end_headers()
                try:
                    self.wfile.write(payload)
                    self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):
                    pass
                if resp.truncate:
                    self.close_connection = True

            do_GET = _serve
            do_POST = _serve
            do_PATCH = _serve

        reached_directly(HOST)
        self._server = ThreadingHTTPServer((HOST, 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> StandIn:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def slow(self) -> None:
        time.sleep(self.faults.slow_seconds)
