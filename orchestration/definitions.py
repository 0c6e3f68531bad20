"""The only Definitions object: merges ``orchestration/defs/*`` and binds the resources."""

import dagster as dg

from orchestration.defs import automation, bi, ingest, quality, transform
from orchestration.resources import build_resources

defs = dg.Definitions.merge(
    ingest.defs,
    transform.defs,
    quality.defs,
    bi.defs,
    automation.defs,
    dg.Definitions(resources=build_resources()),
)
