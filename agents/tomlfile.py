"""The agent's settings file: the flat part of TOML, read the same way on every Python.

tomllib exists only from Python 3.11 and the agent runs on 3.8 (UOS 20, Kylin V10) with no
dependency beyond psutil and requests, so it reads what its settings need: comments and
``key = value`` lines, where a value is a string ("basic" or 'literal'), an integer, a float,
true/false, or a one-line array of those. Anything else (tables, dates, multi-line values) is
refused with the line number, never guessed. tests/agent/test_tomlfile.py checks it agrees
with tomllib on what both accept.
"""
from __future__ import annotations

import re
from typing import Any, Dict, List, Tuple

BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
INTEGER = re.compile(r"[+-]?(0|[1-9](_?[0-9])*)")
FLOAT = re.compile(r"[+-]?(0|[1-9](_?[0-9])*)(\.[0-9](_?[0-9])*)?([eE][+-]?[0-9](_?[0-9])*)?")
ESCAPES = {"b": "\b", "t": "\t", "n": "\n", "f": "\f", "r": "\r", '"': '"', "\\": "\\"}


class TomlError(ValueError):
    """The text is not the TOML the agent reads; the message names the line."""


def loads(text: str) -> Dict[str, Any]:
    """The settings in ``text``; a UTF-8 byte-order mark (Notepad adds one) is allowed."""
    values: Dict[str, Any] = {}
    for number, line in enumerate(text.lstrip("\ufeff").split("\n"), start=1):
        line = line.rstrip("\r")
        try:
            pos = _skip(line, 0)
            if pos == len(line):
                continue
            if line[pos] == "[":
                raise TomlError("tables ([...]) are not used in the agent's settings")
            key = BARE_KEY.match(line, pos)
            if not key:
                raise TomlError("expected `key = value`")
            pos = _skip(line, key.end(), comments=False)
            if not line.startswith("=", pos):
                raise TomlError(f"expected `=` after {key.group()}")
            value, pos = _value(line, _skip(line, pos + 1, comments=False))
            if _skip(line, pos) != len(line):
                raise TomlError("unexpected text after the value")
            if key.group() in values:
                raise TomlError(f"{key.group()} is set twice")
            values[key.group()] = value
        except TomlError as exc:
            raise TomlError(f"line {number}: {exc}") from None
    return values


def _skip(line: str, pos: int, comments: bool = True) -> int:
    """Past spaces and tabs, and past a comment to the end of the line when ``comments``."""
    while pos < len(line) and line[pos] in " \t":
        pos += 1
    if comments and line.startswith("#", pos):
        return len(line)
    return pos


def _value(line: str, pos: int) -> Tuple[Any, int]:
    if line.startswith('"""', pos) or line.startswith("'''", pos):
        raise TomlError("multi-line strings are not used in the agent's settings")
    if line.startswith('"', pos):
        return _basic_string(line, pos + 1)
    if line.startswith("'", pos):
        end = line.find("'", pos + 1)
        if end < 0:
            raise TomlError("a string in '...' is not closed")
        for char in line[pos + 1:end]:
            _printable(char)
        return line[pos + 1:end], end + 1
    if line.startswith("[", pos):
        return _array(line, pos + 1)
    for word, meaning in (("true", True), ("false", False)):
        if line.startswith(word, pos) and not BARE_KEY.match(line, pos + len(word)):
            return meaning, pos + len(word)
    number = FLOAT.match(line, pos)
    if number and not BARE_KEY.match(line, number.end()) and not line.startswith(".", number.end()):
        text = number.group().replace("_", "")
        whole = INTEGER.fullmatch(number.group())
        return (int(text) if whole else float(text)), number.end()
    raise TomlError("expected a value: a \"string\", a number, true, false or [a, list]")


def _basic_string(line: str, pos: int) -> Tuple[str, int]:
    out: List[str] = []
    while pos < len(line):
        char = line[pos]
        if char == '"':
            return "".join(out), pos + 1
        if char == "\\":
            code = line[pos + 1:pos + 2]
            if code in ESCAPES:
                out.append(ESCAPES[code])
                pos += 2
                continue
            if code in ("u", "U"):
                size = 4 if code == "u" else 8
                digits = line[pos + 2:pos + 2 + size]
                if len(digits) == size and re.fullmatch(r"[0-9A-Fa-f]+", digits):
                    value = int(digits, 16)
                    if value <= 0x10FFFF and not 0xD800 <= value <= 0xDFFF:
                        out.append(chr(value))
                        pos += 2 + len(digits)
                        continue
            raise TomlError("a backslash in \"...\" starts an unknown escape "
                            "(for a Windows path use '...', which keeps backslashes)")
        _printable(char)
        out.append(char)
        pos += 1
    raise TomlError('a string in "..." is not closed')


def _printable(char: str) -> None:
    if (char < " " and char != "\t") or char == "\x7f":
        raise TomlError("a control character in a string")


def _array(line: str, pos: int) -> Tuple[List[Any], int]:
    items: List[Any] = []
    while True:
        pos = _skip(line, pos, comments=False)
        if line.startswith("]", pos):
            return items, pos + 1
        if pos == len(line) or line.startswith("#", pos):
            raise TomlError("a list must close with ] on the same line in the agent's settings")
        item, pos = _value(line, pos)
        items.append(item)
        pos = _skip(line, pos, comments=False)
        if line.startswith(",", pos):
            pos += 1
        elif not line.startswith("]", pos):
            raise TomlError("expected , or ] in a list")
