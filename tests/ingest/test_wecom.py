"""The WeCom source against the contract stand-in over real HTTP, with faults."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import duckdb
import pytest

from ingest.pipelines import make_pipeline
from ingest.wecom import source_from_config, wecom_source, windows
from salesops.demo.generate import generate
from salesops.standins.base import Faults
from salesops.standins.wecom import WeComStandIn

SECRET = "s3cret-corp-key"
TABLES = ("follow_users", "external_contacts", "user_behavior_data", "checkins", "chat_messages")


@pytest.fixture(scope="module")
def org(tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("org")
    manifest = generate(out, seed=9, scale="S", as_of=date(2026, 11, 20))
    return out, manifest


def _run(org_dir: Path, base: Path, standin: WeComStandIn, **kw) -> Path:
    pipeline = make_pipeline("wecom", base / "w.duckdb", pipelines_dir=base / "p")
    source = wecom_source(
        corp_id="wwstandin",
        corp_secret=SECRET,
        base_url=standin.api_url,
        start_date="2026-06-01",
        end_date="2026-11-20",
        chat_archive_dir=str(org_dir / "chat_archive"),
        retry_base_seconds=0.01,
        **kw,
    )
    pipeline.run(source)
    return base / "w.duckdb"


def _tables(wh: Path) -> dict[str, list[tuple]]:
    con = duckdb.connect(str(wh), read_only=True)
    try:
        out = {}
        for t in TABLES:
            cols = [
                r[0]
                for r in con.execute(f"describe raw_wecom.{t}").fetchall()
                if not r[0].startswith("_dlt")
            ]
            out[t] = con.execute(
                f"select {', '.join(cols)} from raw_wecom.{t} order by all"
            ).fetchall()
        return out
    finally:
        con.close()


def test_full_load_equals_the_org_and_a_rerun_adds_nothing(org, tmp_path):
    org_dir, manifest = org
    with WeComStandIn(org_dir / "wecom", corp_secret=SECRET) as standin:
        wh = _run(org_dir, tmp_path, standin)
        first = _tables(wh)
        for table in TABLES:
            assert len(first[table]) == manifest["counts"]["wecom"][table], table
        # paging and windows were used as the contract demands
        assert standin.requests["/cgi-bin/externalcontact/batch/get_by_user"] > 10
        assert standin.tokens_issued == 1
        _run(org_dir, tmp_path, standin)
        assert _tables(wh) == first


def test_faults_do_not_change_the_result(org, tmp_path):
    org_dir, _ = org
    with WeComStandIn(org_dir / "wecom", corp_secret=SECRET) as clean:
        expected = _tables(_run(org_dir, tmp_path / "clean", clean))
    faults = Faults(
        rate=0.12, kinds=("5xx", "busy", "rate_limit", "expired_token", "truncated"), seed=4
    )
    with WeComStandIn(org_dir / "wecom", corp_secret=SECRET, faults=faults) as flaky:
        got = _tables(_run(org_dir, tmp_path / "flaky", flaky))
        assert sum(faults.injected.values()) >= 10
        assert set(faults.injected) >= {"5xx", "busy", "rate_limit", "expired_token"}
        assert flaky.tokens_issued > 1
    assert got == expected


def test_new_messages_load_alone(org, tmp_path):
    org_dir, _ = org
    archive = tmp_path / "archive"
    archive.mkdir()
    source_files = sorted((org_dir / "chat_archive").glob("*.jsonl"))
    for f in source_files[:-1]:
        (archive / f.name).write_bytes(f.read_bytes())
    with WeComStandIn(org_dir / "wecom", corp_secret=SECRET) as standin:
        pipeline = make_pipeline("wecom", tmp_path / "w.duckdb", pipelines_dir=tmp_path / "p")

        def run() -> int:
            pipeline.run(
                wecom_source(
                    corp_id="wwstandin",
                    corp_secret=SECRET,
                    base_url=standin.api_url,
                    start_date="2026-11-01",
                    end_date="2026-11-20",
                    chat_archive_dir=str(archive),
                    retry_base_seconds=0.01,
                ).with_resources("chat_messages")
            )
            con = duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True)
            n = con.execute("select count(*) from raw_wecom.chat_messages").fetchone()[0]
            con.close()
            return n

        before = run()
        (archive / source_files[-1].name).write_bytes(source_files[-1].read_bytes())
        after = run()
    added = sum(1 for _ in source_files[-1].open(encoding="utf-8"))
    assert after == before + added


def test_wrong_secret_fails_clearly_without_leaking_it(org, tmp_path):
    org_dir, _ = org
    with (
        WeComStandIn(org_dir / "wecom", corp_secret="the-right-one") as standin,
        pytest.raises(Exception) as info,
    ):
        _run(org_dir, tmp_path, standin)
    text = str(info.value)
    assert "gettoken" in text and "40001" in text and "SOURCES__WECOM__CORP_SECRET" in text
    assert SECRET not in text


def test_secret_in_config_is_refused_and_windows_are_30_days():
    with pytest.raises(ValueError, match="SOURCES__WECOM__CORP_SECRET"):
        source_from_config({"corp_id": "ww1", "corp_secret": "x"})
    parts = list(windows(date(2026, 1, 1), date(2026, 3, 11)))
    assert len(parts) == 3 and all((b - a).days <= 29 for a, b in parts)
    assert parts[0][0] == date(2026, 1, 1) and parts[-1][1] == date(2026, 3, 11)


def test_chat_archive_with_a_broken_line_names_file_and_line(tmp_path, org):
    org_dir, _ = org
    archive = tmp_path / "archive"
    archive.mkdir()
    (archive / "chat_2026-11.jsonl").write_text(
        json.dumps({"seq": 1, "msgid": "a", "msgtime": 1, "from": "x", "tolist": []}) + "\n{oops\n",
        encoding="utf-8",
    )
    with WeComStandIn(org_dir / "wecom", corp_secret=SECRET) as standin:
        pipeline = make_pipeline("wecom", tmp_path / "w.duckdb", pipelines_dir=tmp_path / "p")
        source = wecom_source(
            corp_id="wwstandin",
            corp_secret=SECRET,
            base_url=standin.api_url,
            chat_archive_dir=str(archive),
        ).with_resources("chat_messages")
        with pytest.raises(Exception, match=r"chat_2026-11.jsonl line 2"):
            pipeline.run(source)
