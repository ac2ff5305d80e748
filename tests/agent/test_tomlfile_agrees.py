"""Wherever the agent's settings reader accepts a text, it reads what tomllib (Python 3.11+) reads."""
from __future__ import annotations

import json
import tomllib

from hypothesis import given, settings
from hypothesis import strategies as st

from agents import tomlfile

keys = st.from_regex(r"[A-Za-z0-9_-]{1,12}", fullmatch=True)
strings = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)
scalars = st.one_of(st.integers(-10**12, 10**12), st.booleans(), strings,
                    st.floats(allow_nan=False, allow_infinity=False, width=64))


def spell(value, rng) -> str:
    """One TOML spelling of ``value``, picked with ``rng``: basic or literal strings, underscores, exponents."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        text = str(value)
        return text if rng.random() < 0.5 or abs(value) < 1000 else f"{value:_}"
    if isinstance(value, float):
        return repr(value) if "e" in repr(value) or "." in repr(value) else repr(value) + ".0"
    if isinstance(value, list):
        return "[" + ", ".join(spell(v, rng) for v in value) + ("," if value and rng.random() < 0.3 else "") + "]"
    if "'" not in value and rng.random() < 0.5 and all(c >= " " and c != "\x7f" or c == "\t" for c in value):
        return f"'{value}'"
    # JSON escapes controls as TOML does (\u001f, \n, \"), but for DEL, which TOML wants escaped too.
    return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(keys, st.one_of(scalars, st.lists(scalars, max_size=4)), max_size=6), st.randoms(),
       st.lists(st.sampled_from(["", "  # note", "\t"]), min_size=6, max_size=6))
def test_same_values_as_tomllib(document, rng, trailers):
    text = "\n".join(f"{key} = {spell(value, rng)}{trailers[n % 6]}" for n, (key, value) in enumerate(document.items()))
    assert tomlfile.loads(text) == tomllib.loads(text) == document
