"""Jobs, schedules and sensors."""

import dagster as dg

from salesops.config import SOURCE_NAMES, Config

TIMEZONE = "Asia/Shanghai"


def configured_selection(cfg: Config) -> dg.AssetSelection:
    """Every asset except the ingestion of sources the configuration does not name."""
    selection = dg.AssetSelection.all()
    for src in SOURCE_NAMES:
        if not cfg.has(src):
            selection = selection - dg.AssetSelection.groups(f"ingest_{src}")
    return selection


refresh_all_job = dg.define_asset_job(
    "refresh_all_job",
    selection=dg.AssetSelection.all(),
    description="Load every configured source, build the models, run the checks, publish BI.",
)

refresh_all_job_schedule = dg.ScheduleDefinition(
    name="refresh_all_job_schedule",
    job=refresh_all_job,
    cron_schedule="0 6 * * *",
    execution_timezone=TIMEZONE,
)

defs = dg.Definitions(jobs=[refresh_all_job], schedules=[refresh_all_job_schedule])
