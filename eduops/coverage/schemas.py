"""The coverage API's query parameters and answers as pydantic models, for /api/openapi.json.

The query models validate each request's arguments (``web.query``). The answer
models describe the dicts that report.py, web.py and snapshots.py build; answers
are not passed through them (a county's gap list is thousands of rows), so
tests/test_openapi.py checks real answers of a real hub against the served document.
Choices come from the same constants the rules use, so the two cannot drift apart.
"""
from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, create_model

from eduops.coverage.figures import CLASS_MEASURES, COUNTS, MEASURES, SCHOOL_MEASURES
from eduops.coverage.gaps import DISAGREEMENTS, STATUSES
from eduops.inventory import STAGES
from scheduler.states import STATES

Level = Literal["county", "area", "township", "school"]
Stage = Literal[tuple(STAGES)]
Measure = Literal[MEASURES]
Status = Literal[STATUSES]


class Query(BaseModel):
    """Query arguments arrive as text: whole numbers are read from it (lax), unknown names are ignored."""
    model_config = ConfigDict(extra="ignore")


class PlaceQuery(Query):
    area: str = Field("", description="An area code.")
    township: str = Field("", description="A township code within the viewer's schools.")
    school: str = Field("", description="A school code within the viewer's schools.")
    stage: Stage | None = None
    small_scale: Literal["yes", "no"] | None = Field(
        None, description="Only small-scale schools (yes), which measure four consolidates, or only the others (no).")


class GapQuery(PlaceQuery):
    measure: Measure | None = None
    status: Status | None = Field(None, description="missing: neither inventory nor agents show it; "
                                                    "unobserved: only the inventory does.")


class GapPageQuery(GapQuery):
    limit: int = Field(1000, ge=1, le=10_000)
    offset: int = Field(0, ge=0, le=10_000_000)


class DisagreementQuery(PlaceQuery):
    kind: Literal[DISAGREEMENTS] | None = None


class TrendQuery(Query):
    level: Level = "county"
    code: str = Field("", description="The node's code; empty for the county.")
    days: int = Field(365, ge=1, le=3650, description="How many days back, today included.")


class Answer(BaseModel):
    """Answers are described exactly: a key the model does not name fails the tests."""
    model_config = ConfigDict(extra="forbid")


class Place(Answer):
    level: Level
    code: str = Field(description="Empty for the county.")
    name: str = Field(description="The Chinese name; places have only one name, empty for the county.")
    name_en: str


class MeasureFigures(Answer):
    inventory: int
    inventory_ratio: float | None = Field(description="Against the goal of 1; null where there is nothing to count.")
    observed: int
    observed_ratio: float | None


Figures = create_model("Figures", __base__=Answer, classes=(int, ...), schools=(int, ...),
                       **{m: (MeasureFigures, ...) for m in MEASURES})


class Mark(Answer):
    inventory: bool
    observed: bool


ClassMarks = create_model("ClassMarks", __base__=Answer, **{m: (Mark, ...) for m in CLASS_MEASURES})
SchoolMarks = create_model("SchoolMarks", __base__=Answer, **{m: (Mark, ...) for m in SCHOOL_MEASURES})


class Child(Place):
    figures: Figures


class Node(Place):
    """The county, an area or a township, with its children's figures."""
    level: Literal["county", "area", "township"]
    parents: list[Place] = Field(description="The nodes above, county first.")
    figures: Figures
    children: list[Child]


class SchoolInfo(Answer):
    code: str
    name: str
    township_code: str
    area_code: str
    stage: Stage
    small_scale: bool
    uplink_mbps: float
    wired_planned: bool
    wireless_planned: bool
    wifi_ssid: str = Field(description="As the inventory stores it: the school's SSIDs joined by ';', "
                                       "empty when it names none.")
    wifi_ssids: list[str] = Field(description="The school's own networks, any of which counts as its Wi-Fi.")


class ClassRow(Answer):
    code: str
    name: str
    grade: int
    room_code: str | None = Field(description="The home room; null when the class has none.")
    room_name: str | None
    marks: ClassMarks


class SchoolNode(Place):
    """A school: its own marks and every class's."""
    level: Literal["school"]
    parents: list[Place]
    figures: Figures
    school: SchoolInfo
    marks: SchoolMarks
    classes: list[ClassRow]


class Window(Answer):
    """The last N county-local days, today included, for every measure; only reports made by ``until``."""
    first_day: str = Field(description="The window's first county-local day (YYYY-MM-DD).")
    last_day: str = Field(description="Its last: the county-local day of ``until``.")
    until: str = Field(description="UTC: the moment the figures are for; later reports do not count.")


class RoomInfo(Answer):
    code: str
    name: str
    wired_planned: bool
    wireless_planned: bool


class InventoryTerminal(Answer):
    code: str
    kind: str
    asset_tag: str


class AgentDay(Answer):
    day: str
    reports: int
    wired_up_reports: int
    wifi_ssid: str | None = Field(description="The day's strongest network, whoever runs it.")
    wifi_best_dbm: int | None
    school_wifi_reports: int = Field(description="Reports that saw one of the school's own SSIDs.")
    school_wifi_best_dbm: int | None = Field(description="Their best signal.")


class RoomAgent(Answer):
    id: str
    terminal_code: str | None
    state: Literal[STATES]
    last_report_at: str | None
    days: list[AgentDay] = Field(description="The window's days it reported from this room, newest first.")


class ClassDetail(Answer):
    model_config = ConfigDict(populate_by_name=True)
    level: Literal["class"]
    code: str
    name: str
    parents: list[Place] = Field(description="County, area, township and school.")
    window: Window
    class_: ClassRow = Field(alias="class")
    school: SchoolInfo
    room: RoomInfo | None
    terminals: list[InventoryTerminal] = Field(description="The inventory's terminals in the class's home room.")
    agents: list[RoomAgent] = Field(description="Agents enrolled in the home room.")


class GapRow(Answer):
    level: Literal["school", "class"]
    area_code: str
    township_code: str
    township_name: str
    school_code: str
    school_name: str
    stage: Stage
    small_scale: bool
    class_code: str | None = Field(description="Null for a school's own gaps (uplink, Wi-Fi).")
    class_name: str | None
    grade: int | None
    room_code: str | None
    room_name: str | None
    missing: dict[Measure, Status] = Field(description="Each measure the class or school lacks.")


StatusCounts = create_model("StatusCounts", __base__=Answer, **{s: (int, ...) for s in STATUSES})
GapCounts = create_model("GapCounts", __base__=Answer, **{m: (StatusCounts, ...) for m in MEASURES})


class GapList(Answer):
    total: int = Field(description="Gaps matching the filters, on every page.")
    offset: int
    limit: int
    counts: GapCounts = Field(description="Of every matching gap: how many lack each measure, by status.")
    gaps: list[GapRow]


class DisagreementPlace(Answer):
    area_code: str
    township_code: str
    township_name: str
    school_code: str
    school_name: str


class TerminalUnseen(DisagreementPlace):
    """The inventory places terminals in a room no agent has ever reported from."""
    kind: Literal["terminal_unseen"]
    room_code: str
    room_name: str
    terminals: int


class AgentUnlisted(DisagreementPlace):
    """Agents in service report from a room where the inventory lists no terminal."""
    kind: Literal["agent_unlisted"]
    room_code: str
    room_name: str
    agents: int


class TerminalRetired(DisagreementPlace):
    """The inventory lists a terminal whose agent IT staff retired (the terminal is gone)."""
    kind: Literal["terminal_retired"]
    room_code: str | None = Field(description="The terminal's room in the inventory; null while in storage.")
    room_name: str | None
    terminal: str


class WifiUnseen(DisagreementPlace):
    """The inventory says the school has Wi-Fi, its agents report, yet none ever saw its SSID."""
    kind: Literal["wifi_unseen"]
    room_code: None
    room_name: None
    wifi_ssid: str


class DisagreementList(Answer):
    total: int
    disagreements: list[Annotated[Union[TerminalUnseen, AgentUnlisted, TerminalRetired, WifiUnseen], Field(discriminator="kind")]]


TrendCounts = create_model("TrendCounts", __base__=Answer, **{c: (list[int | None], ...) for c in COUNTS})


class TrendSeries(Place):
    counts: TrendCounts = Field(description="One value per day of ``days``; null where that day has no snapshot.")


class Trend(Answer):
    level: Level
    code: str
    days: list[str] = Field(description="County-local days with a snapshot, oldest first.")
    series: list[TrendSeries] = Field(description="The node and its children (county-wide), "
                                                  "or the viewer's schools within the node.")
