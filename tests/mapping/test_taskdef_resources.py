"""Example and property tests: CPU/memory units and how task sizes are spread."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kecs.mapping import resources as r
from tests.mapping.helpers import container, has_note, notes_of, spec


@pytest.mark.parametrize(
    ("units", "quantity"),
    [(256, "250m"), (1024, "1"), (512, "500m"), (128, "125m"), (100, "98m"), (4096, "4")],
)
def test_cpu_units_to_quantity(units: int, quantity: str) -> None:
    assert r.cpu_quantity(r.cpu_millicores(units)) == quantity


@given(st.integers(1, 2**20))
def test_cpu_round_trips_for_multiples_of_128(k: int) -> None:
    units = 128 * k
    assert r.cpu_millicores(units) * 1024 == units * 1000
    assert r.cpu_units(r.cpu_millicores(units)) == units


@given(st.integers(1, 2**24))
def test_cpu_never_understated(units: int) -> None:
    assert r.cpu_millicores(units) * 1024 >= units * 1000


@pytest.mark.parametrize(
    ("text", "units"),
    [
        ("1024", 1024),
        ("1 vCPU", 1024),
        ("1vCPU", 1024),
        (".25 vcpu", 256),
        ("0.5 vCPU", 512),
        ("2 vcpus", 2048),
        (" 256 ", 256),
    ],
)
def test_task_cpu_strings(text: str, units: int) -> None:
    assert r.parse_task_cpu(text) == units


@pytest.mark.parametrize("text", ["", "abc", "0", "-1", "1.5", "1 GHz", "nan", "1e3"])
def test_task_cpu_rejects(text: str) -> None:
    assert r.parse_task_cpu(text) is None


@pytest.mark.parametrize(
    ("text", "mib"),
    [
        ("2048", 2048),
        ("2GB", 2048),
        ("2 GB", 2048),
        ("0.5GB", 512),
        ("512MB", 512),
        ("1GiB", 1024),
        ("512 MiB", 512),
    ],
)
def test_task_memory_strings(text: str, mib: int) -> None:
    assert r.parse_task_memory(text) == mib


@pytest.mark.parametrize("text", ["", "x", "0", "0.1GB", "1TB", "-512"])
def test_task_memory_rejects(text: str) -> None:
    assert r.parse_task_memory(text) is None


@given(st.integers(1, 2**20))
def test_task_strings_round_trip(n: int) -> None:
    assert r.parse_task_cpu(str(n)) == n
    assert r.parse_task_memory(str(n)) == n
    assert r.parse_task_memory(f"{n}GB") == n * 1024
    assert r.parse_task_cpu(f"{n} vCPU") == n * 1024


def test_container_cpu_and_memory() -> None:
    c = container({"cpu": 256, "memory": 512, "memoryReservation": 256})
    assert c["resources"] == {
        "requests": {"cpu": "250m", "memory": "256Mi"},
        "limits": {"memory": "512Mi"},
    }


def test_cpu_zero_is_unset_and_reservation_is_clamped() -> None:
    assert "resources" not in container({"cpu": 0})
    c = container({"memory": 256, "memoryReservation": 512})
    assert c["resources"]["requests"]["memory"] == "256Mi"
    assert has_note(
        notes_of({"memory": 256, "memoryReservation": 512}),
        "containerDefinitions[0].memoryReservation",
    )


def test_single_container_gets_the_task_size_exactly() -> None:
    notes = notes_of({}, cpu="1 vCPU", memory="2GB")
    c = container({}, cpu="1 vCPU", memory="2GB")
    assert c["resources"] == {
        "requests": {"cpu": "1", "memory": "2048Mi"},
        "limits": {"cpu": "1", "memory": "2048Mi"},
    }
    assert not has_note(notes, "cpu") and not has_note(notes, "memory")


def test_task_size_is_shared_by_containers_without_their_own() -> None:
    s = spec({"cpu": 256, "memory": 256}, {"memoryReservation": 128}, {}, cpu="1024", memory="1024")
    app, sidecar, other = s["containers"]
    assert app["resources"] == {"requests": {"cpu": "250m"}, "limits": {"memory": "256Mi"}}
    # 1000m - 250m left for two containers; 1024 - 256 - 128 MiB left for two.
    assert sidecar["resources"]["limits"] == {"cpu": "375m", "memory": f"{128 + 320}Mi"}
    assert sidecar["resources"]["requests"] == {"cpu": "375m", "memory": "128Mi"}
    assert other["resources"]["limits"] == {"cpu": "375m", "memory": "320Mi"}
    notes = notes_of(
        {"cpu": 256, "memory": 256}, {"memoryReservation": 128}, {}, cpu="1024", memory="1024"
    )
    assert has_note(notes, "cpu", "even share") and has_note(notes, "memory", "even share")


def test_task_size_not_enforced_when_containers_set_their_own() -> None:
    notes = notes_of({"cpu": 512, "memory": 512}, cpu="512", memory="512")
    assert has_note(notes, "cpu", "not enforced") and has_note(notes, "memory", "not enforced")


def test_unparseable_task_sizes_are_noted() -> None:
    notes = notes_of({}, cpu="lots", memory="${MEMORY}")
    assert has_note(notes, "cpu", "not a CPU amount") and has_note(
        notes, "memory", "not a memory amount"
    )


def test_ephemeral_storage() -> None:
    assert container({}, ephemeralStorage={"sizeInGiB": 30})["resources"]["limits"] == {
        "ephemeral-storage": "30Gi"
    }
    a, b = spec({}, {}, ephemeralStorage={"sizeInGiB": 21})["containers"]
    assert (
        a["resources"]["limits"]["ephemeral-storage"]
        == "10752Mi"
        == b["resources"]["limits"]["ephemeral-storage"]
    )


def test_accelerators() -> None:
    c = container(
        {
            "resourceRequirements": [
                {"type": "GPU", "value": "2"},
                {"type": "InferenceAccelerator", "value": "d1"},
            ]
        }
    )
    assert c["resources"]["limits"] == {"nvidia.com/gpu": "2"}
    notes = notes_of(
        {
            "resourceRequirements": [
                {"type": "InferenceAccelerator", "value": "d1"},
                {"type": "GPU", "value": "x"},
            ]
        }
    )
    assert has_note(
        notes, "containerDefinitions[0].resourceRequirements[0]", "no Kubernetes counterpart"
    )
    assert has_note(
        notes, "containerDefinitions[0].resourceRequirements[1]", "not a positive integer"
    )
    neuron = container({"resourceRequirements": [{"type": "NeuronDevice", "value": "1"}]})
    assert neuron["resources"]["limits"] == {"aws.amazon.com/neuron": "1"}
