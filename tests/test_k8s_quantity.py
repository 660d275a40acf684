"""kecs.k8s_quantity: quantities and a pod's effective requests, as Kubernetes counts them."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kecs import k8s_quantity


@pytest.mark.parametrize(
    ("text", "milli"),
    [
        ("250m", 250),
        ("1", 1000),
        ("1.5", 1500),
        ("512Mi", 512 * 2**20 * 1000),
        ("1e3", 1_000_000),
        ("1k", 1_000_000),
        ("0.1m", 1),  # rounded up, as MilliValue() does
        (2, 2000),
    ],
)
def test_milli(text: str | int, milli: int) -> None:
    assert k8s_quantity.milli(text) == milli


@pytest.mark.parametrize("bad", ["", "1.2.3", "12Q", "Mi", True])
def test_malformed_quantities(bad: object) -> None:
    with pytest.raises(ValueError):
        k8s_quantity.milli(bad)  # type: ignore[arg-type]
    assert k8s_quantity.milli_or_zero(bad) == 0


@given(st.integers(min_value=0, max_value=10**9))
def test_millicores_round_trip(n: int) -> None:
    assert k8s_quantity.milli(f"{n}m") == n


def test_pod_requests_count_sidecars_and_the_init_peak() -> None:
    def container(cpu: str, **extra: str) -> dict[str, object]:
        return {"name": "c", "resources": {"requests": {"cpu": cpu}}, **extra}

    spec = {
        "containers": [container("100m"), container("200m")],
        "initContainers": [
            container("50m", restartPolicy="Always"),  # native sidecar: runs alongside
            container("1"),  # plain init container: runs alone (with the sidecar)
        ],
        "overhead": {"cpu": "10m"},
    }
    # max(regular 300m + sidecar 50m, init 1000m + sidecar 50m) + overhead 10m
    assert k8s_quantity.pod_requests(spec) == {"cpu": 1060}


def test_limits_stand_in_for_missing_requests() -> None:
    spec = {"containers": [{"name": "c", "resources": {"limits": {"memory": "1Mi"}}}]}
    assert k8s_quantity.pod_requests(spec) == {"memory": 2**20 * 1000}


def test_resource_map_skips_what_is_not_a_quantity() -> None:
    assert k8s_quantity.resource_map({"cpu": "250m", "memory": "1Mi"}) == {
        "cpu": 250,
        "memory": 2**20 * 1000,
    }
    assert k8s_quantity.resource_map({"cpu": "250m", "memory": "lots", "gpu": None}) == {"cpu": 250}
    assert k8s_quantity.resource_map(None) == {}
