"""Languages: Simplified Chinese by default, English on request, through Babel catalogues.

Message ids are English; ``eduops/translations/zh_Hans_CN`` holds the Chinese.
Update after changing texts (see docs/development.md):
``pybabel extract -F babel.cfg -o eduops/translations/messages.pot . &&
pybabel update -i eduops/translations/messages.pot -d eduops/translations &&
pybabel compile -d eduops/translations``.
"""
from __future__ import annotations

from flask import Blueprint, Flask, current_app, redirect, request, url_for
from flask_babel import Babel, format_datetime

from eduops.clock import from_iso

LANGUAGES = {"zh_Hans_CN": "中文", "en": "English"}
DEFAULT = "zh_Hans_CN"
COOKIE = "lang"

bp = Blueprint("i18n", __name__)


def select_locale() -> str:
    chosen = request.args.get("lang") or request.cookies.get(COOKIE)
    return chosen if chosen in LANGUAGES else DEFAULT


@bp.get("/lang/<code>")
def switch(code: str):
    """Remember the chosen language in a cookie and go back to the page the user was on."""
    target = request.referrer if request.referrer and request.referrer.startswith(request.host_url) \
        else url_for("pages.index")
    response = redirect(target)
    if code in LANGUAGES:
        response.set_cookie(COOKIE, code, max_age=365 * 86400, samesite="Lax", httponly=True)
    return response


@bp.app_template_filter("local_time")
def local_time(iso: str | None) -> str:
    """A stored UTC time as the county reads it (Asia/Shanghai, the Babel time zone): the one way pages show time."""
    return format_datetime(from_iso(iso), "yyyy-MM-dd HH:mm") if iso else "–"


def init_app(app: Flask) -> None:
    app.config["BABEL_DEFAULT_LOCALE"] = DEFAULT
    app.config["BABEL_DEFAULT_TIMEZONE"] = app.config["EDUOPS"].timezone
    Babel(app, locale_selector=select_locale)
    app.register_blueprint(bp)

    @app.context_processor
    def languages():
        return {"languages": LANGUAGES, "current_language": select_locale(),
                "county_name": current_app.config["EDUOPS"].county_name,
                "demo_mode": current_app.config["EDUOPS"].demo}
