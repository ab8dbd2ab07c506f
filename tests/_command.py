"""The `collabgap` command as the tests run it: `python -m collabgap.services` under the interpreter running the
tests, so a test never reaches another installation's `collabgap` on PATH."""

from __future__ import annotations

import sys

COLLABGAP = (sys.executable, "-m", "collabgap.services")
