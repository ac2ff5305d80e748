"""EduOps classroom agent: reports terminal and network health to the hub; imports nothing from eduops.

Its own distribution, `eduops-agent` (agents/pyproject.toml). This file must parse and run on old
Pythons too, so that a terminal with Python 3.7 hears why rather than a syntax error.
"""
import sys

__version__ = "0.2.0"

if sys.version_info < (3, 8):
    sys.exit("eduops-agent: Python 3.8 or later needed; this is Python %d.%d (%s). "
             "Install Python 3.8 or later, see docs/agent.md." % (sys.version_info[0], sys.version_info[1],
                                                                 sys.executable))
