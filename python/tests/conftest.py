import os
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def nw_binary():
    """The `nw` command line to compare against: $NW_BINARY, else the package's release build."""
    path = os.environ.get("NW_BINARY") or REPO / ".build" / "release" / "nw"
    if not Path(path).is_file():
        found = shutil.which("nw")
        if found is None:
            pytest.fail(f"no nw binary at {path}: build it with NW_TARGET_CPU=native swift build -c release --product nw")
        path = found
    return str(path)
