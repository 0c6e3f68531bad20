"""Jobs, schedules and sensors.

Alerts reach the team's WeCom group robot (the ``wecom_robot`` resource, its webhook URL from
``SALESOPS_WECOM_WEBHOOK``); without it the sensors skip.
"""

import dagster as dg

from orchestration.resources import SalesopsConfig, WeComRobot
from salesops import alerts
from salesops.config import SOURCE_NAMES, Config, business_timezone

TIMEZONE = business_timezone()


def configured_selection(
    cfg: Config, selection: dg.AssetSelection | None = None
) -> dg.AssetSelection:
    """``selection`` (every asset by default) without the ingestion of sources the
    configuration does not name: a company without WeCom or U8 still gets every model."""
    selection = dg.AssetSelection.all() if selection is None else selection
    for src in SOURCE_NAMES:
        if not cfg.has(src):
            selection = selection - dg.AssetSelection.groups(f"ingest_{src}")
    return selection


# The morning report (and with it the PDF to the robot) is built only by bi_job and by hand
# (`salesops run`): nothing downstream of the site belongs to a job that runs more often.
NOT_BI = dg.AssetSelection.groups("bi").downstream()

refresh_all_job = dg.define_asset_job(
    "refresh_all_job",
    selection=(dg.AssetSelection.all() - NOT_BI) | dg.AssetSelection.groups("bi"),
    description="Load every configured source, build the models, run the checks, publish BI.",
)

# what `salesops run` / `salesops demo` execute in-process (a subset of it, per configuration)
salesops_run_job = dg.define_asset_job(
    "salesops_run_job",
    selection=dg.AssetSelection.all(),
    description="Everything, the morning report included (salesops run; sends only with a robot).",
)

u8_job = dg.define_asset_job(
    "u8_job",
    selection=dg.AssetSelection.groups("ingest_u8").downstream() - NOT_BI,
    description="Load U8's new and changed documents and rebuild the models that read them.",
)

bi_job = dg.define_asset_job(
    "bi_job",
    selection=dg.AssetSelection.groups("bi", "report"),
    description=(
        "Publish the BI file, rebuild the sites from the warehouse as it stands and send the "
        "morning report."
    ),
)


def scheduled_run(context: dg.ScheduleEvaluationContext, job, cfg: Config) -> dg.RunRequest:
    """A run of ``job`` limited to the sources the run configuration names (its other assets
    and checks whole), so a company without WeCom or U8 gets a run that can succeed."""
    graph = context.repository_def.asset_graph
    selection = configured_selection(cfg, job.selection)
    return dg.RunRequest(
        asset_selection=sorted(selection.resolve(graph), key=str),
        asset_check_keys=sorted(selection.resolve_checks(graph), key=str),
    )


@dg.schedule(
    name="refresh_all_job_schedule",
    job=refresh_all_job,
    cron_schedule="0 6 * * *",
    execution_timezone=TIMEZONE,
)
def refresh_all_job_schedule(context: dg.ScheduleEvaluationContext, salesops: SalesopsConfig):
    return scheduled_run(context, refresh_all_job, salesops.load())


@dg.schedule(
    name="u8_job_schedule",
    job=u8_job,
    cron_schedule="*/15 * * * *",
    execution_timezone=TIMEZONE,
)
def u8_job_schedule(context: dg.ScheduleEvaluationContext, salesops: SalesopsConfig):
    cfg = salesops.load()
    if not cfg.has("u8"):
        return dg.SkipReason(f"U8 is not configured in {cfg.path}: nothing to refresh")
    return scheduled_run(context, u8_job, cfg)


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
def alerts_to_wecom(
    context: dg.SensorEvaluationContext, salesops: SalesopsConfig, wecom_robot: WeComRobot
):
    if wecom_robot.missing:
        return dg.SkipReason(f"{wecom_robot.missing}: no robot to send alerts to")
    cfg = salesops.load()
    if not cfg.bi_warehouse.exists():
        return dg.SkipReason(f"nothing published yet ({cfg.bi_warehouse} does not exist)")
    try:
        open_alerts = alerts.open_alerts(cfg.bi_warehouse)
    except Exception as exc:  # the file is being republished: next tick
        return dg.SkipReason(f"cannot read {cfg.bi_warehouse} now: {exc.__class__.__name__}")
    ledger = alerts.Ledger(ledger_path(cfg))
    try:
        done = alerts.dispatch_alerts(open_alerts, wecom_robot.webhook, ledger)
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
def run_failure_to_wecom(context: dg.RunFailureSensorContext, wecom_robot: WeComRobot):
    if wecom_robot.missing:
        return dg.SkipReason(wecom_robot.missing)
    failures = []
    for event in context.get_step_failure_events():
        error = event.step_failure_data.error
        while error is not None and error.cause is not None:
            error = error.cause
        failures.append((event.step_key or "?", error.message if error else ""))
    if not failures:
        failures = [("run", context.failure_event.message or "")]
    run = context.dagster_run
    wecom_robot.send(alerts.failure_message(run.job_name, run.run_id, failures), msgtype="text")
    return None


defs = dg.Definitions(
    jobs=[refresh_all_job, u8_job, bi_job, salesops_run_job],
    schedules=[refresh_all_job_schedule, u8_job_schedule, bi_job_schedule],
    sensors=[alerts_to_wecom, run_failure_to_wecom],
)
