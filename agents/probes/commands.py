"""Run the OS's own tools (ping, iw, netsh, ipconfig) for probes: a timeout always, text or None."""
from __future__ import annotations

import subprocess
import sys
from typing import Callable, Optional, Sequence

# Windows consoles print in the OEM code page (cp936 on Chinese Windows), not UTF-8.
CONSOLE_ENCODING = "oem" if sys.platform == "win32" else "utf-8"
# Without it every probe would flash a console window on the teacher's screen.
NO_WINDOW = getattr(subprocess, "CREATE_NO_WINDOW", 0)

Runner = Callable[[Sequence[str], float], Optional[str]]


def decode_output(data: bytes, encoding: str = CONSOLE_ENCODING) -> str:
    return data.decode(encoding, errors="replace")


def run(args: Sequence[str], timeout: float) -> str | None:
    """The command's standard output, or None when it is missing, cannot start or runs too long.

    A non-zero exit still returns the output: ping exits 1 when every probe is lost,
    and that output is the measurement.
    """
    try:
        done = subprocess.run(list(args), capture_output=True, timeout=timeout,
                              stdin=subprocess.DEVNULL, creationflags=NO_WINDOW)
    except (OSError, subprocess.SubprocessError):
        return None
    return decode_output(done.stdout)
