from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.cannedhub import CannedHub

DATA = Path(__file__).resolve().parent.parent / "data" / "agent"


@pytest.fixture
def canned_hub():
    hub = CannedHub()
    yield hub
    hub.close()
