"""The U8 loader benchmark writes a U8 SQLite file of N order lines, loads it through the U8
source and reads it with the driver, and prints both rates and their ratio."""

from __future__ import annotations

import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parents[2]
ROWS = 3000


def test_the_u8_source_is_timed_against_the_driver_on_the_same_lines(tmp_path):
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "bench_u8.py"), str(ROWS), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    out = done.stdout
    ratio = re.search(r"U8 source runs at ([0-9.]+)x the driver's rows/s", out)
    assert ratio and float(ratio.group(1)) > 0, out
    assert re.search(r"again with nothing new [0-9.]+s", out), out

    # the lines landed as the file holds them: every line once, its amounts to the cent
    db = tmp_path / "UFDATA_001_2026.db"
    with sqlite3.connect(db) as con:
        source = con.execute(
            "select count(*), count(distinct iSOsID), sum(round(iMoney * 100)) from SO_SODetails"
        ).fetchone()
    with duckdb.connect(str(tmp_path / "runs" / "u8.duckdb"), read_only=True) as con:
        landed = con.execute(
            "select count(*), count(distinct isosid), sum(imoney * 100) from raw_u8.so_sodetails"
        ).fetchone()
    assert source[0] == source[1] == ROWS
    assert (landed[0], landed[1], int(landed[2])) == (ROWS, ROWS, int(source[2]))
