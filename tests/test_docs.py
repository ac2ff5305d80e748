"""Docs stay true to the code: every command, option, setting and text is documented or translated."""
from pathlib import Path

import click
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from eduops.cli import main
from eduops.config import SETTINGS

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE = ROOT / "eduops/translations/zh_Hans_CN/LC_MESSAGES"


def _commands(group: click.Group, prefix: str = "eduops"):
    """Every command and subcommand, with its full name."""
    for name, command in group.commands.items():
        yield f"{prefix} {name}", command
        if isinstance(command, click.Group):
            yield from _commands(command, f"{prefix} {name}")


def test_every_command_is_in_the_readme_and_every_option_has_help():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for name, command in _commands(main):
        assert f"`{name}" in readme, f"`{name}` is not in README.md"
        assert command.help and "Example:" in command.help, f"`{name}` has no example in its help"
        for param in command.params:
            if isinstance(param, click.Option):
                assert param.help, f"`{name} {param.opts[0]}` has no help text"


def test_every_setting_is_in_the_configuration_reference():
    reference = (ROOT / "docs/configuration.md").read_text(encoding="utf-8")
    for name, f in SETTINGS.items():
        assert f"| `{name}` | `EDUOPS_{name.upper()}` |" in reference, f"{name} is not documented"
        assert f.metadata["help"] in reference, f"{name}'s help differs from docs/configuration.md"


def test_every_page_text_has_a_chinese_translation_and_the_catalogue_is_compiled():
    with open(CATALOGUE / "messages.po", "rb") as fh:
        po = read_po(fh)
    with open(CATALOGUE / "messages.mo", "rb") as fh:
        mo = read_mo(fh)
    method_map = [("eduops/**.py", "python"), ("eduops/templates/**.html", "jinja2")]
    used = {msg[2] if isinstance(msg[2], str) else msg[2][0]
            for msg in extract_from_dir(str(ROOT), method_map=method_map)}
    untranslated = sorted(m for m in used if not (po.get(m) and po.get(m).string))
    assert not untranslated, f"texts without a Chinese translation: {untranslated}"
    stale = sorted(m.id for m in po if m.id and (mo.get(m.id) is None or mo.get(m.id).string != m.string))
    assert not stale, f"messages.mo is stale; run pybabel compile: {stale}"
