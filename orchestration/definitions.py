"""The only Definitions object: merges ``orchestration/defs/*`` and binds the resources."""

import dagster as dg

from orchestration.defs import automation, bi, ingest, quality, transform
from orchestration.eventlog import relax_run_event_files
from orchestration.resources import build_resources

# every process that executes runs imports this module: the CLI runner, Dagster's run workers
relax_run_event_files()

defs = dg.Definitions.merge(
    ingest.defs,
    transform.defs,
    quality.defs,
    bi.defs,
    automation.defs,
    dg.Definitions(resources=build_resources()),
)
