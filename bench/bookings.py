"""Booking cost with 1,000 and 100,000 sessions stored, measured in the same run.

A county of 300 schools (each with a broadcast room and ten classrooms, 100 Mbps) gets a stored
history at the density of a real term: 200 sessions per school day (25 at a time, eight times a
day), each with one to ten receiving rooms, hosted by 1,000 teachers. Then, on the middle days of that history, it books
``--samples`` sessions through ``store.book`` (the write transaction: load what could collide,
check, write the session, its ten receivers and its audit event), and reads a broadcast room's
week and a host's 92 days through ``schedule``. Printed per size: p50 and p99 of each, beside the
floor of a booking, the same rows written with no check in the same transaction shape.

Targets (issue 11): a booking with 10 receivers p99 <= 10 ms at 100,000 stored; a room's week
<= 100 ms; cost flat (<= 1.2x, medians) from 1,000 to 100,000.

    .venv/bin/python bench/bookings.py [--samples 150] [--sizes 1000,100000]
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from eduops import county  # noqa: E402
from eduops import db as dbmod  # noqa: E402
from eduops.audit import COMMAND_LINE  # noqa: E402
from eduops.bookings import rules_of, schedule, store  # noqa: E402
from eduops.bookings.schemas import BookingRequest  # noqa: E402
from eduops.clock import to_iso  # noqa: E402
from tests.support.bookings_county import add_hosts, add_user, config  # noqa: E402

TZ = ZoneInfo("Asia/Shanghai")
SCHOOLS, ROOMS_PER_SCHOOL, PER_SLOT, SLOTS = 300, 10, 25, ("08:00", "09:00", "10:00", "11:00", "14:00", "15:00",
                                                         "16:00", "17:00")
FIRST_DAY = date(2027, 3, 1)  # a Monday; the history runs on school days from here
BENCH_SCHOOLS = 10            # receive only the benchmark's bookings, so each one fits
HOSTS = 1000                  # teachers hosting the history: one session a week each, about
TARGET_P99_MS, TARGET_WEEK_MS, TARGET_FLAT = 10, 100, 1.2


def school_days(count: int) -> list[date]:
    days, day = [], FIRST_DAY
    while len(days) < count:
        if day.weekday() < 5:
            days.append(day)
        day += timedelta(days=1)
    return days


def local(day: date, hhmm: str) -> datetime:
    h, m = map(int, hhmm.split(":"))
    return datetime(day.year, day.month, day.day, h, m, tzinfo=TZ)


def build(path: Path, sessions: int) -> tuple[list[date], dict]:
    database = dbmod.connect(path)
    dbmod.migrate(database)
    codes = [f"S{i:03d}" for i in range(SCHOOLS)] + [f"X{i:02d}" for i in range(BENCH_SCHOOLS)]
    county.apply_inventory(database, {
        "townships": [{"code": "T1", "name": "古城街道", "area_code": "main_urban"}],
        "schools": [{"code": c, "name": f"学校{c}", "township_code": "T1", "stage": "primary", "pupils": 300,
                     "small_scale": 0, "uplink_mbps": 100.0, "wired_planned": 1, "wireless_planned": 1,
                     "wifi_ssid": ""} for c in codes],
        "rooms": [{"code": f"{c}-BC", "school_code": c, "name": "录播室", "kind": "broadcast", "seats": 50,
                   "wired_planned": 1, "wireless_planned": 1} for c in codes]
        + [{"code": f"{c}-R{r}", "school_code": c, "name": f"{r}号教室", "kind": "ordinary", "seats": 50,
            "wired_planned": 1, "wireless_planned": 1} for c in codes for r in range(ROOMS_PER_SCHOOL)]})
    admin = add_user(database, "bench-admin", "admin")
    hosts = add_hosts(database, "S000", HOSTS)
    host_ids = [database.execute("SELECT id FROM users WHERE username = ?", [h]).fetchone()[0] for h in hosts]
    days = school_days(max(1, sessions // (PER_SLOT * len(SLOTS))))
    rng = random.Random(7)
    stamp = to_iso(local(FIRST_DAY, "07:00"))
    sessions_rows, receiver_rows = [], []
    for day in days:
        for slot in SLOTS:
            start, end = to_iso(local(day, slot)), to_iso(local(day, slot) + timedelta(minutes=45))
            for k, source in enumerate(rng.sample(range(SCHOOLS), PER_SLOT)):
                sid = len(sessions_rows) + 1
                if sid > sessions:
                    break
                sessions_rows.append((sid, day.isoformat(), f"第{sid}课", host_ids[sid % HOSTS], f"S{source:03d}-BC",
                                      f"S{source:03d}", start, end, stamp, stamp))
                receiver_rows += [(sid, f"S{r:03d}-R{k % ROOMS_PER_SCHOOL}", f"S{r:03d}", start)
                                  for r in rng.sample([s for s in range(SCHOOLS) if s != source], rng.randint(1, 10))]
    with dbmod.write(database):
        database.conn.executemany(
            "INSERT INTO sky_sessions (id, occurrence_day, kind, title, host_user_id, source_room_code, "
            "source_school_code, starts_at, ends_at, state, needs_approval, stream_mbps, created_at, updated_at) "
            "VALUES (?, ?, 'open_lesson', ?, ?, ?, ?, ?, ?, 'booked', 1, 4, ?, ?)", sessions_rows)
        database.conn.executemany(
            "INSERT INTO sky_session_receivers (session_id, room_code, school_code, live, starts_at) "
            "VALUES (?, ?, ?, 1, ?)", receiver_rows)
    database.execute("ANALYZE")
    database.conn.close()
    return days, {"admin": admin}


def ms(samples: list[tuple[float, float]]) -> tuple[float, float, float, float]:
    """(wall p50, wall p99, CPU p50, CPU p99) in ms of (wall, CPU) seconds. CPU time leaves out the time
    other processes take the cores (the machine is shared), so its median judges growth and its p99
    shows what the wall p99 would be on a quiet machine."""
    wall, cpu = sorted(w for w, _c in samples), sorted(c for _w, c in samples)
    p99 = min(len(wall) - 1, int(len(wall) * 0.99))
    return (statistics.median(wall) * 1000, wall[p99] * 1000, statistics.median(cpu) * 1000, cpu[p99] * 1000)


class timed:
    """Appends (wall, CPU) seconds of the block to a list."""

    def __init__(self, into: list[tuple[float, float]]):
        self.into = into

    def __enter__(self) -> None:
        self.wall, self.cpu = time.perf_counter(), time.process_time()

    def __exit__(self, *_exc) -> None:
        self.into.append((time.perf_counter() - self.wall, time.process_time() - self.cpu))


def measure(size: int, samples: int) -> dict[str, tuple[float, float]]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.db"
        days, users = build(path, size)
        rules = rules_of(config(path, terms=""))
        database = dbmod.connect(path)
        middle = days[len(days) // 2 - min(len(days), 5) // 2:][:5]
        # ten-minute sessions every twenty minutes (the buffer between them) on the middle five days: the
        # same stored density around every booking at every size
        slots = [local(day, "07:30") + timedelta(minutes=20 * i) for day in middle for i in range(31)]
        if samples > len(slots):
            raise SystemExit(f"--samples is at most {len(slots)}: the slots of five days")
        receivers = [f"X{i:02d}-R0" for i in range(BENCH_SCHOOLS)]
        now = local(FIRST_DAY, "07:00") - timedelta(days=1)
        booking, floor, week, host, feed = [], [], [], [], []
        for i in range(samples):
            start = slots[i]
            request = BookingRequest(kind="open_lesson", title=f"基准{i}", source_room="X00-BC", starts_at=start,
                                     ends_at=start + timedelta(minutes=10), receiving_rooms=receivers[1:] + ["X00-R1"])
            with timed(booking):
                store.book(database, request, users["admin"], COMMAND_LINE, rules, now)
            with timed(floor), dbmod.write(database):  # the floor: the same rows, written with no check
                sid = database.execute(
                    "INSERT INTO sky_sessions (occurrence_day, kind, title, host_user_id, source_room_code, "
                    "source_school_code, starts_at, ends_at, state, needs_approval, stream_mbps, created_at, "
                    "updated_at) VALUES ('2000-01-01', 'recording', 'floor', ?, 'X09-BC', 'X09', ?, ?, "
                    "'cancelled', 0, 0, ?, ?)", [users["admin"].id, "2000-01-01T00:00:00.000000Z",
                                                 "2000-01-01T00:20:00.000000Z", to_iso(now), to_iso(now)]).lastrowid
                database.conn.executemany(
                    "INSERT INTO sky_session_receivers (session_id, room_code, school_code, live, starts_at) "
                    "VALUES (?, ?, ?, 1, '2000-01-01T00:00:00.000000Z')", [(sid, r, r[:3]) for r in receivers])
                database.execute("INSERT INTO audit_log (at, event, actor, subject, address, detail) "
                                 "VALUES (?, 'session_booked', NULL, ?, 'bench', '{}')", [to_iso(now), f"session {sid}"])
        monday = local(middle[0] - timedelta(days=middle[0].weekday()), "00:00")
        for i in range(samples):
            with timed(week):
                schedule.room_schedule(database, f"S{i % SCHOOLS:03d}-BC", monday, monday + timedelta(days=7))
        host_ids = [r[0] for r in database.execute("SELECT id FROM users WHERE username LIKE 'host-%'")]
        for i in range(samples):
            with timed(host):
                schedule.sessions(database, monday, monday + timedelta(days=7), host_id=host_ids[i % len(host_ids)])
        for _ in range(10):
            with timed(feed):  # a teacher's calendar feed: 92 days, as long as the history has them
                schedule.sessions(database, monday, monday + timedelta(days=92), host_id=host_ids[0])
        stored = database.execute("SELECT COUNT(*) FROM sky_sessions").fetchone()[0]
        database.conn.close()
    return {"stored": stored, "book": ms(booking), "floor": ms(floor), "week": ms(week), "host": ms(host),
            "feed": ms(feed)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=150, help="Bookings (and reads) measured per size, at most 155. Example: 150")
    parser.add_argument("--sizes", default="1000,100000", help="Sessions stored, smallest first. Example: 1000,100000")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    results = {}
    for size in sizes:
        started = time.perf_counter()
        results[size] = measure(size, args.samples)
        print(f"{size:>7} sessions stored ({results[size]['stored']} with the benchmark's), "
              f"built and measured in {time.perf_counter() - started:.0f} s; load average {os.getloadavg()[0]:.1f} "
              f"on {os.cpu_count()} cores")
    names = {"book": "book, 10 receivers", "floor": "floor: same rows, no check", "week": "a room's week",
             "host": "a host's week", "feed": "a host's 92 days (feed)"}
    print(f"\n{'ms':<28}" + "".join(f" | {size:>7}: p50    p99  cpu50  cpu99" for size in sizes))
    for key, name in names.items():
        print(f"{name:<28}" + "".join(" | {:>12.2f} {:>6.2f} {:>6.2f} {:>6.2f}".format(*results[size][key])
                                      for size in sizes))
    small, large = results[sizes[0]], results[sizes[-1]]
    growth = {k: large[k][2] / small[k][2] for k in ("book", "week", "host")}
    print(f"\nbooking with 10 receivers, p99 at {sizes[-1]}: {large['book'][1]:.2f} ms (target <= {TARGET_P99_MS} ms; "
          f"CPU p99 {large['book'][3]:.2f} ms; the unchecked write floor's p99 {large['floor'][1]:.2f} ms)")
    print(f"a room's week, p99 at {sizes[-1]}: {large['week'][1]:.2f} ms (target <= {TARGET_WEEK_MS} ms); "
          f"a host's 92-day feed p99 {large['feed'][1]:.2f} ms (target <= {TARGET_WEEK_MS} ms)")
    print(f"growth of the CPU medians from {sizes[0]} to {sizes[-1]}: "
          + ", ".join(f"{k} {v:.2f}x" for k, v in growth.items()) + f" (target <= {TARGET_FLAT}x)")
    ok = (large["book"][1] <= TARGET_P99_MS and large["week"][1] <= TARGET_WEEK_MS
          and large["feed"][1] <= TARGET_WEEK_MS and all(v <= TARGET_FLAT for v in growth.values()))
    print("targets met" if ok else "targets NOT met")


if __name__ == "__main__":
    main()
