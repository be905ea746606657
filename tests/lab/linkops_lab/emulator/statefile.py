"""The emulator's state file, written in the background: a change only marks the state dirty
(``request``), and a writer thread saves the whole state a moment later, so a burst of requests
(10,000 mirror creates, a promote of 1,000) costs a few writes instead of one per request.

* Debounced: the first change after a write waits ``delay`` seconds (knob ``state_save_ms``) to
  collect the changes that follow it, then one write takes them all.
* Bounded: after a write that took ``d`` seconds the next one waits at least ``d / budget`` (the
  writer spends at most ``budget`` of the time writing, however large the state grows).
* Crash-safe: the document is written to ``<file>.tmp`` (mode 0600), flushed and renamed over the
  file, so a reader or a restart sees the old state or the new one, never half of one. A state
  that is dirty when the emulator stops is written first thing by ``Emulator.shutdown`` (``flush``)
  and again by ``close`` after the copiers ended; a killed emulator loses at most the changes
  since its last write (``delay``, longer for a large state: 10,000 mirrors take about 60 ms to
  write, so about every 1.2 s).
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from typing import Callable

log = logging.getLogger("lab.emulator")


class StateWriter:
    """Saves the JSON text that ``snapshot`` returns to ``path`` when asked."""

    def __init__(self, path: str, snapshot: Callable[[], str], delay: Callable[[], float],
                 budget: float = 0.05):
        self.path = path
        self._snapshot = snapshot      # called without locks held; returns the JSON text
        self._delay = delay            # seconds to wait after the first change
        self._budget = budget
        self._pending = False          # a change not written yet
        self._wake = threading.Event()
        self._closed = threading.Event()
        self._lock = threading.Lock()  # one write at a time
        self._thread: threading.Thread | None = None
        self.writes = 0                # documents written since start
        self.last_write_s = 0.0        # how long the last write took

    def request(self) -> None:
        """The state changed: write it soon (cheap; never writes in the caller's thread)."""
        self._pending = True
        if self._closed.is_set():
            return
        if self._thread is None:
            with self._lock:
                if self._thread is None:
                    self._thread = threading.Thread(target=self._run, name="state-writer", daemon=True)
                    self._thread.start()
        self._wake.set()

    def _run(self) -> None:
        while True:
            self._wake.wait()
            self._closed.wait(self._delay())    # collect the changes that follow the first one
            if self._closed.is_set():
                return                          # close() writes what is left
            self._wake.clear()
            try:
                self.write()
            except Exception:  # noqa: BLE001 - e.g. a full disk: logged, tried again at the next change
                log.exception("state file %s: write failed", self.path)
            # at most ``budget`` of the time spent writing
            if self._closed.wait(self.last_write_s * (1 / self._budget - 1)):
                return

    def write(self) -> None:
        """Write the current state now, atomically."""
        with self._lock:
            self._pending = False
            started = time.monotonic()
            text = self._snapshot()
            tmp = self.path + ".tmp"
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(text)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)
            self.writes += 1
            self.last_write_s = time.monotonic() - started

    def flush(self) -> None:
        """Write the state now if a change is not saved yet."""
        if self._pending:
            self.write()

    def close(self) -> None:
        """Stop the writer, then write the state if a change is not saved yet."""
        self._closed.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        self.flush()


def dumps(doc: dict) -> str:
    """The state document as compact JSON (the C encoder: ``indent`` would use the slow one)."""
    return json.dumps(doc, separators=(",", ":"))
