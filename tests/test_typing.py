"""mypy --strict over the whole code base, as a test: 'mypy-clean' stays true."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import REPO


def test_the_code_base_type_checks() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--no-error-summary"],
        cwd=REPO, capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
