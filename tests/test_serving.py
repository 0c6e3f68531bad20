"""Serving the sites with access control: nginx, configured by `salesops serve-config`, over
loopback. A region's login reads its own site and gets 403 for every file of another site;
no login is 401."""

from __future__ import annotations

import http.client
import shutil
import socket
import subprocess
import time
import urllib.parse
from pathlib import Path

import pytest
import requests

from orchestration import cli
from salesops import config as salesops_config
from salesops import serving

REGIONS = ("华东", "华北")
USERS = {"ceo": "executive", "east": "华东", "north": "华北"}
PASSWORD = "s3cret-pw"


def _site(folder: Path, who: str) -> Path:
    """A built site's shape: pages at the root, scripts under _app, query results as data."""
    for rel, text in {
        "index.html": f"<h1>总览 {who}</h1>",
        "funnel.html": f"<h1>漏斗 {who}</h1>",
        "reps/index.html": f"<h1>销售 {who}</h1>",
        f"_app/immutable/{who}.js": f"console.log('{who}')",
        "data/funnel/rpt.arrow": f"ARROW {who}",
    }.items():
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return folder


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    for tool in ("nginx", "htpasswd"):
        if not (shutil.which(tool) or Path(f"/usr/sbin/{tool}").exists()):
            pytest.fail(f"{tool} is missing: sudo make server")
    root = tmp_path_factory.mktemp("serve")
    sites = {"executive": _site(root / "site", "全部区域")}
    for region in REGIONS:
        sites[region] = _site(root / "site_regions" / region, region)
    htpasswd = root / "htpasswd"
    for i, login in enumerate([*USERS, "nobody"]):
        flags = "-cbB" if i == 0 else "-bB"
        subprocess.run(["htpasswd", flags, str(htpasswd), login, PASSWORD], check=True)
    port = _free_port()
    cfg_path = root / "salesops.yml"
    cfg_path.write_text(
        salesops_config.dump(
            salesops_config.from_dict(
                {
                    "warehouse": {"path": str(root / "warehouse.duckdb")},
                    "bi": {
                        "out_dir": str(root / "site"),
                        "regions": True,
                        "regions_dir": str(root / "site_regions"),
                    },
                    "serve": {
                        "listen": f"127.0.0.1:{port}",
                        "htpasswd_file": str(htpasswd),
                        "users": USERS,
                    },
                },
                base=root,
            )
        ),
        encoding="utf-8",
    )
    # the command line writes the configuration from the run configuration
    assert (
        cli.main(["serve-config", "--config", str(cfg_path), "--standalone", str(root / "ng")]) == 0
    )
    conf = root / "ng" / "nginx.conf"
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    check = subprocess.run(
        [nginx, "-t", "-p", str(conf.parent), "-c", str(conf)], capture_output=True, text=True
    )
    assert check.returncode == 0, check.stderr
    proc = subprocess.Popen(
        [nginx, "-p", str(conf.parent), "-c", str(conf), "-g", "daemon off;"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while True:
        try:
            requests.get(base, timeout=2)
            break
        except requests.ConnectionError:
            assert proc.poll() is None, proc.stderr.read().decode()
            assert time.monotonic() < deadline, "nginx did not start"
            time.sleep(0.1)
    try:
        yield base, sites
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def _files(site: Path) -> list[str]:
    return sorted(p.relative_to(site).as_posix() for p in site.rglob("*") if p.is_file())


def _prefix(name: str) -> str:
    return "/site/" if name == "executive" else f"/site_regions/{name}/"


def _session(login: str) -> requests.Session:
    s = requests.Session()
    s.auth = (login, PASSWORD)
    return s


def test_no_login_or_a_wrong_password_is_401(server):
    base, sites = server
    for path in ("/", "/funnel", "/site/index.html", f"/site_regions/{REGIONS[1]}/index.html"):
        resp = requests.get(base + path, timeout=10)
        assert resp.status_code == 401 and "Basic" in resp.headers["WWW-Authenticate"], path
        wrong = requests.get(base + path, auth=("east", "wrong"), timeout=10)
        assert wrong.status_code == 401, path


@pytest.mark.parametrize("login", list(USERS))
def test_a_login_reads_its_own_site_and_no_file_of_any_other(server, login):
    base, sites = server
    own = USERS[login]
    s = _session(login)
    home = s.get(base + "/", timeout=10)
    assert home.status_code == 200 and home.text == (sites[own] / "index.html").read_text()
    assert s.get(base + "/funnel", timeout=10).text == (sites[own] / "funnel.html").read_text()
    assert s.get(base + "/reps/", timeout=10).status_code == 200
    for rel in _files(sites[own]):  # at the root and at its folder, byte for byte
        for url in (f"{base}/{rel}", f"{base}{_prefix(own)}{rel}"):
            resp = s.get(url, timeout=10)
            assert resp.status_code == 200 and resp.content == (sites[own] / rel).read_bytes()
    for other, site in sites.items():
        if other == own:
            continue
        for rel in _files(site):
            resp = s.get(f"{base}{_prefix(other)}{rel}", timeout=10)
            assert resp.status_code == 403, (login, other, rel)
            assert site.name not in resp.text
        assert s.get(f"{base}{_prefix(other)}", timeout=10).status_code == 403


def test_a_path_climbing_out_of_the_own_folder_is_still_403(server):
    base, sites = server
    other = urllib.parse.quote(f"/site_regions/{REGIONS[0]}/../{REGIONS[1]}/index.html")
    host, port = base.removeprefix("http://").split(":")
    con = http.client.HTTPConnection(host, int(port), timeout=10)
    token = requests.auth._basic_auth_str("east", PASSWORD)
    con.request("GET", other, headers={"Authorization": token})
    resp = con.getresponse()
    body = resp.read().decode("utf-8", errors="ignore")
    con.close()
    assert resp.status == 403 and REGIONS[1] not in body


def test_a_login_without_a_site_is_403(server):
    base, _ = server
    s = _session("nobody")
    assert s.get(base + "/", timeout=10).status_code == 403
    assert s.get(base + "/site/index.html", timeout=10).status_code == 403


def test_a_login_mapped_to_a_site_not_built_is_a_config_error(tmp_path):
    cfg = salesops_config.from_dict(
        {
            "warehouse": {"path": str(tmp_path / "w.duckdb")},
            "serve": {"htpasswd_file": "htpasswd", "users": {"west": "华西"}},
        },
        base=tmp_path,
    )
    with pytest.raises(salesops_config.ConfigError, match="华西"):
        serving.nginx_server(cfg)
