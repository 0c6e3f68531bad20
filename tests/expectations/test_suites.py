"""The Great Expectations suites: each passes on clean data and fails on data with its anomaly;
a second org with other anomaly rates scores like the demo; freshness, volume and Data Docs."""

from __future__ import annotations

import shutil
from datetime import timedelta

import duckdb

from devkit.demo.scoring import score_findings
from devkit.demo.scoring import table as score_table
from expectations import runner
from salesops import config as salesops_config

ROW_SUITES = ("activities", "leads", "stage_history", "won_deals")


def _by_rule(summary: runner.ValidationSummary) -> dict[str, runner.ExpectationOutcome]:
    return {o.rule: o for o in summary.outcomes if o.rule}


def test_every_suite_passes_on_a_clean_org(clean_org_run):
    run = clean_org_run
    assert run.outcome.success, run.outcome.errors
    assert run.outcome.failed_checks == [] and run.outcome.warned_checks == []
    con = duckdb.connect(str(run.config.warehouse), read_only=True)
    assert con.execute("select count(*) from marts.dq_findings").fetchone()[0] == 0
    con.close()
    summaries = {
        s.suite: s for s in runner.validate_all(run.config.warehouse, as_of=run.config.as_of)
    }
    for summary in summaries.values():
        assert summary.success, (summary.suite, summary.lines())
        assert summary.evaluated > 0
    # and the clean org really has what the rules look at
    assert summaries["activities"].rows > 200 and summaries["stage_history"].rows > 20


def test_every_rule_fails_its_suite_on_an_org_with_anomalies(second_org_run):
    run = second_org_run
    assert run.outcome.success, run.outcome.errors
    con = duckdb.connect(str(run.config.warehouse), read_only=True)
    found = dict(
        con.execute(
            "select rule, count(distinct record_id) from marts.dq_findings group by 1"
        ).fetchall()
    )
    con.close()
    summaries = {s.suite: s for s in runner.validate_all(run.config.warehouse, run.config.as_of)}
    checked = set()
    for name in ROW_SUITES:
        module = runner.suite_module(name)
        outcomes = _by_rule(summaries[name])
        for rule in module.RULES:
            outcome = outcomes[rule]
            assert not outcome.success, (name, rule)
            assert outcome.unexpected_count == found[rule], (name, rule)
            assert outcome.records, (name, rule)
            checked.add(rule)
    assert len(checked) == 11
    # the checks of the records' own columns against the findings hold on anomalous data
    agreeing = ("(mart agrees)", "(all flagged)", "(only short)")
    agreement = [
        o for n in ROW_SUITES for o in summaries[n].outcomes if (o.rule or "").endswith(agreeing)
    ]
    assert len(agreement) == 5 and all(o.success for o in agreement), agreement
    # and the run went on: findings warn, they do not fail the run
    assert run.outcome.failed_checks == []
    assert {c.split(":")[1] for c in run.outcome.warned_checks} == {f"gx_{n}" for n in ROW_SUITES}


def test_a_second_org_with_other_rates_scores_like_the_demo(second_org_run):
    run = second_org_run
    scores = score_findings(run.config.warehouse, run.sources / "truth")
    print("\nseed 11, anomaly_rate 2.0\n" + score_table(scores))
    assert len([s for s in scores if s.planted]) == 11
    for s in scores:
        assert s.recall >= 0.95, s
        assert s.precision >= 0.90, s


def test_the_agreement_checks_fail_where_a_mart_and_the_findings_disagree(clean_org_run, tmp_path):
    """A skip the stage history shows but no finding flags, and a visit under the threshold
    no finding flags: each fails its check (the findings alone would pass)."""
    wh = _copy(clean_org_run, tmp_path)
    con = duckdb.connect(str(wh))
    con.execute(
        "update marts.fct_stage_history set skipped_from = 'lead_confirmed' "
        "where stage_entry_id = (select min(stage_entry_id) from marts.fct_stage_history)"
    )
    con.execute(
        "update raw_crm.events set end_date_time = start_date_time + interval 5 second "
        "where id = (select min(id) from raw_crm.events "
        "where type = '拜访' and not coalesce(is_deleted, false))"
    )
    con.close()
    stages = _by_rule(runner.validate("stage_history", wh))
    assert stages["stage_skip (mart agrees)"].unexpected_count == 1
    assert stages["stage_skip"].success
    activities = _by_rule(runner.validate("activities", wh))
    assert activities["short_visit (all flagged)"].unexpected_count == 1
    assert activities["short_visit"].success and activities["short_visit (only short)"].success


def _copy(run, tmp_path):
    wh = tmp_path / "w.duckdb"
    shutil.copy(run.config.warehouse, wh)
    return wh


def test_freshness_fails_a_source_not_loaded_for_longer_than_its_limit(clean_org_run, tmp_path):
    wh = _copy(clean_org_run, tmp_path)
    fresh = runner.validate("source_freshness", wh)
    assert fresh.success and fresh.rows == 4
    # GX and the freshness mart read each source's limit from the one settings sheet
    from expectations.suites import source_freshness

    con = duckdb.connect(str(wh), read_only=True)
    gx_limits = source_freshness.frame(con, runner.settings(con), None)
    marts = dict(
        con.execute("select source_name, max_hours from marts.rpt_source_freshness").fetchall()
    )
    con.close()
    gx = dict(zip(gx_limits["record_id"], gx_limits["max_age_hours"], strict=True))
    assert gx == {source: marts[source] for source in gx}
    assert marts["u8"] == 24 and marts["crm"] == 26
    con = duckdb.connect(str(wh))
    con.execute("update raw_u8._dlt_loads set inserted_at = inserted_at - interval 30 hour")
    con.close()
    stale = runner.validate("source_freshness", wh)
    assert not stale.success
    assert _by_rule(stale)["stale_source"].unexpected_count == 1
    assert not runner.validate("u8_freshness", wh).success
    con = duckdb.connect(str(wh))
    con.execute("update raw_u8._dlt_loads set inserted_at = inserted_at + interval 10 hour")
    con.close()
    # 20 hours old: within both limits
    assert runner.validate("u8_freshness", wh).success


def test_volume_fails_a_table_that_lost_more_than_its_limit(clean_org_run, tmp_path):
    wh = _copy(clean_org_run, tmp_path)
    ok = runner.validate("source_volume", wh)
    assert ok.success and ok.rows > 10  # first day: nothing to compare with
    con = duckdb.connect(str(wh))
    latest = con.execute(
        "select table_name, row_count, observed_at from ops.table_volumes "
        "where table_name = 'raw_crm.tasks' order by observed_at desc limit 1"
    ).fetchone()
    day, minute = timedelta(days=1), timedelta(minutes=1)
    con.execute(
        "insert into ops.table_volumes values (?, 'crm', ?, ?)",
        [latest[2] - day - 2 * minute, latest[0], int(latest[1] / 0.9)],  # 11% more: fine
    )
    con.close()
    assert runner.validate("source_volume", wh).success
    con = duckdb.connect(str(wh))
    con.execute(
        "insert into ops.table_volumes values (?, 'crm', ?, ?)",
        [latest[2] - day - minute, latest[0], int(latest[1] / 0.8)],  # later: 25% more
    )
    con.close()
    dropped = runner.validate("source_volume", wh)
    assert not dropped.success
    assert _by_rule(dropped)["volume_drop"].records == ["raw_crm.tasks"]


def test_each_run_writes_data_docs(clean_org_run):
    index = runner.docs_index(clean_org_run.config.work_dir / "data_docs")
    assert index.is_file()
    html = index.read_text(encoding="utf-8")
    for name in runner.suite_names():
        assert name in html, name


def test_stale_u8_keeps_the_bi_file_from_publishing(clean_org_run, tmp_path):
    """U8 older than its limit fails a blocking check on the forecast mart: the BI file is not
    rewritten (the site keeps its last good build)."""
    import yaml

    from orchestration import runner as job

    run = clean_org_run
    data = yaml.safe_load(run.config_path.read_text(encoding="utf-8"))
    data["warehouse"]["path"] = str(_copy(run, tmp_path))
    data["warehouse"]["bi_path"] = str(tmp_path / "bi.duckdb")
    data["sources"] = {"sheets": data["sources"]["sheets"]}
    sheets = tmp_path / "sheets"
    shutil.copytree(data["sources"]["sheets"]["dir"], sheets)
    data["sources"]["sheets"]["dir"] = str(sheets)
    from openpyxl import load_workbook

    book = load_workbook(sheets / "settings.xlsx")
    for row in book.worksheets[0].iter_rows(min_row=2):
        if row[0].value == "freshness_max_hours_u8":
            row[1].value = "0"
    book.save(sheets / "settings.xlsx")
    path = tmp_path / "salesops.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    outcome = job.run(path, echo=lambda _m: None)
    assert "rpt_forecast_vs_actual:gx_u8_freshness" in outcome.failed_checks
    assert "warehouse_bi" not in outcome.steps and "bi_site" not in outcome.steps
    assert not (tmp_path / "bi.duckdb").exists()


def test_the_lead_response_suite_fails_on_an_impossible_response(clean_org_run, tmp_path):
    wh = _copy(clean_org_run, tmp_path)
    assert runner.validate("fct_lead_response", wh).success
    con = duckdb.connect(str(wh))
    con.execute(
        "update marts.fct_lead_response set first_touch_at = created_at - interval 1 hour, "
        "response_band = 'fast' "
        "where lead_id = (select min(lead_id) from marts.fct_lead_response)"
    )
    con.close()
    summary = runner.validate("fct_lead_response", wh)
    failed = {o.expectation for o in summary.failures()}
    assert failed == {
        "expect_column_pair_values_a_to_be_greater_than_b",
        "expect_column_values_to_be_in_set",
    }


def test_the_row_checks_read_what_changed_and_every_flagged_record(demo_run):
    """Narrowed to what changed since the last check, the row suites read fewer records and
    report the very findings a check over all history does."""
    from datetime import UTC, datetime

    wh, as_of = demo_run.config.warehouse, demo_run.config.as_of
    full = {s.suite: s for s in runner.validate_all(wh, as_of, names=list(ROW_SUITES))}
    # the demo's records all changed before its as-of day, weeks ago: only flagged ones remain
    recent = runner.validate_all(wh, as_of, names=list(ROW_SUITES), changed_after=datetime.now(UTC))
    flagged = 0
    for summary in recent:
        whole = full[summary.suite]
        assert summary.rows < whole.rows, summary.suite
        module = runner.suite_module(summary.suite)
        for rule in module.RULES:
            got, want = _by_rule(summary)[rule], _by_rule(whole)[rule]
            assert got.unexpected_count == want.unexpected_count, (summary.suite, rule)
            flagged += want.unexpected_count or 0
    assert flagged > 0


def test_all_history_is_checked_weekly_on_a_full_refresh_and_the_first_time(tmp_path):
    from datetime import UTC, datetime, timedelta

    from orchestration.defs.quality import changed_after

    cfg = salesops_config.from_dict({"warehouse": {"path": "w.duckdb"}}, tmp_path)
    assert cfg.checks_full_every_days == 7
    now = datetime(2026, 11, 20, 8, tzinfo=UTC)
    day = timedelta(days=1)
    state = {
        "activities": {"checked_at": now - day, "full_at": now - 3 * day},
        "leads": {"checked_at": now - 2 * day, "full_at": now - 2 * day},
    }
    assert changed_after(cfg, state, ["activities", "leads"], now, full=False) == now - 2 * day
    assert changed_after(cfg, state, ["activities", "leads"], now, full=True) is None
    assert changed_after(cfg, state, ["activities", "won_deals"], now, full=False) is None
    state["leads"]["full_at"] = now - 7 * day
    assert changed_after(cfg, state, ["leads"], now, full=False) is None


def test_a_suites_frame_is_indexed_by_its_record_ids_and_names_the_same_records(second_org_run):
    """GX takes an unexpected row's record id from the frame's index; the outcomes are those
    of the same frame without it, and of the same rows in another order. A frame whose ids
    repeat keeps the default index, and its uniqueness expectation names the repeated
    records."""
    import pandas as pd

    run = second_org_run
    con = duckdb.connect(str(run.config.warehouse), read_only=True)
    try:
        module = runner.suite_module("activities")
        limits = runner.settings(con)
        df = runner.frame(con, module, run.config.as_of, limits)
    finally:
        con.close()
    assert df.index.name == "record_id" and list(df.index) == list(df["record_id"])
    suite = module.build_suite(limits)

    def outcomes(frame: pd.DataFrame) -> list[tuple]:
        summary = runner._summary(
            "activities", module, len(frame), runner.validate_frame(suite, frame)
        )
        return [
            (o.expectation, o.column, o.success, o.unexpected_count, o.sample, o.records)
            for o in summary.outcomes
        ]

    plain = df.reset_index(drop=True)
    indexed = outcomes(df)
    assert indexed == outcomes(plain)
    # in whatever order the query gave the rows, the same records are named
    shuffled = plain.sample(frac=1.0, random_state=7).reset_index(drop=True)
    assert list(shuffled["record_id"]) != list(plain["record_id"])
    assert outcomes(runner.by_record(shuffled)) == indexed
    assert sum(bool(o[-1]) for o in indexed) >= 5  # records named for the flagged rules
    twice = pd.concat([plain, plain.head(3)], ignore_index=True)
    assert runner.by_record(twice).index.name is None
    (unique,) = [o for o in outcomes(twice) if o[0] == "expect_column_values_to_be_unique"]
    assert not unique[2] and unique[3] == 6
    assert set(unique[5]) == set(plain["record_id"].head(3))
