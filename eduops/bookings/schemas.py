"""The booking API's requests and answers as pydantic models, for validation and /api/openapi.json.

Requests are validated with these models (the pages build the same ``BookingRequest`` from the
form); answers are the dicts the store builds, described here and checked against the served
document by the tests. Unknown fields are refused: a typo such as ``receiver_rooms`` must not
silently book a session without receivers.
"""
from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from scheduler.bookings import CALENDAR_KINDS, KINDS, STATES
from scheduler.timetable import WEEKDAYS

Kind = Literal[KINDS]
State = Literal[STATES]
Weekday = Literal[WEEKDAYS]
Code = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Short = Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)]
Notes = Annotated[str, StringConstraints(max_length=2000)]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)]
Scope = Literal["this", "rest"]
PROBLEM_KINDS = ("room_busy", "receiver_busy", "host_busy", "bandwidth", "county_bandwidth", "no_uplink",
                 *CALENDAR_KINDS)


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Repeat(Request):
    weekdays: list[Weekday] = Field(min_length=1, max_length=7, description="Days of the week it repeats on.")
    until: date = Field(description="Last county-local date of the series (inclusive), inside the term.")


class BookingRequest(Request):
    kind: Kind
    title: Title
    subject: Short = ""
    grade: int | None = Field(default=None, ge=0, le=12)
    source_room: Code = Field(description="Room code of a broadcast or digital room of your school.")
    starts_at: AwareDatetime = Field(description="With its zone, e.g. 2026-12-07T10:00:00+08:00.")
    ends_at: AwareDatetime
    receiving_classes: list[Code] = Field(default=[], max_length=2000,
                                          description="Class codes; each stands for its home room.")
    receiving_rooms: list[Code] = Field(default=[], max_length=2000)
    recorded: bool = False
    notes: Notes = ""
    host: Code | None = Field(default=None, description="Username of the host; IT staff and the admin only. "
                                                        "Default: you.")
    repeat: Repeat | None = None
    book: Literal["all", "free"] = Field(default="all", description="A series: book every occurrence or none "
                                                                   "(all), or only the free ones (free).")


class EditRequest(Request):
    """Only the fields sent change; sending either receiver list replaces all receivers."""
    version: int = Field(ge=1, description="The version you read; 409 stale if it changed since.")
    scope: Scope = Field(default="this", description="This occurrence, or it and the later ones of its series.")
    kind: Kind | None = None
    title: Title | None = None
    subject: Short | None = None
    grade: int | None = Field(default=None, ge=0, le=12)
    source_room: Code | None = None
    starts_at: AwareDatetime | None = None
    ends_at: AwareDatetime | None = None
    receiving_classes: list[Code] | None = Field(default=None, max_length=2000)
    receiving_rooms: list[Code] | None = Field(default=None, max_length=2000)
    recorded: bool | None = None
    notes: Notes | None = None
    host: Code | None = None


class Decision(Request):
    version: int = Field(ge=1)
    scope: Scope = "this"
    reason: Reason = Field(default="", description="Shown to the host; required to reject.")


class Answer(BaseModel):
    """Answers say exactly what they hold: the served schema refuses any other field."""
    model_config = ConfigDict(extra="forbid")


class Receiver(Answer):
    room_code: str
    room_name: str
    school_code: str
    school_name: str
    class_code: str | None
    class_name: str | None
    live: bool = Field(description="False: the school has no uplink on record; it gets the recording.")


class Session(Answer):
    id: int
    series_id: int | None
    occurrence_day: str
    kind: Kind
    title: str
    subject: str
    grade: int | None
    host_id: int
    host_username: str
    source_room_code: str
    source_room_name: str
    source_school_code: str
    source_school_name: str
    starts_at: str
    ends_at: str
    recorded: bool
    notes: str
    state: State
    needs_approval: bool
    reason: str
    stream_mbps: float
    version: int
    created_at: str
    updated_at: str
    receivers: list[Receiver]


class SessionList(Answer):
    sessions: list[Session]


class Problem(Answer):
    kind: Literal[PROBLEM_KINDS]
    resource: str = Field(description="The room code, school code or day it is about; empty if none.")
    session_id: int | None = Field(description="The session in the way, if one is.")
    session_title: str | None
    starts_at: str | None
    ends_at: str | None
    need_mbps: float | None
    free_mbps: float | None
    message: str = Field(description="In words a teacher understands, in the request's language.")


class Slot(Answer):
    starts_at: str
    ends_at: str


class Occurrence(Answer):
    day: str
    starts_at: str
    ends_at: str
    status: Literal["book", "skip", "fails"]
    reason: str | None = Field(default=None, description="Why it is skipped: holiday.")
    problems: list[Problem]


class Booked(Answer):
    sessions: list[Session]
    preview: list[Occurrence]


class Outcome(Answer):
    ok: bool
    needs_approval: bool
    problems: list[Problem] = Field(description="Those of the first occurrence that fails (or the only one).")
    suggestions: list[Slot] = Field(description="The nearest free slots of the same length, for those problems.")
    preview: list[Occurrence]


class ConflictAnswer(Answer):
    error: str
    message: str
    problems: list[Problem] | None = None
    suggestions: list[Slot] | None = None
    preview: list[Occurrence] | None = None
    details: list[dict[str, str]] | None = Field(default=None, description="For invalid: each field at fault.")
    version: int | None = Field(default=None, description="For stale: the version stored now.")


class RoomInfo(Answer):
    code: str
    name: str
    kind: str
    school_code: str
    school_name: str


class SchoolInfo(Answer):
    code: str
    name: str
    uplink_mbps: float


class Schedule(Answer):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    start: str = Field(alias="from")
    to: str
    sessions: list[Session]


class RoomSchedule(Schedule):
    room: RoomInfo


class SchoolSchedule(Schedule):
    school: SchoolInfo


class ListQuery(BaseModel):
    """Query arguments of the session list (text; from/to are times with a zone, or county-local dates)."""
    model_config = ConfigDict(extra="ignore", populate_by_name=True)
    start: str | None = Field(default=None, alias="from", description="Default: now. A date means its local midnight.")
    to: str | None = Field(default=None, description="Default: 14 days after from; at most 92 days after it.")
    room: str | None = None
    school: str | None = None
    host: str | None = Field(default=None, description="A username.")
    state: State | None = None
    mine: Literal["yes", "no"] = Field(default="no", description="yes: only sessions you host.")
    limit: int = Field(default=1000, ge=1, le=5000)


class WeekQuery(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)
    start: str | None = Field(default=None, alias="from", description="Default: Monday of this county-local week.")
    to: str | None = Field(default=None, description="Default: 7 days after from; at most 92 days after it.")

