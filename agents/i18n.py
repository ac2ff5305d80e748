"""The agent's own words in Chinese on a Chinese system, English otherwise (standard-library gettext).

The language is read once, when the agent starts: from LANGUAGE, LC_ALL, LC_MESSAGES or LANG as
gettext does (systemd passes the system locale to services), else on Windows from the user
interface language, which a scheduled task running as SYSTEM has too. Message ids are English;
the Chinese catalogue is agents/locale/zh_CN/LC_MESSAGES/eduops-agent.po, compiled to .mo beside
it (see docs/development.md, Translations).
"""
from __future__ import annotations

import gettext
import os
import sys
from pathlib import Path

DOMAIN = "eduops-agent"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
# Windows LANGID's primary language for Chinese (zh-CN 0x0804, zh-TW 0x0404, ...).
LANG_CHINESE = 0x04


def system_language() -> str:
    """The language this process should speak: ``zh_CN`` for any Chinese locale, else ``en``."""
    for variable in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(variable)
        if value:
            return "zh_CN" if value.split(":")[0].lower().startswith("zh") else "en"
    if sys.platform == "win32":
        import ctypes

        ui_language = ctypes.windll.kernel32.GetUserDefaultUILanguage()
        return "zh_CN" if ui_language & 0x3FF == LANG_CHINESE else "en"
    return "en"


def catalogue(language: str) -> gettext.NullTranslations:
    if language == "en":
        return gettext.NullTranslations()
    return gettext.translation(DOMAIN, str(LOCALE_DIR), languages=[language])


_catalogue = catalogue(system_language())


def use(language: str) -> None:
    """Speak ``language`` (``zh_CN`` or ``en``) from now on; for tests and the demo's agents."""
    global _catalogue
    _catalogue = catalogue(language)


def _(message: str) -> str:
    return _catalogue.gettext(message)
