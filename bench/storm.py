"""The reconnect storm at county size: real agents spool through an outage, then the hub returns
(tests/reliability/test_storm.py runs it with 300 agents in CI).

    .venv/bin/python bench/storm.py [--agents 1000] [--outage 600]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.reliability.storm import run_storm  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=1000, help="simulated agents (the real agent code)")
    parser.add_argument("--outage", type=int, default=600, help="simulated seconds the hub is away")
    opts = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        f = run_storm(Path(tmp) / "hub.db", opts.agents, opts.outage)
    print(f"{f['agents']:,} agents, {f['outage_s']} s outage: answers after the return {f['statuses']}; "
          f"lost {f['lost']}, dropped {f['dropped']}, still spooled {f['pending']}; busiest second held "
          f"{f['busiest_second_share']:.1%} of first retries (limit 10%); every agent back within "
          f"{f['reconnected_within_s']} simulated s, spools drained in {f['drained_in_simulated_s']} simulated s "
          f"({f['storm_real_s']} s real); page p95 {f['page_p95_s'] * 1000:.0f} ms (limit 2 s)")


if __name__ == "__main__":
    main()
