"""The crash test at length: a real hub SIGKILLed many times while many agents stream reports
(tests/reliability/test_crash.py runs it with 10 kills and 20 agents in CI).

    .venv/bin/python bench/crash.py [--kills 50] [--agents 50]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.reliability.test_crash import run_crash  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=50, help="SIGKILLs, at random moments 0.1-0.6 s apart")
    parser.add_argument("--agents", type=int, default=50, help="agents streaming reports meanwhile")
    parser.add_argument("--seed", type=int, default=None, help="seed of the kill moments")
    opts = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        figures = run_crash(Path(tmp) / "hub.db", kills=opts.kills, agents=opts.agents, seed=opts.seed)
    print(f"{figures['reports']:,} reports from {figures['agents']} agents through {figures['kills']} SIGKILLs "
          f"in {figures['seconds']} s: every acknowledged report stored exactly once, rollups agree, "
          f"integrity_check ok; {figures['replays']} replays answered duplicate; {figures['bookings']} bookings "
          f"kept exactly once ({figures['bookings_answer_lost']} whose answer a kill cut off)")


if __name__ == "__main__":
    main()
