"""Alerts reach the WeCom group robot (stand-in over real HTTP): grouped per manager, each once,
≤ 4096 bytes a message, ≤ 20 messages a minute; a failed run posts its failure."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import dagster as dg
import pytest

from devkit.standins.wecom import WeComStandIn
from salesops import alerts, publish

KEY = "robot-test"


class Clock:
    def __init__(self) -> None:
        self.t = 1_000_000.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def robot(tmp_path):
    clock = Clock()
    with WeComStandIn(tmp_path, webhook_keys=(KEY,), clock=clock) as wecom:
        wecom.clock = clock
        wecom.url = f"{wecom.base_url}/cgi-bin/webhook/send?key={KEY}"
        yield wecom


def _alert(i: int, manager: str, severity: str = "warning") -> dict:
    return {
        "alert_id": f"stagnation:006{i:05d}",
        "alert_type": "stagnation",
        "rep_id": f"S{i % 7:03d}",
        "rep_name": f"销售{i % 7}",
        "manager_id": manager,
        "manager_name": f"经理{manager}",
        "severity": severity,
        "message": f"商机「客户{i}有限公司-管理系统项目」已 {4 + i % 9} 天没有实质跟进",
        "since": datetime(2026, 11, 1, tzinfo=UTC) + timedelta(hours=i),
    }


def _contents(wecom) -> list[str]:
    return [m["markdown"]["content"] for m in wecom.webhook_messages]


def test_the_demo_alerts_go_once_grouped_per_manager(demo_run, robot, tmp_path):
    open_alerts = alerts.open_alerts(demo_run.config.warehouse, schema="marts")
    managers = {a["manager_id"] for a in open_alerts}
    assert len(open_alerts) > 5 and len(managers) > 1
    ledger = alerts.Ledger(tmp_path / "ledger.sqlite")
    done = alerts.dispatch_alerts(open_alerts, robot.url, ledger, now=robot.clock)
    # one message per manager at least (a long list is split under the size limit)
    assert (done.alerts, done.pending) == (len(open_alerts), 0)
    assert done.messages >= len(managers)
    sent = _contents(robot)
    assert len(sent) == done.messages
    for a in open_alerts:  # every alert is sent, under its manager's name
        holding = [m for m in sent if a["message"] in m]
        assert any((a["manager_name"] or a["manager_id"]) in m for m in holding), a
    assert all(len(m.encode("utf-8")) <= alerts.MARKDOWN_LIMIT for m in sent)
    # the next tick has nothing new to say
    robot.clock.t += 3600
    again = alerts.dispatch_alerts(open_alerts, robot.url, ledger, now=robot.clock)
    assert again.messages == 0 and len(robot.webhook_messages) == done.messages
    # an alert that escalates is news again
    warning = next(a for a in open_alerts if a["severity"] == "warning")
    escalated = [dict(warning, severity="escalate")]
    assert alerts.dispatch_alerts(escalated, robot.url, ledger, now=robot.clock).alerts == 1
    ledger.close()


def test_no_more_than_20_messages_a_minute(robot, tmp_path):
    many = [_alert(i, f"M{i % 50:02d}") for i in range(100)]  # 50 managers: 50 messages
    ledger = alerts.Ledger(tmp_path / "ledger.sqlite")
    first = alerts.dispatch_alerts(many, robot.url, ledger, now=robot.clock)
    assert (first.messages, first.pending) == (20, 60)
    robot.clock.t += 30  # same minute: nothing more goes
    assert alerts.dispatch_alerts(many, robot.url, ledger, now=robot.clock).messages == 0
    robot.clock.t += 31
    assert alerts.dispatch_alerts(many, robot.url, ledger, now=robot.clock).messages == 20
    robot.clock.t += 61
    last = alerts.dispatch_alerts(many, robot.url, ledger, now=robot.clock)
    assert (last.messages, last.pending) == (10, 0)
    assert len(robot.webhook_messages) == 50 and robot.webhook_refused == []
    body = "".join(_contents(robot))
    assert all(body.count(a["message"]) == 1 for a in many)
    ledger.close()


def test_a_long_group_is_split_under_4096_bytes(robot, tmp_path):
    many = [_alert(i, "M01") for i in range(150)]
    ledger = alerts.Ledger(tmp_path / "ledger.sqlite")
    done = alerts.dispatch_alerts(many, robot.url, ledger, now=robot.clock)
    assert done.messages > 1 and done.alerts == 150 and done.pending == 0
    sizes = [len(m.encode("utf-8")) for m in _contents(robot)]
    assert max(sizes) <= alerts.MARKDOWN_LIMIT and robot.webhook_refused == []
    ledger.close()


def test_the_sensor_sends_what_was_published(demo_run, robot, tmp_path, monkeypatch):
    import yaml

    from orchestration.defs.automation import alerts_to_wecom
    from orchestration.resources import SalesopsConfig, wecom_robot

    data = yaml.safe_load(demo_run.config_path.read_text(encoding="utf-8"))
    data["warehouse"]["bi_path"] = str(tmp_path / "bi.duckdb")
    data["warehouse"]["path"] = str(demo_run.config.warehouse)
    path = tmp_path / "salesops.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    resources = {"salesops": SalesopsConfig(config_path=str(path))}

    monkeypatch.delenv("SALESOPS_WECOM_WEBHOOK", raising=False)
    resources["wecom_robot"] = wecom_robot()
    skipped = alerts_to_wecom(dg.build_sensor_context(resources=resources))
    assert isinstance(skipped, dg.SkipReason) and "SALESOPS_WECOM_WEBHOOK" in skipped.skip_message

    monkeypatch.setenv("SALESOPS_WECOM_WEBHOOK", robot.url)
    resources["wecom_robot"] = wecom_robot()  # the webhook as an EnvVar, resolved per tick
    nothing = alerts_to_wecom(dg.build_sensor_context(resources=resources))
    assert "nothing published" in nothing.skip_message
    publish.publish_bi(demo_run.config.warehouse, tmp_path / "bi.duckdb")
    result = alerts_to_wecom(dg.build_sensor_context(resources=resources))
    n = len(robot.webhook_messages)
    assert n > 0 and "sent" in result.skip_message
    # each alert under its rep's and manager's names from the org sheet, never their ids
    import duckdb

    with duckdb.connect(str(demo_run.config.warehouse), read_only=True) as con:
        names = dict(con.execute("select rep_id, rep_name from marts.dim_rep").fetchall())
        managers = {
            m for (m,) in con.sql("select distinct manager_id from marts.alerts").fetchall()
        }
    sent = "\n".join(_contents(robot))
    assert all(names[m] in sent for m in managers if m in names)
    assert not [rep_id for rep_id in names if rep_id in sent]
    alerts_to_wecom(dg.build_sensor_context(resources=resources))
    assert len(robot.webhook_messages) == n  # each alert once, across ticks


def test_a_failed_run_posts_its_step_and_error(robot, monkeypatch):
    from orchestration.defs.automation import run_failure_to_wecom
    from orchestration.resources import wecom_robot

    @dg.op
    def load_u8():
        raise RuntimeError("cannot open U8 database mssql+pyodbc://etl:***@u8/UFDATA_001_2026")

    @dg.job
    def nightly():
        load_u8()

    instance = dg.DagsterInstance.ephemeral()
    result = nightly.execute_in_process(instance=instance, raise_on_error=False)
    assert not result.success
    failure = result.get_run_failure_event()

    def failure_context():
        return dg.build_run_status_sensor_context(
            sensor_name="run_failure_to_wecom",
            dagster_event=failure,
            dagster_instance=instance,
            dagster_run=result.dagster_run,
            resources={"wecom_robot": wecom_robot()},
        ).for_run_failure()

    monkeypatch.delenv("SALESOPS_WECOM_WEBHOOK", raising=False)
    assert "SALESOPS_WECOM_WEBHOOK" in run_failure_to_wecom(failure_context()).skip_message
    monkeypatch.setenv("SALESOPS_WECOM_WEBHOOK", robot.url)
    run_failure_to_wecom(failure_context())
    (message,) = robot.webhook_messages
    text = message["text"]["content"]
    assert "nightly" in text and "load_u8" in text and "cannot open U8 database" in text
    assert result.run_id[:8] in text
