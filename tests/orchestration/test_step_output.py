"""What a run's steps print goes to the run's file; what the watchers print (other threads)
stays on the console; the console is given back after, also when the run raises, and a watcher
printing as it is given back prints whole."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest

from orchestration import runner

ROOT = Path(__file__).resolve().parents[2]


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


# A watcher printing while the run hands the console back. print() holds sys.stdout borrowed
# from its first write to its last: the console here holds the watcher inside its first write
# until the block is over and the file's output is gone, then lets it write the line's end.
HANDED_BACK = """
import gc, io, sys, threading
from pathlib import Path
from orchestration import runner

class Console(io.TextIOBase):
    def __init__(self):
        self.said, self.inside, self.go_on = [], threading.Event(), threading.Event()
    def writable(self):
        return True
    def write(self, text):
        if text == "[  9.8s] done  ingest_wecom" and not self.inside.is_set():
            self.inside.set()
            self.go_on.wait(30)
        self.said.append(text)
        return len(text)

console = sys.stdout = Console()
failed = []
def watcher():
    try:
        print("[  9.8s] done  ingest_wecom")
    except BaseException as exc:
        failed.append(repr(exc))
with runner.steps_print_to(Path(sys.argv[1])):
    thread = threading.Thread(target=watcher)
    thread.start()
    console.inside.wait(30)
gc.collect()
litter = [object() for _ in range(100_000)]  # what would reuse the memory of a freed object
console.go_on.set()
thread.join()
sys.__stdout__.write(repr((failed, "".join(console.said))))
"""


def test_a_watcher_printing_as_the_console_is_handed_back_prints_whole(tmp_path):
    result = subprocess.run(
        [sys.executable, "-c", HANDED_BACK, str(tmp_path / "run.log")],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout == repr(([], "[  9.8s] done  ingest_wecom\n")), result.stdout
