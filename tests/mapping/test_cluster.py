"""Properties of the cluster -> Namespace mapping (kecs.mapping.cluster)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kecs import arns, k8s_grammar
from kecs.backends.memory import MemoryBackend
from kecs.mapping import cluster as mapping
from kecs.mapping import labels
from tests.k8s_schema import validate_strict

names = st.from_regex(r"[A-Za-z0-9_-]{1,255}", fullmatch=True)
regions = st.from_regex(r"[a-z]{2}(-gov)?-[a-z]+-[0-9]", fullmatch=True)
accounts = st.from_regex(r"[0-9]{12}", fullmatch=True)
identities = st.tuples(accounts, regions, names)

_TAG_TEXT = st.text(alphabet=st.sampled_from("abcXYZ019 _.:/=+-@"), min_size=0, max_size=20)
tag_keys = st.one_of(
    _TAG_TEXT.filter(bool),
    st.sampled_from(
        ["kubernetes.io/name", "app.kubernetes.io/part-of", "kecs.dev/cluster", "k8s.io/x"]
    ),
)
tags = st.lists(
    st.fixed_dictionaries({"key": tag_keys, "value": _TAG_TEXT}),
    max_size=8,
    unique_by=lambda t: t["key"],
)
strategy_items = st.lists(
    st.fixed_dictionaries(
        {
            "capacityProvider": st.sampled_from(["FARGATE", "FARGATE_SPOT"]),
            "weight": st.integers(0, 1000),
            "base": st.integers(0, 100000),
        }
    ),
    max_size=2,
    unique_by=lambda i: i["capacityProvider"],
)
configurations = st.one_of(
    st.none(),
    st.fixed_dictionaries(
        {"executeCommandConfiguration": st.fixed_dictionaries({"logging": st.just("NONE")})},
        optional={"managedStorageConfiguration": st.just({"kmsKeyId": "key-1"})},
    ),
)


@st.composite
def specs(draw: st.DrawFn) -> mapping.ClusterSpec:
    account, region, name = draw(identities)
    return mapping.ClusterSpec(
        account=account,
        region=region,
        name=name,
        arn=arns.cluster(region, account, name),
        settings=[
            {
                "name": "containerInsights",
                "value": draw(st.sampled_from(["enabled", "disabled", "enhanced"])),
            }
        ],
        configuration=draw(configurations),
        service_connect_defaults=draw(
            st.one_of(st.none(), st.builds(lambda n: {"namespace": n}, names))
        ),
        capacity_providers=draw(st.sampled_from([[], ["FARGATE"], ["FARGATE", "FARGATE_SPOT"]])),
        default_capacity_provider_strategy=draw(strategy_items),
        tags=draw(tags),
    )


# -- names -------------------------------------------------------------------------------------


@settings(max_examples=300)
@given(identities)
def test_namespace_name_is_a_legal_dns_label(identity: tuple[str, str, str]) -> None:
    name = mapping.namespace_name(*identity)
    assert k8s_grammar.is_dns1123_label(name)
    assert len(name) <= 63
    assert mapping.namespace_name(*identity) == name  # deterministic


@settings(max_examples=100)
@given(st.lists(identities, min_size=2, max_size=30, unique=True))
def test_distinct_identities_never_share_a_namespace(batch: list[tuple[str, str, str]]) -> None:
    assert len({mapping.namespace_name(*identity) for identity in batch}) == len(batch)


@settings(max_examples=100)
@given(accounts, regions, names)
def test_names_differing_in_case_or_underscore_get_distinct_namespaces(
    account: str, region: str, name: str
) -> None:
    variants = {name, name.swapcase(), name.upper(), name.lower()}
    variants |= {v.replace("_", "-") for v in variants} | {v.replace("-", "_") for v in variants}
    namespaces = {mapping.namespace_name(account, region, v) for v in variants}
    assert len(namespaces) == len(variants)


@settings(max_examples=100)
@given(names, st.lists(regions, min_size=2, max_size=5, unique=True), accounts, accounts)
def test_same_name_in_other_regions_and_accounts_gets_other_namespaces(
    name: str, region_list: list[str], account_a: str, account_b: str
) -> None:
    identities_ = {(a, r) for a in (account_a, account_b) for r in region_list}
    namespaces = {mapping.namespace_name(a, r, name) for a, r in identities_}
    assert len(namespaces) == len(identities_)


@pytest.mark.parametrize(
    ("name", "readable_prefix"),
    [
        ("default", "default-"),
        ("My_Cluster", "my-cluster-"),
        ("___", "cluster-"),
        ("-", "cluster-"),
        ("x" * 255, "x" * 52 + "-"),
    ],
)
def test_namespace_name_keeps_a_readable_part(name: str, readable_prefix: str) -> None:
    namespace = mapping.namespace_name("000000000000", "us-east-1", name)
    assert namespace.startswith(readable_prefix)
    assert k8s_grammar.is_dns1123_label(namespace)


def test_the_seed_adr_naming_would_be_illegal() -> None:
    # docs/adr/0001: `<cluster>.<region>` contains a dot (and keeps upper case).
    assert not k8s_grammar.is_dns1123_label("My_Cluster.us-east-1")


@settings(max_examples=100)
@given(identities)
def test_tombstone_name_is_a_legal_configmap_name(identity: tuple[str, str, str]) -> None:
    assert k8s_grammar.is_dns1123_subdomain(mapping.tombstone_name(*identity))


@pytest.mark.parametrize("name", ["a", "default", "A-b_C", "x" * 255, "_", "-", "0"])
def test_legal_names(name: str) -> None:
    assert mapping.is_valid_name(name)


@pytest.mark.parametrize("name", ["", "x" * 256, "a.b", "a b", "ä", "a/b", "arn:aws:x"])
def test_illegal_names(name: str) -> None:
    assert not mapping.is_valid_name(name)


# -- objects -----------------------------------------------------------------------------------


def _assert_legal_metadata(obj: dict) -> None:
    meta = obj["metadata"]
    for key, value in meta["labels"].items():
        assert k8s_grammar.is_qualified_name(key), key
        assert k8s_grammar.is_label_value(value), value
    for key in meta["annotations"]:
        assert k8s_grammar.is_qualified_name(key), key


@settings(max_examples=60)
@given(specs())
def test_namespace_object_validates_and_round_trips(spec: mapping.ClusterSpec) -> None:
    obj = mapping.namespace_object(spec)
    validate_strict(obj)
    _assert_legal_metadata(obj)
    assert obj["metadata"]["name"] == mapping.namespace_name(spec.account, spec.region, spec.name)
    assert mapping.spec_from_object(obj) == spec
    # The one-annotation readers RunTask uses agree with the whole spec.
    assert mapping.default_strategy_of(obj) == spec.default_capacity_provider_strategy
    assert mapping.capacity_providers_of(obj) == spec.capacity_providers
    assert mapping.records(obj, spec.account, spec.region, spec.name)
    assert mapping.namespace_object(spec) == obj  # deterministic


@settings(max_examples=60)
@given(specs())
def test_labels_identify_and_tags_never_become_labels(spec: mapping.ClusterSpec) -> None:
    meta_labels = mapping.namespace_object(spec)["metadata"]["labels"]
    assert meta_labels == {
        labels.MANAGED_BY: "kecs",
        labels.RESOURCE: "cluster",
        labels.ACCOUNT: spec.account,
        labels.REGION: spec.region,
        labels.CLUSTER: meta_labels[labels.CLUSTER],
    }
    assert len(meta_labels[labels.CLUSTER]) <= 63
    if k8s_grammar.is_label_value(spec.name):
        assert meta_labels[labels.CLUSTER] == spec.name


@settings(max_examples=40)
@given(specs())
def test_the_embedded_api_server_accepts_the_objects(spec: mapping.ClusterSpec) -> None:
    backend = MemoryBackend()
    backend.create(mapping.namespace_object(spec))
    backend.create(
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": labels.SYSTEM_NAMESPACE}}
    )
    backend.create(mapping.tombstone_object(spec))


@settings(max_examples=60)
@given(specs())
def test_tombstone_validates_and_round_trips(spec: mapping.ClusterSpec) -> None:
    obj = mapping.tombstone_object(spec)
    validate_strict(obj)
    _assert_legal_metadata(obj)
    assert obj["metadata"]["namespace"] == labels.SYSTEM_NAMESPACE
    assert obj["metadata"]["labels"][labels.STATUS] == "INACTIVE"
    assert mapping.spec_from_object(obj) == spec


def test_spec_from_an_unrelated_namespace_is_refused() -> None:
    with pytest.raises(ValueError, match="does not record an ECS cluster"):
        mapping.spec_from_object({"metadata": {"name": "kube-system", "labels": {}}})


def test_records_tells_clusters_apart() -> None:
    spec = mapping.ClusterSpec("000000000000", "us-east-1", "a", "arn")
    obj = mapping.namespace_object(spec)
    assert mapping.records(obj, "000000000000", "us-east-1", "a")
    assert not mapping.records(obj, "000000000000", "us-east-1", "A")
    assert not mapping.records(obj, "111111111111", "us-east-1", "a")
    assert not mapping.records(obj, "000000000000", "eu-west-1", "a")


# -- isolation ---------------------------------------------------------------------------------

quantities = st.from_regex(r"[0-9]{1,4}(\.[0-9]{1,2})?(m|Ki|Mi|Gi|k|M|G)?", fullmatch=True)


@settings(max_examples=60)
@given(
    specs(),
    st.integers(0, 10**6),
    st.one_of(st.none(), quantities),
    st.one_of(st.none(), quantities),
)
def test_isolation_objects_validate(
    spec: mapping.ClusterSpec, pods: int, cpu: str | None, memory: str | None
) -> None:
    extra = [{"key": "kecs:isolation", "value": "enabled"}]
    extra.append({"key": "kecs:quota-pods", "value": str(pods)})
    if cpu is not None:
        extra.append({"key": "kecs:quota-cpu", "value": cpu})
    if memory is not None:
        extra.append({"key": "kecs:quota-memory", "value": memory})
    user_tags = [t for t in spec.tags if t["key"] not in mapping.ISOLATION_TAGS]
    isolated = mapping.ClusterSpec(**{**spec.__dict__, "tags": user_tags + extra})
    quota, policy = mapping.isolation_objects(isolated)
    for obj in (quota, policy):
        validate_strict(obj)
        _assert_legal_metadata({**obj, "metadata": {**obj["metadata"], "annotations": {}}})
        assert obj["metadata"]["namespace"] == mapping.namespace_name(
            spec.account, spec.region, spec.name
        )
    hard = quota["spec"]["hard"]
    assert hard["pods"] == str(pods)
    assert hard.get("requests.cpu") == cpu
    assert hard.get("requests.memory") == memory


def test_isolation_is_off_by_default() -> None:
    spec = mapping.ClusterSpec("000000000000", "us-east-1", "a", "arn")
    assert mapping.isolation_objects(spec) == []
    off = mapping.ClusterSpec(
        "000000000000",
        "us-east-1",
        "a",
        "arn",
        tags=[{"key": "kecs:isolation", "value": "disabled"}],
    )
    assert mapping.isolation_objects(off) == []


def test_isolation_defaults_and_network_policy() -> None:
    spec = mapping.ClusterSpec(
        "000000000000",
        "us-east-1",
        "a",
        "arn",
        tags=[{"key": "kecs:isolation", "value": "enabled"}],
    )
    quota, policy = mapping.isolation_objects(spec)
    assert quota["spec"] == {"hard": {"pods": mapping.DEFAULT_QUOTA_PODS}}
    assert policy["spec"]["podSelector"] == {}
    assert policy["spec"]["policyTypes"] == ["Ingress"]
    sources = policy["spec"]["ingress"][0]["from"]
    assert {"podSelector": {}} in sources
    assert {
        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kecs-system"}}
    } in sources
    # Each object has its own metadata (no shared dicts between them).
    quota["metadata"]["labels"]["x"] = "y"
    assert "x" not in policy["metadata"]["labels"]


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("kecs:isolation", "yes"),
        ("kecs:isolation", "Enabled"),
        ("kecs:quota-pods", "-1"),
        ("kecs:quota-pods", "ten"),
        ("kecs:quota-cpu", "-2"),
        ("kecs:quota-cpu", "two"),
        ("kecs:quota-memory", "1Gb"),
    ],
)
def test_bad_isolation_tag_values_are_refused(key: str, value: str) -> None:
    with pytest.raises(ValueError, match=key):
        mapping.isolation_from_tags([{"key": key, "value": value}])
