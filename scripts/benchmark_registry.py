"""A registry crawl of a nation of small portals, at the crawl's own politeness.

    .venv/bin/python scripts/benchmark_registry.py [--portals 200] [--delay 2]

Serves N portals of four reports each (tables in the pages), each on a loopback address of
its own (127.0.0.2, 127.0.0.3 …: one host per portal), writes a registry listing them, and
runs `scrapy crawl annual_reports` over it with the default settings but DOWNLOAD_DELAY
(robots.txt obeyed, one request at a time per host, the delay between requests ±50 %,
AutoThrottle on). From the servers' access logs it prints: portals visited, the most
requests one host answered at once, the shortest gap between two requests to one host,
the politeness floor (the busiest portal's requests one delay apart), the wall time and
its ratio to the floor, and portals per hour.
"""

from __future__ import annotations

import argparse
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.portals import Nation  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--portals", type=int, default=200)
    parser.add_argument("--delay", type=float, default=2.0, help="DOWNLOAD_DELAY, seconds")
    arguments = parser.parse_args()
    nation = Nation(arguments.portals).serve()
    try:
        with tempfile.TemporaryDirectory(prefix="nianbao-nation-") as folder:
            registry, db = Path(folder) / "sources.yaml", Path(folder) / "archive.db"
            nation.write_registry(registry)
            began = time.monotonic()
            run = subprocess.run(
                [sys.executable, "-m", "scrapy", "crawl", "annual_reports", "-a",
                 f"registry={registry}", "-s", f"ARCHIVE_DB={db}", "-s",
                 f"DOWNLOAD_DELAY={arguments.delay}", "-s", "LOG_LEVEL=WARNING"],
                cwd=ROOT, capture_output=True, text=True)
            wall = time.monotonic() - began
            if run.returncode:
                sys.exit(run.stderr[-3000:])
            with sqlite3.connect(db) as connection:
                reports = connection.execute("select count(*) from reports").fetchone()[0]
                healthy = connection.execute(
                    "select count(*) from sources where outcome = 'ok'").fetchone()[0]
    finally:
        nation.shutdown()
    seen = nation.politeness(arguments.delay)
    print(f"{arguments.portals} portals, {reports} reports archived, {healthy} sources ok, "
          f"{seen['requests']} requests")
    print(f"portals visited                      {seen['visited']}")
    print(f"most requests at once to one host    {seen['most_at_once']}")
    print(f"shortest gap between two (s)         {seen['shortest_gap']:.2f}"
          f"  (delay {arguments.delay} ± 50 %)")
    print(f"politeness floor (s)                 {seen['floor']:.1f}")
    print(f"wall time (s)                        {wall:.1f}")
    print(f"wall / floor                         {wall / seen['floor']:.2f}×")
    print(f"portals per hour                     {arguments.portals / wall * 3600:.0f}")


if __name__ == "__main__":
    main()
