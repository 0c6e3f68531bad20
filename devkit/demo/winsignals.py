"""Deal behaviour that predicts winning beyond the stage: a customer trial (试用) logged on the
opportunity while it is open, much more often on deals that end won than on deals that end lost.

Drawn from its own random stream after the org is simulated, so every other draw (and with it
every other record and truth file) stays as it was. The trial is a CRM task whose description
carries the effective-action keyword 试用 (action type ``trial``); truth/win_signals.csv
records, per opportunity, its outcome and whether and when a trial was planted.
"""

from __future__ import annotations

import csv
import random
from datetime import datetime, time
from pathlib import Path
from typing import Any

from devkit.demo.crm_rows import completed_task
from devkit.demo.org import Org, sf_id

# P(trial) by the deal's outcome at the org's end
TRIAL_RATE = {"won": 0.7, "lost": 0.12, "open": 0.4}
TRIAL_TEXTS = (
    "客户试用环境已开通，约定两周评估标准",
    "安排客户关键用户试用，收集试用反馈",
    "试用期中期回顾，客户确认核心场景可用",
)
_ID_BASE = 60_000_000  # task ids far above the simulator's own counters
WON_STAGES = ("contract_signed", "delivered_paid")


def plant(org: Org) -> list[dict[str, Any]]:
    """Add the trial tasks to ``org.crm['Task']``; return one truth row per opportunity."""
    rng = random.Random(f"{org.seed}-win-signals")
    stages: dict[str, list[dict[str, Any]]] = {}
    for s in org.truth_stages:
        stages.setdefault(s["opportunity_id"], []).append(s)
    contacts = {c["AccountId"]: c["Id"] for c in org.crm.get("Contact", [])}
    truth = []
    for i, opp in enumerate(org.crm.get("Opportunity", [])):
        rows = stages.get(opp["Id"], [])
        names = {s["stage"] for s in rows}
        if names & set(WON_STAGES):
            outcome = "won"
            closed = min(s["entered_at"] for s in rows if s["stage"] in WON_STAGES)
        elif "lost" in names:
            outcome = "lost"
            closed = min(s["entered_at"] for s in rows if s["stage"] == "lost")
        else:
            outcome, closed = "open", org.end
        created = opp["CreatedDate"]
        roll, share = rng.random(), rng.uniform(0.1, 0.5)
        trial_at = None
        if roll < TRIAL_RATE[outcome] and closed > created:
            at = created + (closed - created) * share
            trial_at = datetime.combine(at.date(), time(10 + int(share * 10), 30))
            if not created < trial_at < closed:
                trial_at = None
        if trial_at is not None:
            org.crm["Task"].append(_task(i, opp, contacts.get(opp["AccountId"]), trial_at, rng))
        truth.append(
            {
                "opportunity_id": opp["Id"],
                "outcome": outcome,
                "has_trial": trial_at is not None,
                "trial_at": trial_at,
            }
        )
    return truth


def _task(
    i: int, opp: dict[str, Any], who: str | None, at: datetime, rng: random.Random
) -> dict[str, Any]:
    return completed_task(
        sf_id("00T", _ID_BASE + i),
        who,
        opp["Id"],
        opp["OwnerId"],
        "客户试用",
        rng.choice(TRIAL_TEXTS),
        at,
    )


def write_truth(rows: list[dict[str, Any]], out: Path) -> int:
    """truth/win_signals.csv; returns the number of planted trials."""
    out.mkdir(parents=True, exist_ok=True)
    with (out / "win_signals.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["opportunity_id", "outcome", "has_trial", "trial_at"])
        for r in rows:
            at = r["trial_at"]
            w.writerow(
                [r["opportunity_id"], r["outcome"], r["has_trial"], at.isoformat() if at else ""]
            )
    return sum(r["has_trial"] for r in rows)
