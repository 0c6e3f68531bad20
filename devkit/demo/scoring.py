"""Score the warehouse's truthfulness findings against a demo org's planted anomalies."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import duckdb


@dataclass
class RuleScore:
    rule: str
    planted: int
    found: int
    matched: int

    @property
    def recall(self) -> float:
        return self.matched / self.planted if self.planted else 1.0

    @property
    def precision(self) -> float:
        return self.matched / self.found if self.found else 1.0


def score_findings(warehouse: Path, truth_dir: Path) -> list[RuleScore]:
    """Per rule: planted records (truth/anomalies.csv), findings (marts.dq_findings), overlap."""
    planted: dict[str, set[str]] = {}
    with (Path(truth_dir) / "anomalies.csv").open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            planted.setdefault(row["rule"], set()).add(row["record_id"])
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        found: dict[str, set[str]] = {}
        for rule, record_id in con.execute(
            "select rule, record_id from marts.dq_findings"
        ).fetchall():
            found.setdefault(rule, set()).add(record_id)
    finally:
        con.close()
    return [
        RuleScore(
            rule,
            len(planted.get(rule, ())),
            len(found.get(rule, ())),
            len(planted.get(rule, set()) & found.get(rule, set())),
        )
        for rule in sorted(set(planted) | set(found))
    ]


def table(scores: list[RuleScore]) -> str:
    lines = ["| rule | planted | found | recall | precision |", "|---|---|---|---|---|"]
    lines += [
        f"| {s.rule} | {s.planted} | {s.found} | {s.recall:.1%} | {s.precision:.1%} |"
        for s in scores
    ]
    return "\n".join(lines)


def score_chat_risk(warehouse: Path, truth_dir: Path) -> RuleScore:
    """Risky customer texts (truth/chat_risk.csv) the warehouse holds against the texts with a
    signal on the chat-risk page (marts.rpt_chat_risk_signals), by source and record id."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        held = {
            ("crm_note", i)
            for (i,) in con.execute(
                "select task_id from staging.stg_crm__tasks where not is_deleted"
            ).fetchall()
        }
        tables = {
            t
            for (t,) in con.execute(
                "select table_name from information_schema.tables where table_schema = 'staging'"
            ).fetchall()
        }
        if "stg_wecom__chat_messages" in tables:
            held |= {
                ("wecom", i)
                for (i,) in con.execute(
                    "select message_id from staging.stg_wecom__chat_messages"
                ).fetchall()
            }
        found = set(
            con.execute(
                "select distinct text_source, text_id from marts.rpt_chat_risk_signals"
            ).fetchall()
        )
    finally:
        con.close()
    with (Path(truth_dir) / "chat_risk.csv").open(encoding="utf-8") as fh:
        planted = {
            (row["text_source"], row["record_id"])
            for row in csv.DictReader(fh)
            if row["is_risky"] == "true"
        } & held
    return RuleScore("chat_risk", len(planted), len(found), len(planted & found))
