"""kecs's pytest plugin (registered as the ``pytest11`` entry point ``kecs``).

Fixtures, each fresh for every test:

``kecs_backend``
    a new embedded world (:class:`kecs.MemoryBackend`);
``kecs_region``
    the region ``ecs_client`` uses: ``"us-east-1"``; override the fixture to change it;
``ecs_client``
    ``kecs.client("ecs")`` on ``kecs_backend``;
``kecs_mock``
    ``kecs.mock()`` on ``kecs_backend``, active for the test: ``boto3.client("ecs")`` and
    friends made during the test are answered by kecs.

Marker ``@pytest.mark.kecs`` (on a test, class or module: ``pytestmark = pytest.mark.kecs``)
applies ``kecs_mock`` before the test's other function-scoped fixtures run; its keyword
``account_id=`` sets the mock's account.

Nothing is imported from kecs until a fixture is used, so the plugin costs a project that
has kecs installed nothing. Disable it with ``-p no:kecs``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from kecs.backends.base import Backend
    from kecs.mock import EcsMock

MARKER = "kecs"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(account_id=None): answer boto3/botocore ECS clients made during the test "
        "from kecs (the kecs_mock fixture)",
    )


@pytest.fixture
def kecs_backend() -> Backend:
    """A fresh embedded Kubernetes world for this test."""
    from kecs.backends.memory import MemoryBackend

    return MemoryBackend()


@pytest.fixture
def kecs_region() -> str:
    """The region of ``ecs_client``; override this fixture to pick another."""
    return "us-east-1"


@pytest.fixture
def ecs_client(kecs_backend: Backend, kecs_region: str) -> Any:
    """A botocore ECS client answered by kecs on ``kecs_backend``."""
    import kecs

    return kecs.client("ecs", region_name=kecs_region, backend=kecs_backend)


@pytest.fixture
def kecs_mock(request: pytest.FixtureRequest, kecs_backend: Backend) -> Iterator[EcsMock]:
    """``kecs.mock()`` on ``kecs_backend`` for the duration of the test."""
    from kecs.mock import EcsMock

    marker = request.node.get_closest_marker(MARKER)
    options = dict(marker.kwargs) if marker is not None else {}
    with EcsMock(kecs_backend, account_id=options.get("account_id")) as mock:
        yield mock


@pytest.fixture(autouse=True)
def _kecs_marker(request: pytest.FixtureRequest) -> None:
    # Autouse fixtures are set up first, so the mock is active before the test's own
    # fixtures make their clients.
    if request.node.get_closest_marker(MARKER) is not None:
        request.getfixturevalue("kecs_mock")
