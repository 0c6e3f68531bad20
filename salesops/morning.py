"""The morning report: one A4 page (the overview's KPIs, the funnel, the day's top alerts)
printed by headless Chromium from the BI file.

The figures come from the overview page's own queries (``bi_reports/pages/index.md``) run on
the page's own sources (``bi_reports/sources/warehouse/*.sql``), so the paper and the site
cannot disagree.
"""

from __future__ import annotations

import html
import re
import tempfile
from datetime import date
from pathlib import Path
from typing import Any

from salesops import bi

OVERVIEW = Path("pages") / "index.md"
SOURCES = Path("sources") / "warehouse"
# the overview's queries the paper shows
QUERIES = (
    "scope",
    "as_of",
    "pipeline_weeks",
    "forecast_month",
    "response_weeks",
    "phi_months",
    "open_alerts",
    "funnel",
)
TOP_ALERTS = 8
SEVERITY = {"escalate": "升级", "warning": "预警"}
_SQL_BLOCK = re.compile(r"^```sql (\w+)\n(.*?)^```", re.S | re.M)
_SOURCE_TABLE = re.compile(r"\bwarehouse\.(\w+)")


def page_queries(page: Path) -> dict[str, str]:
    """The named SQL blocks of an Evidence page."""
    return {name: sql for name, sql in _SQL_BLOCK.findall(page.read_text(encoding="utf-8"))}


def overview_figures(bi_file: Path, site_dir: Path = bi.SITE_DIR) -> dict[str, list[dict]]:
    """The overview page's query results on ``bi_file``, and the top open alerts."""
    import duckdb

    queries = page_queries(site_dir / OVERVIEW)
    missing = [q for q in QUERIES if q not in queries]
    if missing:
        raise bi.BiBuildError(f"{site_dir / OVERVIEW} has no query {', '.join(missing)}")
    wanted = {q: queries[q] for q in QUERIES}
    wanted["top_alerts"] = f"""
        select severity, alert_label, rep_name, manager_name, region, message, idle_days
        from warehouse.rpt_alerts
        order by case severity when 'escalate' then 0 when 'warning' then 1 else 2 end,
            idle_days desc nulls last, since, alert_id
        limit {TOP_ALERTS}"""
    tables = sorted({t for sql in wanted.values() for t in _SOURCE_TABLE.findall(sql)})
    source = duckdb.connect(str(bi_file), read_only=True)
    con = duckdb.connect()
    try:
        # the page's sources, as Evidence extracts them, under the name the page uses
        con.execute("create schema warehouse")
        for table in tables:
            sql_file = site_dir / SOURCES / f"{table}.sql"
            if not sql_file.is_file():
                raise bi.BiBuildError(f"the overview reads {table}, but {sql_file} is missing")
            extract = source.sql(sql_file.read_text(encoding="utf-8")).to_arrow_table()
            con.register("extract", extract)
            con.execute(f"create table warehouse.{table} as select * from extract")
            con.unregister("extract")
        out = {}
        for name, sql in wanted.items():
            rows = con.execute(sql)
            columns = [d[0] for d in rows.description]
            out[name] = [dict(zip(columns, r, strict=True)) for r in rows.fetchall()]
        return out
    finally:
        con.close()
        source.close()


# -- the page -------------------------------------------------------------------------------------
def _first(rows: list[dict], column: str) -> Any:
    return rows[0].get(column) if rows else None


def _fmt(value: Any, kind: str) -> str:
    """Evidence's formats of the overview's tiles; a missing figure shows as a dash."""
    if value is None:
        return "—"
    v = float(value)
    return {
        "wan": f"¥{v:,.0f}万",
        "pct0": f"{v:.0%}",
        "pct0+": f"{v:+.0%}",
        "num0": f"{v:,.0f}",
        "num1": f"{v:.1f}",
        "num1+": f"{v:+.1f}",
    }[kind]


def _tiles(f: dict[str, list[dict]]) -> list[tuple[str, str, str]]:
    """(title, value, comparison) of the overview's five tiles."""
    forecast, phi, alerts = f["forecast_month"], f["phi_months"], f["open_alerts"]
    return [
        ("在途商机金额", _fmt(_first(f["pipeline_weeks"], "open_wan"), "wan"), ""),
        (
            "本月加权预测",
            _fmt(_first(forecast, "forecast_wan"), "wan"),
            f"对比目标 {_fmt(_first(forecast, 'vs_target'), 'pct0+')}",
        ),
        ("24小时响应达标", _fmt(_first(f["response_weeks"], "sla"), "pct0"), "最近一周"),
        (
            "平均过程健康度",
            _fmt(_first(phi, "phi"), "num1"),
            f"较上月 {_fmt(_first(phi, 'change'), 'num1+')}",
        ),
        (
            "未处理预警",
            _fmt(_first(alerts, "alerts"), "num0"),
            f"已升级 {_fmt(_first(alerts, 'escalated'), 'num0')}",
        ),
    ]


CSS = """
@page { size: A4; margin: 14mm 14mm 12mm; }
* { box-sizing: border-box; }
body { margin: 0; color: #111827; font: 10.5pt/1.45 "Noto Sans CJK SC", "Noto Sans SC",
  "Source Han Sans SC", "Microsoft YaHei", sans-serif; }
header { display: flex; justify-content: space-between; align-items: baseline;
  border-bottom: 2px solid #1d4ed8; padding-bottom: 4mm; margin-bottom: 5mm; }
h1 { font-size: 18pt; margin: 0; letter-spacing: 0.05em; }
header .meta { color: #4b5563; font-size: 9.5pt; text-align: right; }
h2 { font-size: 12pt; margin: 6mm 0 3mm; padding-left: 2mm; border-left: 3px solid #1d4ed8; }
.tiles { display: grid; grid-template-columns: repeat(5, 1fr); gap: 3mm; }
.tile { border: 1px solid #e5e7eb; border-radius: 2mm; padding: 3mm; }
.tile .t { color: #4b5563; font-size: 9pt; }
.tile .v { font-size: 16pt; font-weight: 700; margin: 1mm 0; }
.tile .c { color: #6b7280; font-size: 8.5pt; }
.funnel .row { display: grid; grid-template-columns: 26mm 1fr 30mm; align-items: center;
  gap: 3mm; margin: 1.2mm 0; }
.funnel .bar { height: 6mm; background: #2563eb; border-radius: 1mm; }
.funnel .label { text-align: right; color: #374151; }
.funnel .n { color: #374151; font-size: 9pt; white-space: nowrap; }
table { width: 100%; border-collapse: collapse; table-layout: fixed; font-size: 9pt; }
th { text-align: left; color: #4b5563; font-weight: 600; border-bottom: 1px solid #d1d5db; }
th, td { padding: 1.4mm 1.5mm; }
td { border-bottom: 1px solid #f3f4f6; white-space: nowrap; overflow: hidden;
  text-overflow: ellipsis; }
.escalate { color: #c62828; font-weight: 700; }
.warning { color: #b45309; }
footer { margin-top: 6mm; color: #6b7280; font-size: 8.5pt; border-top: 1px solid #e5e7eb;
  padding-top: 2mm; }
"""


def render(figures: dict[str, list[dict]], day: date, site_url: str | None = None) -> str:
    """The report as one HTML page (A4 portrait)."""
    e = html.escape
    as_of = _first(figures["as_of"], "day_label") or f"{day:%Y年%m月%d日}"
    scope = _first(figures["scope"], "names") or "—"
    tiles = "".join(
        f'<div class="tile"><div class="t">{e(t)}</div><div class="v">{e(v)}</div>'
        f'<div class="c">{e(c)}</div></div>'
        for t, v, c in _tiles(figures)
    )
    stages = figures["funnel"]
    top = max((float(s["entered"] or 0) for s in stages), default=0.0)
    funnel = []
    for i, s in enumerate(stages):
        n = float(s["entered"] or 0)
        nxt = ""
        if i + 1 < len(stages):  # share of this stage's deals that entered the next one
            rate = float(stages[i + 1]["entered"] or 0) / n if n else None
            nxt = f"，转化 {_fmt(rate, 'pct0')}"
        width = 100 * n / top if top else 0
        funnel.append(
            f'<div class="row"><div class="label">{e(str(s["stage_label"]))}</div>'
            f'<div><div class="bar" style="width:{width:.1f}%"></div></div>'
            f'<div class="n">{n:,.0f}{e(nxt)}</div></div>'
        )
    rows = "".join(
        f'<tr><td class="{e(a["severity"] or "")}">{e(SEVERITY.get(a["severity"], "提示"))}</td>'
        f"<td>{e(a['alert_label'] or '')}</td><td>{e(a['rep_name'] or '')}</td>"
        f"<td>{e(a['region'] or '')}</td><td>{_fmt(a['idle_days'], 'num0')}</td>"
        f'<td title="{e(a["message"] or "")}">{e(a["message"] or "")}</td></tr>'
        for a in figures["top_alerts"]
    )
    alerts = (
        "<table><colgroup><col style='width:11mm'><col style='width:28mm'>"
        "<col style='width:18mm'><col style='width:14mm'><col style='width:14mm'><col></colgroup>"
        "<tr><th>级别</th><th>类型</th><th>销售</th><th>区域</th><th>天数</th><th>内容</th></tr>"
        f"{rows}</table>"
        if rows
        else "<p>今日没有未处理的预警。</p>"
    )
    link = (
        f'完整看板：<a href="{e(site_url)}">{e(site_url)}</a>。'
        if site_url
        else "完整看板见 BI 站点总览页。"
    )
    return f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>销售过程晨报 {e(as_of)}</title>
<style>{CSS}</style></head><body>
<header><h1>销售过程晨报</h1>
<div class="meta">数据截至 {e(as_of)}<br>覆盖区域：{e(scope)}</div></header>
<h2>关键指标</h2><div class="tiles">{tiles}</div>
<h2>销售漏斗 · 各阶段进入的商机数（全部历史）</h2><div class="funnel">{"".join(funnel)}</div>
<h2>今日重点预警（前 {TOP_ALERTS} 条，升级优先、停滞最久优先）</h2>{alerts}
<footer>{link}指标全部来自 CRM、企业微信、用友 U8 与团队表格中的行为证据，而非销售自报状态；
不可信记录已从指标中剔除。</footer>
</body></html>
"""


def write_report(
    bi_file: Path,
    pdf: Path,
    day: date,
    site_url: str | None = None,
    site_dir: Path = bi.SITE_DIR,
) -> Path:
    """Print the morning report of ``bi_file`` to ``pdf`` (one A4 page)."""
    page = render(overview_figures(Path(bi_file), Path(site_dir)), day, site_url)
    with tempfile.TemporaryDirectory(prefix="morning-") as tmp:
        source = Path(tmp) / "morning_report.html"
        source.write_text(page, encoding="utf-8")
        return bi.print_pdf(source, pdf)
