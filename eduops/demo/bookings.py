"""A term of sky classroom sessions for the demo county, booked through the booking store's own rules.

Each area's lead school broadcasts weekly to the village schools of its townships (measure four's
strong schools leading weak ones), the county holds collective teaching research and rounds of
teacher training, broadcast rooms record quality courses, and ``demo-teacher`` has a weekly lesson
and single sessions of its own, two of them still awaiting approval and one rejected.

Everything goes through ``store.book`` and ``store.decide``, so the demo obeys every rule a real
booking does. The term's past weeks are booked as of the term's start (the store refuses to book
the past), then the jobs run as of now: what has ended is finished, unapproved ones expired.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlite_utils

from eduops.accounts import passwords
from eduops.accounts import store as accounts
from eduops.audit import Actor
from eduops.bookings import rules_of, schedule, schemas, store
from eduops.config import Config
from eduops.demo.county import GRADE_NAMES
from eduops.errors import Conflict, DomainError

DEMO = Actor("demo-admin", "demo")
LEADS = {"main_urban": "S001"}  # elsewhere the lead is the first school of the area's first township


def demo_terms(today: date) -> tuple[str, str]:
    """(terms, holidays) for the demo's configuration: the school year holding ``today``."""
    year = today.year if today.month >= 8 else today.year - 1
    terms = f"{year}-09-01..{year + 1}-01-22,{year + 1}-02-20..{year + 1}-07-09"
    holidays = f"{year}-10-01..{year}-10-07,{year + 1}-01-01,{year + 1}-05-01..{year + 1}-05-05"
    return terms, holidays


def _choices(db: sqlite_utils.Database) -> dict[str, Any]:
    """Per area: its lead school, its broadcast room, and its village schools by township."""
    rooms = schedule.source_rooms(db, None)
    plan = {}
    for area in schedule.receiver_choices(db):
        schools = [s for t in area["townships"] for s in t["schools"]]
        broadcast = [r for r in rooms if r["kind"] == "broadcast"
                     and r["school_code"] in {s["code"] for s in schools}]
        if not broadcast:
            continue
        lead = broadcast[0]["school_code"]
        plan[area["code"]] = {
            "lead": lead, "rooms": [r["code"] for r in broadcast if r["school_code"] == lead],
            "villages": [[s for s in t["schools"] if s["name"].endswith("村小学") and s["uplink_mbps"]]
                         for t in area["townships"]],
            "centrals": [s for s in schools if not s["name"].endswith("村小学") and s["code"] != lead],
        }
    return plan


def _host(db: sqlite_utils.Database, school: str, now: datetime) -> str:
    """A teacher of the lead school to host its lessons (made with a throwaway password: not for signing in)."""
    username = f"demo-host-{school.lower()}"
    if accounts.user_named(db, username) is None:
        accounts.add_user(db, username, "teacher", [school], passwords.generate_password(), DEMO, now)
    return username


def _grade(schools: list[dict[str, Any]], grade: int) -> list[str]:
    """The classes of one grade in these schools (a village school has about one per grade)."""
    return [c["code"] for s in schools for c in s["classes"] if c["grade"] == grade]


def _book(db, user, rules, now, tz, **fields) -> list[dict[str, Any]]:
    day, start, minutes = fields.pop("day"), fields.pop("start"), fields.pop("minutes")
    starts = datetime.combine(day, time.fromisoformat(start), ZoneInfo(tz))
    req = schemas.BookingRequest(starts_at=starts, ends_at=starts + timedelta(minutes=minutes), **fields)
    return store.book(db, req, user, DEMO, rules, now)["sessions"]


def _weekday_on_or_after(day: date, weekday: int) -> date:
    return day + timedelta(days=(weekday - day.weekday()) % 7)


def seed_demo_sessions(db: sqlite_utils.Database, now: datetime, config: Config) -> int:
    """Book the demo term; returns the number of sessions stored."""
    rules = rules_of(config)
    tz = config.timezone
    today = now.astimezone(ZoneInfo(tz)).date()
    first, last = next(((a, b) for a, b in rules.terms if a <= today + timedelta(days=7) <= b + timedelta(days=7)),
                       (today, today + timedelta(weeks=8)))
    start_day = max(first, today - timedelta(weeks=3))  # three weeks of history is enough to look at
    back_then = datetime.combine(start_day - timedelta(days=1), time(8), ZoneInfo(tz))
    admin = accounts.user_named(db, "demo-admin")
    teacher = accounts.user_named(db, "demo-teacher")
    plan = _choices(db)
    count = 0
    free = {"book": "free"}  # a clash with another series skips that date, as a teacher would
    until = last.isoformat()

    def series(weekday: int, **fields) -> None:
        nonlocal count
        day = _weekday_on_or_after(start_day, weekday)
        if day > last:
            return
        repeat = {"weekdays": [["mon", "tue", "wed", "thu", "fri"][weekday]], "until": until}
        count += len(_book(db, admin, rules, back_then, tz, day=day, repeat=repeat, **free, **fields))

    for n, (area, p) in enumerate(plan.items()):
        host = _host(db, p["lead"], back_then) if p["lead"] != "S001" else "demo-teacher"
        villages = [v for v in p["villages"] if v] or [[]]
        # Each lead school broadcasts two weekly lessons, each to the village schools of one township.
        for k, (grade, subject, weekday, start) in enumerate([(3, "数学", 1, "10:00"), (4, "语文", 3, "14:30")]):
            receivers = _grade(villages[k % len(villages)], grade)
            if area == "main_urban":  # the town has no village schools: on other days it reaches Yiche's far ones
                weekday, far = weekday - 1, plan["yiche"]["villages"]
                receivers = _grade(far[(2 + k) % len(far)], grade)
            series(weekday, kind="open_lesson", title=f"同步课堂·{GRADE_NAMES[grade]}{subject}", subject=subject,
                   grade=grade, source_room=p["rooms"][k % len(p["rooms"])], host=host, start=start,
                   minutes=40, receiving_classes=receivers, recorded=True)
        # Broadcast rooms record a quality course on Wednesday mornings.
        series(2, kind="recording", title=f"优质课程录制（{n + 1}）", source_room=p["rooms"][-1],
               host=_host(db, p["lead"], back_then), start="09:00", minutes=40, recorded=True)

    centrals = [s for p in plan.values() for s in p["centrals"] if s["uplink_mbps"]][:24]
    first_rooms = [s["classes"][0]["code"] for s in centrals if s["classes"]]
    lead_room = plan["main_urban"]["rooms"][0]
    # County-wide collective research every other Wednesday afternoon; training rounds on Fridays.
    for week in range(0, 20, 2):
        day = _weekday_on_or_after(start_day, 2) + timedelta(weeks=week)
        if day <= last:
            count += _try(lambda: _book(db, admin, rules, back_then, tz, day=day, start="15:00", minutes=90,
                                        kind="collective_research", title="全县集体教研：深度学习与课堂提问",
                                        source_room=lead_room, receiving_classes=first_rooms, recorded=True))
    for round_no, (area, p) in enumerate(plan.items()):
        day = _weekday_on_or_after(start_day, 4) + timedelta(weeks=round_no)
        if day <= last:
            schools = [s["classes"][0]["code"] for s in p["centrals"] if s["classes"] and s["uplink_mbps"]][:12]
            count += _try(lambda: _book(db, admin, rules, back_then, tz, day=day, start="15:30", minutes=90,
                                        kind="teacher_training", title=f"教师数字化培训 第{round_no + 1}轮",
                                        source_room=plan["main_urban"]["rooms"][1], receiving_classes=schools,
                                        recorded=True))
    store.finish_ended(db, now)

    # demo-teacher's own: two cross-area lessons awaiting approval next week, and one the county rejected.
    nagu, zhehai = plan["nagu"]["villages"][0], plan["zhehai"]["villages"][1]
    next_week = today + timedelta(days=7 - today.weekday())
    asked = []
    for offset, schools, grade, title in [(0, nagu[:3], 4, "四年级科学：植物的一生"),
                                          (2, zhehai[:3], 3, "三年级英语：Colours"),
                                          (4, nagu[3:6] or nagu[:3], 2, "二年级音乐：小雨沙沙")]:
        asked += _book(db, teacher, rules, now, tz, day=next_week + timedelta(days=offset), start="11:00",
                       minutes=40, kind="open_lesson", title=title, source_room=plan["main_urban"]["rooms"][2],
                       receiving_classes=_grade(schools, grade), recorded=True)
    rejected = asked[-1]
    store.decide(db, rejected["id"], rejected["version"], "this", False, "该时段娜姑片区村小统一测试，请改期。",
                 admin, DEMO, now)
    store.expire_pending(db, now, timedelta(hours=config.approval_deadline_h))
    return count + len(asked)


def _try(book) -> int:
    """One single session; a clash with a weekly series leaves that date out, as a person would."""
    try:
        return len(book())
    except Conflict:
        return 0


SHOW_ROUNDS, SHOW_EVERY, SHOW_LENGTH = 4, timedelta(minutes=15), timedelta(minutes=2)


def book_recorder_show(db: sqlite_utils.Database, now: datetime, config: Config,
                       rooms: list[tuple[str, str]]) -> int:
    """Short recordings in the broadcast rooms ``[(room, school)]`` of the simulated recorders: the
    first a minute or two from now, one room after another, then every 15 minutes for an hour, so
    the demo shows its recorders at work (scheduled, recording, recorded) at whatever hour it runs.

    Booked through the store's rules but at any hour and only two minutes long, which a person
    cannot book: otherwise the demo would wait for a school day's recording slot. One room per
    school, as each school's sessions share its host; a slot taken (a lesson, an earlier start of
    the demo) is left out."""
    rules = rules_of(config)
    anytime = replace(rules, hours=((0, 24 * 60),), min_length=SHOW_LENGTH,
                      timetable=replace(rules.timetable, school_days=frozenset(range(7)), holidays=()))
    admin = accounts.user_named(db, "demo-admin")
    tz = ZoneInfo(config.timezone)
    first = (now + timedelta(seconds=140)).replace(second=0, microsecond=0)  # 80 to 140 s from now
    schools = {}
    for room, school in rooms:
        schools.setdefault(school, room)
    count = 0
    for n, (school, room) in enumerate(sorted(schools.items())):
        host = _host(db, school, now)
        for k in range(SHOW_ROUNDS):
            starts = first + n * timedelta(minutes=1) + k * SHOW_EVERY
            req = schemas.BookingRequest(kind="recording", title=f"录播机演示 {starts.astimezone(tz):%H:%M}",
                                         source_room=room, host=host, starts_at=starts, ends_at=starts + SHOW_LENGTH,
                                         recorded=True)
            try:
                count += len(store.book(db, req, admin, DEMO, anytime, now)["sessions"])
            except DomainError:  # taken, or across midnight
                continue
    return count
