"""UTC time as the agent stores and sends it; the hub shows it in Asia/Shanghai."""
from datetime import datetime, timezone


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def to_iso(moment: datetime) -> str:
    """``2026-11-29T06:00:00.123Z``: UTC with milliseconds, as protocol v1 asks."""
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def from_iso(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
