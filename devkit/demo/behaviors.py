"""Winning behaviours planted in a simulated org, and the truth they leave.

After the deals are simulated, each closed opportunity gets, from its own random stream (so
every other draw of the org stays as it was), CRM files and tasks whose presence depends on
how the deal ended: a competitor comparison sent before the quote, a custom case sent within
48 hours of the demo, a white paper after the quote (its absence — nothing sent after the
quote — lowers the win rate) and, in one industry, a visit to a reference plant. In
``PATH_INDUSTRY`` won deals follow one sequence far more often than elsewhere: the winning
path the win-path mart should show as the most common there.

The behaviours are defined as the default win-behaviour sheet
(``ingest/sheets/defaults/win_behaviors.csv``) defines them; the truth records, per
behaviour, the planted lift (win rate with the behaviour minus without, as the planting
probabilities make it expected) and what the org realised.
"""

from __future__ import annotations

import csv
import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from devkit.demo.crm_rows import completed_task

PATH_INDUSTRY = "制造业"


@dataclass(frozen=True)
class Planted:
    behavior: str  # as named in the win-behaviour sheet
    title: str  # what the CRM record says (a file's title or a task's description)
    kind: str  # "file" | "task"
    p_won: float  # chance a won deal carries the evidence
    p_lost: float  # chance a lost deal carries it
    p_won_path: float  # the same in PATH_INDUSTRY
    p_lost_path: float
    absence: bool = False  # the behaviour is the evidence's absence


PLANTED = (
    Planted("发送竞品对比材料", "竞品对比表", "file", 0.55, 0.20, 0.92, 0.25),
    Planted("演示后48小时内发送定制案例", "定制案例", "file", 0.60, 0.25, 0.92, 0.25),
    Planted("报价后未再发送资料", "产品白皮书", "file", 0.70, 0.30, 0.92, 0.30, absence=True),
    Planted("安排样板参观", "客户到样板工厂参观", "task", 0.0, 0.0, 0.90, 0.20),
)
# the planted winning path of PATH_INDUSTRY, as the win-path mart names its steps
PATH_STEPS = ("需求确认", "竞品对比材料", "方案演示", "定制案例", "样板参观", "商务谈判",
              "白皮书", "合同签署")  # fmt: skip


@dataclass
class Deal:
    opportunity_id: str
    account_id: str
    contact_id: str | None
    owner_id: str
    industry: str
    is_won: bool
    created_at: datetime
    closed_at: datetime
    stages: dict[str, datetime]  # canonical stage -> entered


def closed_deals(org: Any) -> list[Deal]:
    """The org's closed opportunities (won: entered contract_signed; lost: entered lost)."""
    entries: dict[str, dict[str, datetime]] = defaultdict(dict)
    for st in org.truth_stages:
        entries[st["opportunity_id"]].setdefault(st["stage"], st["entered_at"])
    industry = {a["Id"]: a["Industry"] for a in org.crm["Account"]}
    contact = {}
    for c in org.crm["Contact"]:
        contact.setdefault(c["AccountId"], c["Id"])
    deals = []
    for opp in org.crm["Opportunity"]:
        if opp["IsDeleted"] or not opp.get("IsClosed"):
            continue
        stages = entries.get(opp["Id"], {})
        closed = stages.get("contract_signed") if opp["IsWon"] else stages.get("lost")
        if closed is None:
            continue
        deals.append(
            Deal(
                opp["Id"], opp["AccountId"], contact.get(opp["AccountId"]), opp["OwnerId"],
                industry.get(opp["AccountId"], ""), bool(opp["IsWon"]), opp["CreatedDate"],
                closed, stages,
            )
        )  # fmt: skip
    return deals


def plant(sim: Any) -> list[dict[str, Any]]:
    """Add the planted files and tasks to ``sim.org``; return the per-deal truth rows."""
    org = sim.org
    rng = random.Random(f"{org.seed}-win-behaviors")
    rows = []
    for deal in closed_deals(org):
        in_path = deal.industry == PATH_INDUSTRY
        demo = deal.stages.get("solution_demo")
        quote = deal.stages.get("quote_negotiation")
        needs = deal.stages.get("needs_diagnosed")
        for p in PLANTED:
            chance = (
                (p.p_won_path if deal.is_won else p.p_lost_path)
                if in_path
                else (p.p_won if deal.is_won else p.p_lost)
            )
            draw = rng.random()
            # where the evidence goes (None: the deal never reached the behaviour's anchor)
            if p.title == "竞品对比表":
                lo = needs or deal.created_at
                hi = demo or quote or deal.closed_at
                eligible = True
            elif p.title == "定制案例":
                eligible = demo is not None
                lo = demo
                hi = min(x for x in (demo and demo + timedelta(hours=47), quote, deal.closed_at)
                         if x is not None) if demo else None  # fmt: skip
            elif p.title == "产品白皮书":
                eligible = quote is not None
                lo, hi = quote, deal.closed_at
            else:
                eligible = True
                lo = demo or needs or deal.created_at
                hi = quote or deal.closed_at
                if demo is not None and demo + timedelta(hours=48) < hi:
                    lo = demo + timedelta(hours=48)  # after the custom case
            if not eligible:
                continue
            present = draw < chance
            if present and lo is not None and hi is not None and hi > lo:
                at = lo + (hi - lo) * rng.uniform(0.2, 0.8)
                _record(sim, deal, p, at)
            elif present:
                present = False  # no room between the anchor and the close
                chance = 0.0
            has = (not present) if p.absence else present
            rows.append({
                "opportunity_id": deal.opportunity_id,
                "behavior": p.behavior,
                "industry": deal.industry,
                "is_won": deal.is_won,
                "has_behavior": has,
                "p_behavior": (1 - chance) if p.absence else chance,
            })  # fmt: skip
    return rows


def _record(sim: Any, deal: Deal, p: Planted, at: datetime) -> None:
    org = sim.org
    if p.kind == "file":
        org.crm["ContentVersion"].append({
            "Id": sim.next_id("068"),
            "Title": f"{p.title}-{deal.opportunity_id[-6:]}",
            "PathOnClient": f"{p.title}.pdf",
            "FileType": "PDF",
            "ContentSize": 200_000,
            "FirstPublishLocationId": deal.opportunity_id,
            "Evidence_Type__c": None,
            "OwnerId": deal.owner_id,
            "IsDeleted": False,
            "CreatedDate": at,
            "CreatedById": deal.owner_id,
            "SystemModstamp": at,
        })  # fmt: skip
        return
    org.crm["Task"].append(
        completed_task(
            sim.next_id("00T"),
            deal.contact_id,
            deal.opportunity_id,
            deal.owner_id,
            "拜访",
            p.title,
            at,
        )
    )


def lifts(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per behaviour: the planted lift (expected win rate with the behaviour minus without,
    from the planting probabilities: Σ_won p / Σ p − Σ_won (1−p) / Σ (1−p)) and the realised
    counts."""
    out = []
    for behavior in dict.fromkeys(r["behavior"] for r in rows):
        rs = [r for r in rows if r["behavior"] == behavior]
        exp_with = sum(r["p_behavior"] for r in rs)
        exp_without = sum(1 - r["p_behavior"] for r in rs)
        won_with = sum(r["p_behavior"] for r in rs if r["is_won"])
        won_without = sum(1 - r["p_behavior"] for r in rs if r["is_won"])
        rate_with = won_with / exp_with if exp_with else 0.0
        rate_without = won_without / exp_without if exp_without else 0.0
        has = [r for r in rs if r["has_behavior"]]
        out.append({
            "behavior": behavior,
            "planted_win_rate_with": round(rate_with, 6),
            "planted_win_rate_without": round(rate_without, 6),
            "planted_lift": round(rate_with - rate_without, 6),
            "planted_sign": "+" if rate_with > rate_without else "-",
            "deals": len(rs),
            "deals_with": len(has),
            "won_with": sum(r["is_won"] for r in has),
            "won_without": sum(r["is_won"] for r in rs if not r["has_behavior"]),
        })  # fmt: skip
    return out


def write_truth(rows: list[dict[str, Any]], out: Path) -> None:
    """``win_behaviors.csv`` (planted lift per behaviour) and ``win_path.csv`` (the planted
    winning path of PATH_INDUSTRY, one step a row)."""
    table = lifts(rows)
    with (out / "win_behaviors.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(table[0]) if table else ["behavior"],
                           lineterminator="\n")  # fmt: skip
        w.writeheader()
        w.writerows(table)
    with (out / "win_path.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["industry", "position", "step"])
        for i, step in enumerate(PATH_STEPS, start=1):
            w.writerow([PATH_INDUSTRY, i, step])
