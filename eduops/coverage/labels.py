"""Names of coverage's measures, gap statuses, stages and disagreements in the reader's language."""
from __future__ import annotations

from flask_babel import gettext as _


def measures() -> dict[str, str]:
    return {"class_terminal": _("Teaching terminal in the class"), "class_wired": _("Wired network to the class"),
            "class_wireless": _("Wireless network to the class"), "school_wired": _("Wired uplink of the school"),
            "school_wireless": _("Wireless network of the school")}


def short_measures() -> dict[str, str]:
    """Column headings where space is short (tables, spreadsheets)."""
    return {"class_terminal": _("Terminal"), "class_wired": _("Wired"), "class_wireless": _("Wireless"),
            "school_wired": _("School uplink"), "school_wireless": _("School Wi-Fi")}


def statuses() -> dict[str, str]:
    return {"missing": _("missing"), "unobserved": _("not observed")}


def bases() -> dict[str, str]:
    return {"inventory": _("Inventory"), "observed": _("Observed")}


def stages() -> dict[str, str]:
    return {"kindergarten": _("Kindergarten"), "primary": _("Primary school"), "junior": _("Junior secondary"),
            "senior": _("Senior secondary"), "complete": _("Complete secondary"), "vocational": _("Vocational"),
            "special": _("Special education")}


def terminal_kinds() -> dict[str, str]:
    return {"interactive_display": _("Interactive display"), "all_in_one": _("All-in-one machine"),
            "projector": _("Projector"), "pc": _("Computer")}


def agent_states() -> dict[str, str]:
    return {"online": _("online"), "stale": _("stale"), "offline": _("offline"),
            "expected_off": _("off as expected"), "retired": _("retired")}


def disagreements() -> dict[str, str]:
    return {"terminal_unseen": _("The inventory lists a terminal, but no agent ever reported from the room"),
            "agent_unlisted": _("An agent reports from a room where the inventory lists no terminal"),
            "terminal_retired": _("The inventory lists a terminal that was retired"),
            "wifi_unseen": _("The inventory says the school has Wi-Fi, but its agents never saw its SSID")}


def all_labels() -> dict[str, dict[str, str]]:
    """Every table of names, for templates."""
    return {"measures": measures(), "short": short_measures(), "statuses": statuses(), "bases": bases(),
            "stages": stages(), "disagreements": disagreements(), "terminal_kinds": terminal_kinds(),
            "agent_states": agent_states()}
