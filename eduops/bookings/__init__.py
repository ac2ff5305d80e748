"""Sky classroom booking: sessions across rooms, receivers and network capacity (docs/bookings.md)."""
from __future__ import annotations

from datetime import timedelta

from eduops.config import Config
from scheduler import timetable
from scheduler.bookings import Rules


def rules_of(config: Config) -> Rules:
    """The booking rules this hub's configuration sets."""
    return Rules(timetable=timetable.Timetable.parse(config.timezone, config.class_hours, config.school_days,
                                                     config.holidays),
                 hours=timetable.parse_class_hours(config.booking_hours),
                 buffer=timedelta(minutes=config.booking_setup_buffer_minutes),
                 min_length=timedelta(minutes=config.booking_min_minutes),
                 max_length=timedelta(minutes=config.booking_max_minutes),
                 stream_mbps=config.stream_mbps, live_share=config.live_share,
                 county_mbps=config.county_stream_mbps, terms=timetable.parse_holidays(config.terms),
                 approval_required=config.approval_required,
                 approval_deadline=timedelta(hours=config.approval_deadline_h))
