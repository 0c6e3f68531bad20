"""Chat-risk signals recover the risky words the demo org planted before its losses, on the CRM's
notes alone and with WeCom's archive, without flagging the look-alikes; each carries the
dictionary's level and suggested response, and the high-risk ones on open deals raise alerts."""

from __future__ import annotations

import csv

import duckdb
import pytest

from devkit.demo.scoring import score_chat_risk
from tests.support.warehouse import query_file, values

pytestmark = pytest.mark.slow


def _lookalikes(truth_dir, source: str) -> set[str]:
    with (truth_dir / "chat_risk.csv").open(encoding="utf-8") as fh:
        return {
            r["record_id"]
            for r in csv.DictReader(fh)
            if r["origin"] == "lookalike" and r["text_source"] == source
        }


def _flagged(warehouse, source: str) -> set[str]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        query = "select distinct text_id from marts.rpt_chat_risk_signals where text_source = ?"
        return {i for (i,) in con.execute(query, [source]).fetchall()}
    finally:
        con.close()


def test_planted_risky_notes_are_found_without_wecom(demo_run):
    warehouse, truth = demo_run.config.warehouse, demo_run.sources / "truth"
    score = score_chat_risk(warehouse, truth)
    print(f"CRM notes only: {score}, recall {score.recall:.1%}, precision {score.precision:.1%}")
    assert score.planted >= 50
    assert score.recall >= 0.9 and score.precision >= 0.8
    assert _flagged(warehouse, "wecom") == set()
    # a competitor without a price, 可能 weeks away from any stage change: no signal
    lookalikes = _lookalikes(truth, "crm_note")
    assert len(lookalikes) >= 10
    assert lookalikes & _flagged(warehouse, "crm_note") == set()


def test_planted_risky_messages_are_found_with_wecom(demo_run_with_wecom):
    warehouse = demo_run_with_wecom.config.warehouse
    truth = demo_run_with_wecom.sources / "truth"
    score = score_chat_risk(warehouse, truth)
    print(f"WeCom + CRM: {score}, recall {score.recall:.1%}, precision {score.precision:.1%}")
    assert score.recall >= 0.9 and score.precision >= 0.8
    flagged = _flagged(warehouse, "wecom")
    assert len(flagged) >= 100
    lookalikes = _lookalikes(truth, "wecom")
    assert len(lookalikes) >= 10 and lookalikes & flagged == set()
    kinds = query_file(warehouse, "select distinct signal_kind from marts.rpt_chat_risk_signals")
    assert {k for (k,) in kinds} == {"competitor_price", "vague_commitment", "risk_word"}


def test_each_signal_carries_the_dictionarys_level_and_response(demo_run_with_wecom):
    found = values(
        demo_run_with_wecom.config.warehouse,
        mismatched="select count(*) from marts.rpt_chat_risk_signals s "
        "join staging.stg_sheets__risk_words w on s.keyword = w.keyword "
        "where s.signal_kind <> 'competitor_price' and (s.risk_level <> w.risk_level "
        "or s.suggested_action <> w.suggested_action or s.risk_type <> w.risk_type)",
        unknown="select count(*) from marts.rpt_chat_risk_signals s "
        "where signal_kind <> 'competitor_price' "
        "and keyword not in (select keyword from staging.stg_sheets__risk_words)",
        # a low word (报价) alone is no signal; a vague word only near a stage advance
        low="select count(*) from marts.rpt_chat_risk_signals where risk_level = 'low'",
        vague_far="select count(*) from marts.rpt_chat_risk_signals s where signal_kind = "
        "'vague_commitment' and not exists (select 1 from marts.fct_stage_history h "
        "where h.opportunity_id = s.opportunity_id and h.stage not in ('lead_confirmed', 'lost') "
        "and abs(epoch(h.entered_at) - epoch(s.said_at)) <= 7 * 86400)",
    )
    assert found == {"mismatched": 0, "unknown": 0, "low": 0, "vague_far": 0}


def test_high_risk_signals_on_open_deals_raise_alerts(demo_run_with_wecom):
    """A chat_risk alert for every open deal with a high-risk signal (competitor + price aside,
    it has its own alert) within the alert lookback, and for no other deal."""
    con = duckdb.connect(str(demo_run_with_wecom.config.warehouse), read_only=True)
    expected = {
        o for (o,) in con.execute(
            "select distinct s.opportunity_id from marts.rpt_chat_risk_signals s "
            "join marts.rpt_open_opportunities o using (opportunity_id) "
            "where s.risk_level = 'high' and s.signal_kind <> 'competitor_price' "
            "and s.said_local >= date '2026-11-20' - interval 13 day"
        ).fetchall()
    }  # fmt: skip
    alerted = {
        e for (e,) in con.execute(
            "select entity_id from marts.alerts where alert_type = 'chat_risk'"
        ).fetchall()
    }  # fmt: skip
    messages = con.execute(
        "select message from marts.alerts where alert_type = 'chat_risk'"
    ).fetchall()
    con.close()
    assert alerted == expected and len(alerted) > 0
    assert all("建议" in m for (m,) in messages)
