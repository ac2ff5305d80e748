"""What the delivered figures' page, workbook and API share: the term and kind asked for, and the
figures of the schools the signed-in user may see (school_scope: IT staff and teachers their own)."""
from __future__ import annotations

from datetime import date
from typing import Any, Mapping

from flask_babel import gettext as _

from eduops import ctx
from eduops.auth import current_user, school_scope
from eduops.bookings import labels as booking_labels
from eduops.clock import local_day
from eduops.ctx import get_db, hub_config
from eduops.delivery import figures
from eduops.errors import Invalid
from scheduler.timetable import parse_holidays


def terms() -> list[figures.Term]:
    return [figures.Term(*t) for t in parse_holidays(hub_config().terms)]


def chosen(args: Mapping[str, str]) -> tuple[figures.Term, str | None]:
    """The term and kind asked for (default: the current term, every kind); 400 on anything else."""
    asked, kind = args.get("term", "").strip(), args.get("kind", "").strip() or None
    if kind is not None and kind not in booking_labels.kinds():
        raise Invalid(_("Unknown kind %(kind)s.", kind=kind), code="invalid")
    if asked:
        first, _sep, last = asked.partition("..")
        try:
            term = figures.Term(date.fromisoformat(first), date.fromisoformat(last))
        except ValueError:
            raise Invalid(_("A term is two dates, such as 2026-09-01..2027-01-22."), code="invalid") from None
        if term.last < term.first:
            raise Invalid(_("A term is two dates, such as 2026-09-01..2027-01-22."), code="invalid")
        return term, kind
    today = date.fromisoformat(local_day(ctx.now(), hub_config().timezone))
    term = figures.current_term(tuple((t.first, t.last) for t in terms()), today)
    return term or figures.Term(today.replace(month=1, day=1), today), kind


def scoped_figures(term: figures.Term, kind: str | None) -> dict[str, Any]:
    """The term's figures of the schools the signed-in user may see."""
    return figures.figures(get_db(), term, hub_config().timezone, kind, school_scope(current_user()))
