"""Winning behaviours and win paths on the demo org, scored against what the generator planted
(truth/win_behaviors.csv, truth/win_path.csv)."""

from __future__ import annotations

import csv
import math

import duckdb
import pytest

pytestmark = pytest.mark.slow
Z = 1.959964


def _truth(demo_run, name: str) -> list[dict[str, str]]:
    with (demo_run.sources / "truth" / name).open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _rows(demo_run, sql: str, params=()) -> list[dict]:
    con = duckdb.connect(str(demo_run.config.warehouse), read_only=True)
    try:
        cur = con.execute(sql, list(params))
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    finally:
        con.close()


def _wilson(x: int, n: int) -> tuple[float, float]:
    p = x / n
    centre = (p + Z * Z / (2 * n)) / (1 + Z * Z / n)
    half = Z * math.sqrt(p * (1 - p) / n + Z * Z / (4 * n * n)) / (1 + Z * Z / n)
    return centre - half, centre + half


def test_lifts_have_the_planted_sign_and_hold_the_planted_value(demo_run):
    """Every planted behaviour: the same deals and wins as planted, the lift's sign planted,
    and the planted lift inside the lift's interval."""
    planted = _truth(demo_run, "win_behaviors.csv")
    assert len(planted) >= 4
    sql = "select * from marts.rpt_behavior_conversion where region = '全部'"
    found = {r["behavior"]: r for r in _rows(demo_run, sql)}
    signs = set()
    for truth in planted:
        row = found[truth["behavior"]]
        assert (row["deals"], row["deals_with"], row["won_with"], row["won_without"]) == (
            int(truth["deals"]),
            int(truth["deals_with"]),
            int(truth["won_with"]),
            int(truth["won_without"]),
        ), truth["behavior"]
        lift = float(truth["planted_lift"])
        assert (row["lift"] > 0) == (truth["planted_sign"] == "+"), (truth, row)
        assert row["lift_low"] <= lift <= row["lift_high"], (truth, row)
        signs.add(truth["planted_sign"])
    assert signs == {"+", "-"}  # behaviours that raise and that lower the win rate


def test_win_rates_carry_their_wilson_intervals_and_small_groups_are_flagged(demo_run):
    rows = _rows(demo_run, "select * from marts.rpt_behavior_conversion")
    assert {r["region"] for r in rows} >= {"全部", "华东"}
    for r in rows:
        for side in ("with", "without"):
            n, x = r[f"deals_{side}"], r[f"won_{side}"]
            if n == 0:
                assert r[f"win_rate_{side}"] is None
                continue
            low, high = _wilson(x, n)
            assert r[f"win_rate_{side}"] == pytest.approx(x / n)
            assert r[f"win_rate_{side}_low"] == pytest.approx(low)
            assert r[f"win_rate_{side}_high"] == pytest.approx(high)
        assert r["is_small_sample"] == (min(r["deals_with"], r["deals_without"]) < r["min_deals"])
    # a region's groups are smaller than the org's: some are flagged, the org's large ones not
    assert any(r["is_small_sample"] for r in rows if r["region"] != "全部")
    assert not all(r["is_small_sample"] for r in rows if r["region"] == "全部")


def test_the_planted_path_is_the_most_common_winning_path_of_its_industry(demo_run):
    steps = _truth(demo_run, "win_path.csv")
    industry = steps[0]["industry"]
    planted = " → ".join(s["step"] for s in sorted(steps, key=lambda s: int(s["position"])))
    top = _rows(
        demo_run,
        "select * from marts.rpt_win_paths where region = '全部' and industry = ? "
        "and size_band = '全部' and row_kind = 'path' order by path_rank",
        [industry],
    )
    assert top[0]["step_path"] == planted
    assert top[0]["deals"] > (top[1]["deals"] if len(top) > 1 else 0)
    assert "（第" in top[0]["path_timing"] and top[0]["step_count"] == len(steps)
    # elsewhere no industry's top path holds the plant visit, which only that industry has
    others = _rows(
        demo_run,
        "select step_path from marts.rpt_win_paths where region = '全部' and industry <> ? "
        "and size_band = '全部' and row_kind = 'path' and path_rank = 1",
        [industry],
    )
    assert others and all("样板参观" not in r["step_path"] for r in others)


def test_every_lost_deal_leaves_the_top_path_once(demo_run):
    """Per group, the lost-exit rows count each lost deal of the group exactly once, and each
    names a step of the group's most common winning path."""
    lost = _rows(
        demo_run,
        "select a.industry, count(*) as lost from staging.stg_crm__opportunities o "
        "join staging.stg_crm__accounts a using (account_id) "
        "where o.is_closed and not o.is_won and not o.is_deleted group by 1",
    )
    exits = _rows(
        demo_run,
        "select industry, sum(deals) as deals, max(group_deals) as group_deals, "
        "count(distinct group_deals) as totals, "
        "bool_and(row_kind = 'lost_exit' and (strpos(step_path, left_at_step) > 0 "
        "or left_at_step = '走完路径仍输单')) as on_path "
        "from marts.rpt_win_paths where region = '全部' and size_band = '全部' "
        "and row_kind = 'lost_exit' group by 1",
    )
    by_industry = {r["industry"]: r for r in exits}
    assert by_industry
    for r in lost:
        if r["industry"] not in by_industry:
            continue  # an industry without a won deal has no path to leave
        e = by_industry[r["industry"]]
        assert e["deals"] == e["group_deals"] == r["lost"], r
        assert e["totals"] == 1 and e["on_path"], e
