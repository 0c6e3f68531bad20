"""Every host a piece of work looks up or connects to, in this process and in the Python
processes it starts (dbt): ``with calls_out(tmp_path) as hosts: ...``; then ``hosts`` holds
one entry per lookup or connection, ``(event, host)``."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

# imported by every Python process started with this folder first on PYTHONPATH: an audit hook
# writes each lookup and connection to the file the environment names
_SITECUSTOMIZE = """\
import os, sys
_log = os.environ.get("SALESOPS_TEST_NETWORK_LOG")
if _log:
    def _hook(event, args):
        if event == "socket.getaddrinfo":
            host = args[0]
        elif event == "socket.connect":
            host = args[1][0] if isinstance(args[1], tuple) else "unix"
        else:
            return
        with open(_log, "a", encoding="utf-8") as fh:
            fh.write(f"{event}\\t{host}\\n")
    sys.addaudithook(_hook)
"""

LOCAL = {"127.0.0.1", "::1", "localhost", "unix", "", None}


@contextmanager
def calls_out(work: Path) -> Iterator[list[tuple[str, str]]]:
    hosts: list[tuple[str, str]] = []
    site = work / "network_site"
    site.mkdir(parents=True)
    (site / "sitecustomize.py").write_text(_SITECUSTOMIZE, encoding="utf-8")
    log = work / "network.log"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SALESOPS_TEST_NETWORK_LOG", str(log))
        mp.setenv(
            "PYTHONPATH", os.pathsep.join(filter(None, [str(site), os.environ.get("PYTHONPATH")]))
        )
        lookup, connect = socket.getaddrinfo, socket.socket.connect

        def getaddrinfo(host, *args, **kwargs):
            hosts.append(("socket.getaddrinfo", host if isinstance(host, str) else str(host)))
            return lookup(host, *args, **kwargs)

        def sock_connect(self, address):
            hosts.append(("socket.connect", address[0] if isinstance(address, tuple) else "unix"))
            return connect(self, address)

        mp.setattr(socket, "getaddrinfo", getaddrinfo)
        mp.setattr(socket.socket, "connect", sock_connect)
        try:
            yield hosts
        finally:
            if log.exists():
                hosts += [
                    tuple(line.split("\t", 1))
                    for line in log.read_text(encoding="utf-8").splitlines()
                ]


def outside(hosts: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The lookups and connections to anything but this machine."""
    return sorted({(event, host) for event, host in hosts if host not in LOCAL})


def netrc_naming(host: str, folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A ``.netrc`` holding a login for ``host``, in ``folder``, read as this machine's (the
    ``NETRC`` the HTTP library looks at) for the test's duration."""
    netrc = folder / "netrc"
    netrc.write_text(f"machine {host} login someone@example.com password not-for-the-vendor\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
