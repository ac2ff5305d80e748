"""The delivered figures as a workbook for the county's reports, one row per township, like the gap list."""
from __future__ import annotations

import io
from typing import Any

from flask_babel import get_locale
from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from eduops.delivery.figures import COLUMNS


def headers() -> list[str]:
    return [_("Area"), _("Township"), _("Sessions held"), _("Hours delivered"), _("Schools reached"),
            _("Rural schools reached"), _("Training attendances")]


def rows(found: dict[str, Any]) -> list[list[Any]]:
    """Each township, then its area's total, then the county's."""
    chinese = str(get_locale()).startswith("zh")
    out: list[list[Any]] = []
    for area in found["areas"]:
        name = area["name_zh"] if chinese else area["name_en"]
        out += [[name, t["township"]] + [t[c] for c in COLUMNS] for t in area["townships"]]
        out.append([name, _("Area total")] + [area[c] for c in COLUMNS])
    out.append([_("County"), ""] + [found["county"][c] for c in COLUMNS])
    return out


def to_xlsx(found: dict[str, Any]) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = _("Sky classroom delivered")
    sheet.append([_("Term"), found["term"]])
    sheet.append([])
    sheet.append(headers())
    for row in rows(found):
        sheet.append(row)
    for cell in sheet[3]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A4"
    for n, width in enumerate([12, 14, 12, 12, 12, 14, 14], start=1):
        sheet.column_dimensions[get_column_letter(n)].width = width
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
