"""Extract and load: one dlt source per system (``ingest/<src>/``), landing in ``raw_<src>``.

dlt reads its settings from ``ingest/.dlt`` (``config.toml``, and the git-ignored
``secrets.toml``) wherever a run starts from: ``DLT_PROJECT_DIR`` points here unless it is
set already. (dlt's default is the working directory's ``.dlt``: a run started from the
repository's root would miss the secrets the README says to put in ``ingest/.dlt``.)
"""

import os
import sys
from pathlib import Path

os.environ.setdefault("DLT_PROJECT_DIR", str(Path(__file__).resolve().parent))

if "dlt" in sys.modules:
    # dlt may have read its settings already, from the working directory: read them again
    from dlt.common.configuration.container import Container
    from dlt.common.configuration.specs.pluggable_run_context import PluggableRunContext

    if PluggableRunContext in Container():
        Container()[PluggableRunContext].reload_providers()
