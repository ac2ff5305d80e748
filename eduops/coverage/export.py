"""The gap list as procurement wants it: an XLSX workbook or a CSV file that Excel opens in Chinese."""
from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from flask_babel import get_locale
from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from eduops.coverage import labels, report
from eduops.coverage.figures import MEASURES
from eduops.coverage.gaps import Gap


def headers() -> list[str]:
    short = labels.short_measures()
    return [_("Area"), _("Township"), _("School code"), _("School"), _("Stage"), _("Small-scale school"),
            _("Class code"), _("Class"), _("Room")] + [short[m] for m in MEASURES]


def rows(found: Sequence[Gap], rep: report.CoverageReport) -> list[list[str]]:
    """One row per class or school; a measure's cell says what is wrong with it, empty when nothing."""
    area_names = {a["code"]: rep.names("area", a["code"]) for a in rep.areas}
    chinese = str(get_locale()).startswith("zh")
    stages, statuses = labels.stages(), labels.statuses()
    out = []
    for gap in found:
        s, c = gap.school, gap.school_class
        room = rep.rooms.get(c.room_code or "") if c else None
        area = area_names[s.area_code]["name" if chinese else "name_en"]
        out.append([area, rep.townships[s.township_code]["name"], s.code, s.name, stages[s.stage],
                    _("yes") if s.small_scale else _("no"), c.code if c else "", c.name if c else "",
                    room.name if room else ""] + [statuses.get(gap.missing.get(m, ""), "") for m in MEASURES])
    return out


def to_csv(found: Sequence[Gap], rep: report.CoverageReport) -> bytes:
    """UTF-8 with a byte-order mark, which tells Excel the file is not in the local code page."""
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(headers())
    writer.writerows(rows(found, rep))
    return text.getvalue().encode("utf-8-sig")


def to_xlsx(found: Sequence[Gap], rep: report.CoverageReport) -> bytes:
    """Schools to keep on the first sheet, small-scale schools (measure four) on their own."""
    book = Workbook()
    book.remove(book.active)
    for title, part in ((_("Gaps"), [g for g in found if not g.school.small_scale]),
                        (_("Small-scale schools"), [g for g in found if g.school.small_scale])):
        sheet = book.create_sheet(title)
        sheet.append(headers())
        for row in rows(part, rep):
            sheet.append(row)
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        sheet.freeze_panes = "A2"
        sheet.auto_filter.ref = sheet.dimensions
        for n, width in enumerate([10, 12, 10, 24, 12, 8, 14, 16, 14] + [12] * len(MEASURES), start=1):
            sheet.column_dimensions[get_column_letter(n)].width = width
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
