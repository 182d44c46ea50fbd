"""A JOBDIR crawl that survives `kill -9`.

Scrapy keeps a paused crawl's queue and seen requests in JOBDIR and writes them out when
the crawl stops cleanly (Ctrl-C once, or the end). A process killed outright leaves the
seen-requests file holding requests that were queued but never fetched, and a queue
whose index was never written: resumed as it is, those requests are lost for good.

So the crawl keeps its own note in the JOBDIR (`nianbao-job.json`): `running` while it
runs, `paused` or `finished` when it stops cleanly. A job found `running` was killed:
its Scrapy state is thrown away, the listings are walked again (their first pages are
never filtered as seen), and the reports the archive has seen since the job began are
not fetched again. A `finished` job starts afresh, so that a JOBDIR reused by a
scheduled crawl does not hide the next crawl's pages as "already seen".
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
from pathlib import Path

from nianbao.archive import now

NOTE = "nianbao-job.json"
LOCK = "nianbao-job.lock"
# what Scrapy keeps in a JOBDIR that a killed process leaves inconsistent
_SCRAPY_STATE = ("requests.seen", "requests.queue", "spider.state")


class JobState:
    def __init__(self, directory: str | Path):
        self.directory = Path(directory)
        self.note = self.directory / NOTE
        self.started: str | None = None
        self.recovering = False
        self._lock: int | None = None

    def begin(self) -> str:
        """Start or resume the job; returns what happened, for the log. The JOBDIR is
        held until the process exits: a second crawl in it stops at once."""
        self.directory.mkdir(parents=True, exist_ok=True)
        self._lock = os.open(self.directory / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RuntimeError(f"the JOBDIR {self.directory} is in use by another crawl") from None
        previous = self._read()
        state = previous.get("state")
        if state == "running":
            self._forget_scrapy_state()
            self.started, self.recovering = previous.get("started"), True
            told = (f"the crawl in {self.directory} was killed (started {self.started}): "
                    "walking its listings again, skipping reports archived since then")
        elif state == "paused":
            self.started, self.recovering = previous.get("started"), previous.get("recovering", False)
            told = f"resuming the crawl paused in {self.directory}"
        else:
            if state == "finished":
                self._forget_scrapy_state()
            self.started, self.recovering = now(), False
            told = f"a new crawl in {self.directory}"
        self._write("running")
        return told

    def end(self, reason: str) -> None:
        self._write("finished" if reason == "finished" else "paused")

    def _forget_scrapy_state(self) -> None:
        for name in _SCRAPY_STATE:
            path = self.directory / name
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink(missing_ok=True)

    def _read(self) -> dict:
        try:
            return json.loads(self.note.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}

    def _write(self, state: str) -> None:
        temporary = self.note.with_suffix(".tmp")
        temporary.write_text(json.dumps({"state": state, "started": self.started,
                                         "recovering": self.recovering}), encoding="utf-8")
        os.replace(temporary, self.note)
