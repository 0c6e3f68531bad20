"""An exclusive lock on a file, for work that must not overlap (one writer per DuckDB file, one
Evidence build per site folder).

The lock is the kernel's ``flock``: it goes with the process that holds it, so a holder killed
by SIGKILL or the OOM killer leaves nothing to clean up. The holder writes a line saying who it
is into the lock file, so a waiter can name it.
"""

from __future__ import annotations

import contextlib
import fcntl
import time
from collections.abc import Callable, Iterator
from pathlib import Path


class LockTimeout(TimeoutError):
    """The lock stayed busy longer than the caller would wait."""


@contextlib.contextmanager
def exclusive(
    lock_path: Path,
    waiting: Callable[[], None] | None = None,
    timeout: float | None = None,
    holder: str | None = None,
) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``lock_path`` for the block; a second holder (another
    process or thread) waits. ``waiting`` is called once when the lock is busy (``holder_of``
    tells who holds it). With ``holder``, that line is written into the lock file while held.
    After ``timeout`` seconds of waiting, :class:`LockTimeout` names the holder."""
    with Path(lock_path).open("a+") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if waiting is not None:
                waiting()
            _wait(fh, timeout, lock_path)
        try:
            if holder is not None:
                fh.seek(0)
                fh.truncate()
                fh.write(holder + "\n")
                fh.flush()
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def holder_of(lock_path: Path) -> str:
    """The line the lock's current (or last) holder wrote into it."""
    try:
        return Path(lock_path).read_text(encoding="utf-8").strip() or "another process"
    except OSError:
        return "another process"


def _holder(fh) -> str:
    fh.seek(0)
    return fh.read().strip() or "another process"


def _wait(fh, timeout: float | None, lock_path: Path) -> None:
    if timeout is None:
        fcntl.flock(fh, fcntl.LOCK_EX)
        return
    deadline = time.monotonic() + timeout
    while True:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() >= deadline:
                raise LockTimeout(
                    f"{lock_path} is still held by {_holder(fh)} after {timeout:.0f}s"
                ) from None
            time.sleep(min(1.0, max(0.05, deadline - time.monotonic())))
