"""Jobs, schedules and sensors.

Alerts reach the team's WeCom group robot, whose webhook URL (a secret: its key is the
credential) comes from ``SALESOPS_WECOM_WEBHOOK``; without it the sensors skip.
"""

import os

import dagster as dg

from orchestration.resources import SalesopsConfig
from salesops import alerts
from salesops.config import SOURCE_NAMES, Config

TIMEZONE = "Asia/Shanghai"
WEBHOOK_ENV = "SALESOPS_WECOM_WEBHOOK"


def configured_selection(cfg: Config) -> dg.AssetSelection:
    """Every asset except the ingestion of sources the configuration does not name."""
    selection = dg.AssetSelection.all()
    for src in SOURCE_NAMES:
        if not cfg.has(src):
            selection = selection - dg.AssetSelection.groups(f"ingest_{src}")
    return selection


refresh_all_job = dg.define_asset_job(
    "refresh_all_job",
    selection=dg.AssetSelection.all() - dg.AssetSelection.groups("report"),
    description="Load every configured source, build the models, run the checks, publish BI.",
)

# what `salesops run` / `salesops demo` execute in-process (a subset of it, per configuration)
salesops_run_job = dg.define_asset_job(
    "salesops_run_job",
    selection=dg.AssetSelection.all(),
    description="Everything, the morning report included (salesops run; sends only with a robot).",
)

refresh_all_job_schedule = dg.ScheduleDefinition(
    name="refresh_all_job_schedule",
    job=refresh_all_job,
    cron_schedule="0 6 * * *",
    execution_timezone=TIMEZONE,
)

u8_job = dg.define_asset_job(
    "u8_job",
    selection=dg.AssetSelection.groups("ingest_u8").downstream() - dg.AssetSelection.groups("bi"),
    description="Load U8's new and changed documents and rebuild the models that read them.",
)
u8_job_schedule = dg.ScheduleDefinition(
    name="u8_job_schedule",
    job=u8_job,
    cron_schedule="*/15 * * * *",
    execution_timezone=TIMEZONE,
)

bi_job = dg.define_asset_job(
    "bi_job",
    selection=dg.AssetSelection.groups("bi", "report"),
    description=(
        "Publish the BI file, rebuild the sites from the warehouse as it stands and send the "
        "morning report."
    ),
)
bi_job_schedule = dg.ScheduleDefinition(
    name="bi_job_schedule",
    job=bi_job,
    cron_schedule="0 8 * * *",
    execution_timezone=TIMEZONE,
)


def ledger_path(cfg: Config):
    return cfg.work_dir / "alerts_sent.sqlite"


@dg.sensor(
    name="alerts_to_wecom",
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Pushes new rows of the published alerts to the WeCom group robot: grouped per "
        "manager, markdown ≤ 4096 bytes, ≤ 20 messages a minute, each alert once."
    ),
)
def alerts_to_wecom(context: dg.SensorEvaluationContext, salesops: SalesopsConfig):
    webhook = os.environ.get(WEBHOOK_ENV)
    if not webhook:
        return dg.SkipReason(f"{WEBHOOK_ENV} is not set: no robot to send alerts to")
    cfg = salesops.load()
    if not cfg.bi_warehouse.exists():
        return dg.SkipReason(f"nothing published yet ({cfg.bi_warehouse} does not exist)")
    try:
        open_alerts = alerts.open_alerts(cfg.bi_warehouse)
    except Exception as exc:  # the file is being republished: next tick
        return dg.SkipReason(f"cannot read {cfg.bi_warehouse} now: {exc.__class__.__name__}")
    ledger = alerts.Ledger(ledger_path(cfg))
    try:
        done = alerts.dispatch_alerts(open_alerts, webhook, ledger)
    finally:
        ledger.close()
    message = (
        f"sent {done.alerts} alert(s) in {done.messages} message(s) to {len(set(done.groups))} "
        f"manager group(s); {done.pending} waiting for the rate limit"
    )
    context.log.info(message)
    return dg.SkipReason(message)  # sends, never launches runs


@dg.run_failure_sensor(
    name="run_failure_to_wecom",
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Posts a short message to the WeCom group robot when a run fails.",
)
def run_failure_to_wecom(context: dg.RunFailureSensorContext):
    webhook = os.environ.get(WEBHOOK_ENV)
    if not webhook:
        return dg.SkipReason(f"{WEBHOOK_ENV} is not set")
    failures = []
    for event in context.get_step_failure_events():
        error = event.event_specific_data.error if event.event_specific_data else None
        while error is not None and error.cause is not None:
            error = error.cause
        failures.append((event.step_key or "?", error.message if error else ""))
    if not failures:
        failures = [("run", context.failure_event.message or "")]
    run = context.dagster_run
    alerts.send_wecom(
        webhook, alerts.failure_message(run.job_name, run.run_id, failures), msgtype="text"
    )
    return None


defs = dg.Definitions(
    jobs=[refresh_all_job, u8_job, bi_job, salesops_run_job],
    schedules=[refresh_all_job_schedule, u8_job_schedule, bi_job_schedule],
    sensors=[alerts_to_wecom, run_failure_to_wecom],
)
