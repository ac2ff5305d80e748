"""The agent wire protocol, version 1 (docs/protocol.md), as pydantic models.

The same models validate requests and generate the OpenAPI document. Validation
is strict (no "12" for 12, no naive times): an agent that sends the wrong type has
a bug worth a clear 400. Measurements are numbers (an integer is a number too);
only counters and identifiers must be integers. Unknown fields are ignored so newer agents still talk to
older hubs. Every fact an agent cannot learn is null or an empty list. Numbers are finite and
every time lies between 1970 and 2100.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

PROTOCOL = 1

Name = Annotated[str, StringConstraints(min_length=1, max_length=200)]
Text = Annotated[str, StringConstraints(max_length=1000)]
Code = Annotated[str, StringConstraints(min_length=1, max_length=100)]
Percent = Annotated[float, Field(ge=0, le=100)]
NonNegative = Annotated[float, Field(ge=0)]
Count = Annotated[int, Field(ge=0, le=2**63 - 1)]
# A clock with a flat CMOS battery says 1970 or 2000; anything outside this range is not a clock reading.
Moment = Annotated[AwareDatetime, Field(ge=datetime(1970, 1, 1, tzinfo=timezone.utc),
                                        le=datetime(2100, 1, 1, tzinfo=timezone.utc))]


class Model(BaseModel):
    # No NaN or infinity (JSON's 1e999 parses as infinity): they would be stored as null.
    model_config = ConfigDict(strict=True, extra="ignore", allow_inf_nan=False)


class Hardware(Model):
    hostname: Name
    machine_id: Name | None = None
    macs: list[Name] = Field(default=[], max_length=64)
    display_serials: list[Name] = Field(default=[], max_length=16)


class EnrollRequest(Model):
    token: Name
    instance_id: Code = Field(description="Made once by the agent and kept in its state directory.")
    room: Code = Field(description="Room code from the inventory.")
    hardware: Hardware
    agent_version: Name | None = None
    os: Name | None = None


class EnrollAnswer(Model):
    agent_id: str
    agent_key: str = Field(description="Shown once; the hub keeps only its hash.")
    school: str
    room: str
    terminal: str | None = Field(description="The inventory terminal this agent runs on, when the hub can tell.")
    report_interval_s: int
    protocol: int = PROTOCOL


class Host(Model):
    hostname: Name | None = None
    os: Name | None = None
    boot_time: Moment | None = None
    agent_version: Name | None = None


class Resources(Model):
    cpu_percent: Percent | None = None
    memory_percent: Percent | None = None
    memory_total_mb: NonNegative | None = None
    disk_percent: Percent | None = None
    disk_total_gb: NonNegative | None = None
    uptime_s: NonNegative | None = None


class Display(Model):
    name: Name
    connected: bool | None = None
    screen_on: bool | None = None
    serial: Name | None = None


class Software(Model):
    name: Name
    running: bool | None = None


class Interface(Model):
    name: Name
    kind: Literal["wired", "wireless", "other"]
    link_up: bool | None = None
    speed_mbps: NonNegative | None = None
    addresses: list[Name] = Field(default=[], max_length=32)


class Wifi(Model):
    ssid: Name | None = None
    bssid: Name | None = None
    signal_dbm: Annotated[float, Field(ge=-150, le=0)] | None = None   # /proc/net/wireless gives -61.
    connected: bool | None = None


class HubProbe(Model):
    rtt_ms: NonNegative | None = None
    loss_percent: Percent | None = None


class GatewayProbe(HubProbe):
    address: Name | None = None


class Dns(Model):
    servers: list[Name] = Field(default=[], max_length=16)
    resolve_ok: bool | None = None


class Network(Model):
    interfaces: list[Interface] = Field(default=[], max_length=64)
    wifi: Wifi | None = None
    gateway: GatewayProbe | None = None
    hub: HubProbe | None = None
    dns: Dns | None = None


class Recording(Model):
    session_id: Code = Field(description="The session's id, as the schedule gave it.")
    state: Literal["scheduled", "recording", "finished", "failed"]
    reason: Text | None = Field(default=None, description="For failed: why, in the recorder's words.")
    at: Moment | None = Field(default=None, description="When the recording entered this state.")


class ReportBody(Model):
    host: Host
    resources: Resources
    displays: list[Display] = Field(default=[], max_length=16)
    software: list[Software] = Field(default=[], max_length=64)
    network: Network
    recordings: list[Recording] = Field(default=[], max_length=32, description=(
        "Only from a broadcast room's recorder agent: the state of its recent and coming recordings."))


class Report(Model):
    id: UUID = Field(description="Unique per report, made when the report is made; replays are duplicates.")
    seq: Count
    agent_time: Moment = Field(description="The agent's clock when it made the report (1970 to 2100).")
    body: ReportBody


class ReportBatch(Model):
    sent_at: Moment = Field(description="The agent's clock when it sent the batch (1970 to 2100); gives its skew.")
    room: Code | None = Field(default=None, description="The room the agent is configured for; "
                              "another room of the same school moves the agent there.")
    reports: list[Report] = Field(min_length=1)


class ReportResult(Model):
    id: UUID
    status: Literal["accepted", "duplicate"]


class Command(Model):
    id: str
    kind: Literal["refresh_schedule", "send_inventory"]
    expires_at: datetime
    args: dict[str, Any] = {}


class ReportAnswer(Model):
    results: list[ReportResult]
    next_report_in_s: float = Field(description="When to report next: the server interval with jitter.")
    commands: list[Command]


class ScheduledSession(Model):
    id: int
    title: str
    kind: str
    start: datetime
    end: datetime


class ScheduleAnswer(Model):
    room: str
    room_kind: str = Field(description="Only a broadcast room records; for another kind the list is empty.")
    until: datetime = Field(description="The schedule covers sessions ending after now and starting before this.")
    sessions: list[ScheduledSession] = Field(description="Sessions to record in this room, by start.")


class CommandAck(Model):
    status: Literal["done", "failed"]
    detail: Text = ""


class CommandAckAnswer(Model):
    id: str
    status: Literal["done", "failed"]
