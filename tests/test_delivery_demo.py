"""The demo's made-up delivery past: every ended session judged once, a few rooms not ready with their
reasons, most sessions held, training attendance entered, all read back by the figures."""
import random

from eduops.delivery import figures
from eduops.demo.delivery import seed_demo_delivery
from tests.support import demo_term
from tests.support.demo_term import NOW


def test_the_demo_term_has_readiness_deliveries_and_attendance(tmp_path):
    database, _ = demo_term.build(tmp_path / "demo.db")
    ended = database.execute("SELECT COUNT(*) FROM sky_sessions WHERE state = 'finished'").fetchone()[0]
    assert seed_demo_delivery(database, NOW, random.Random(1)) == ended > 10
    assert seed_demo_delivery(database, NOW, random.Random(1)) == 0            # judged once
    held, total = database.execute("SELECT SUM(held), COUNT(*) FROM deliveries").fetchone()
    assert 0.7 * total < held < total                                          # most, not all
    reasons = {r[0] for r in database.execute("SELECT reasons FROM readiness WHERE ready = 0")}
    assert {"no_terminal_online", "display_off", "no_network"} <= reasons
    assert database.execute("SELECT SUM(teachers) FROM attendance").fetchone()[0] > 0
    term = figures.current_term(((NOW.date().replace(month=9, day=1), NOW.date().replace(year=2027, month=1, day=22)),),
                                NOW.date())
    county = figures.figures(database, term, "Asia/Shanghai")["county"]
    assert county["held"] == held and county["schools_reached"] > 0 and county["attendances"] > 0
    database.conn.close()
