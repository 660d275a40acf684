"""Shared pytest configuration: hypothesis profiles.

``HYPOTHESIS_PROFILE=ci`` (set automatically when ``CI`` is set) derandomizes runs so CI is
reproducible; no profile has a deadline because the test machines are shared and slow.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile("dev", deadline=None)
settings.register_profile(
    "ci",
    deadline=None,
    derandomize=True,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))

# Backend targets (memory, k8s-http, k8s-real) for tests that take the ``backend`` fixture and
# opt in with ``@pytest.mark.backends(...)``; see tests/targets.py.
from tests.targets import backend, backend_target, pytest_configure, pytest_generate_tests  # noqa: E402,F401
