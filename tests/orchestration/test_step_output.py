"""What a run's steps print goes to the run's file; what the watchers print (other threads)
stays on the console; the console is given back after, also when the run raises."""

from __future__ import annotations

import sys
import threading

import pytest

from orchestration import runner


def test_the_executing_thread_prints_to_the_file_the_others_to_the_console(tmp_path, capsys):
    log = tmp_path / "logs" / "run.log"
    log.parent.mkdir()
    console = sys.stdout
    with runner.steps_print_to(log):
        print("12 of 291 OK created sql table model marts.fct_activities")
        watcher = threading.Thread(target=print, args=("[  3.0s] done  dbt_models",))
        watcher.start()
        watcher.join()
        sys.stdout.flush()
    assert sys.stdout is console
    print("after the run")
    out = capsys.readouterr().out
    assert out.splitlines() == ["[  3.0s] done  dbt_models", "after the run"]
    assert log.read_text(encoding="utf-8") == (
        "12 of 291 OK created sql table model marts.fct_activities\n"
    )

    with pytest.raises(RuntimeError), runner.steps_print_to(log):
        print("a step's last words")
        raise RuntimeError("the run failed")
    assert sys.stdout is console
    assert log.read_text(encoding="utf-8").endswith("a step's last words\n")


def test_verbose_leaves_the_console_alone(capsys):
    console = sys.stdout
    with runner.steps_print_to(None):
        assert sys.stdout is console
        print("dbt says")
    assert capsys.readouterr().out == "dbt says\n"


def test_a_run_keeps_the_last_output_files(tmp_path):
    logs = tmp_path / "logs"
    logs.mkdir()
    for n in range(runner.KEEP_OUTPUT_LOGS + 5):
        (logs / f"run-20260101-{n:06d}-aaaaaaaa.log").write_text("x", encoding="utf-8")
    new = runner._output_log(tmp_path, "0123456789abcdef")
    new.write_text("y", encoding="utf-8")
    kept = sorted(p.name for p in logs.glob("run-*.log"))
    assert len(kept) == runner.KEEP_OUTPUT_LOGS and new.name in kept
    assert "run-20260101-000000-aaaaaaaa.log" not in kept
