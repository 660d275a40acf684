"""Account settings through the boto3-style client (kecs.operations.account_settings)."""

from __future__ import annotations

import json
from typing import Any

import pytest

import kecs
from kecs.backends import kinds
from kecs.backends.memory import MemoryBackend
from kecs.mapping import labels
from kecs.operations.account_settings import SETTINGS

ACCOUNT = "000000000000"
REGION = "us-east-1"
ROOT = f"arn:aws:iam::{ACCOUNT}:root"
USER = f"arn:aws:iam::{ACCOUNT}:user/alice"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/deployer"


@pytest.fixture
def backend() -> MemoryBackend:
    return MemoryBackend(nodes=0)


@pytest.fixture
def ecs(backend: MemoryBackend) -> Any:
    return kecs.client("ecs", region_name=REGION, backend=backend)


def records(backend: MemoryBackend) -> list[dict[str, Any]]:
    return backend.list_all(
        kinds.CONFIG_MAP, labels.SYSTEM_NAMESPACE, selector={labels.RESOURCE: "account-settings"}
    )


def test_the_names_are_botocores() -> None:
    from kecs.api.service_model import service_model

    assert list(SETTINGS) == service_model().shape_for("SettingName").enum


def test_effective_settings_start_as_aws_defaults(ecs: Any) -> None:
    settings = ecs.list_account_settings(effectiveSettings=True)["settings"]
    assert len(settings) == 10 and ecs.list_account_settings(effectiveSettings=True, maxResults=10)
    everything = list(ecs.get_paginator("list_account_settings").paginate(effectiveSettings=True))
    found = {s["name"]: s for page in everything for s in page["settings"]}
    assert list(found) == list(SETTINGS)
    assert found["serviceLongArnFormat"] == {
        "name": "serviceLongArnFormat",
        "value": "enabled",
        "principalArn": ROOT,
        "type": "aws_managed",
    }
    assert found["awsvpcTrunking"]["value"] == "disabled"
    assert found["containerInsights"]["value"] == "disabled"
    assert found["fargateTaskRetirementWaitPeriod"]["value"] == "7"
    assert ecs.list_account_settings()["settings"] == []  # nothing set explicitly


def test_put_list_and_delete(ecs: Any, backend: MemoryBackend) -> None:
    put = ecs.put_account_setting(name="containerInsights", value="enhanced")["setting"]
    assert put == {
        "name": "containerInsights",
        "value": "enhanced",
        "principalArn": ROOT,
        "type": "user",
    }
    ecs.put_account_setting(name="awsvpcTrunking", value="enabled", principalArn=USER)
    (record,) = records(backend)
    assert record["metadata"]["labels"][labels.ACCOUNT] == ACCOUNT
    assert record["metadata"]["labels"][labels.REGION] == REGION
    assert json.loads(record["data"]["settings"]) == [
        {"name": "containerInsights", "principalArn": ROOT, "value": "enhanced"},
        {"name": "awsvpcTrunking", "principalArn": USER, "value": "enabled"},
    ]
    assert ecs.list_account_settings()["settings"] == [put]
    mine = ecs.list_account_settings(principalArn=USER)["settings"]
    assert mine == [
        {"name": "awsvpcTrunking", "value": "enabled", "principalArn": USER, "type": "user"}
    ]
    effective = {
        s["name"]: s
        for s in ecs.list_account_settings(principalArn=USER, effectiveSettings=True)["settings"]
    }
    assert effective["awsvpcTrunking"]["value"] == "enabled"
    assert effective["containerInsights"] == {
        "name": "containerInsights",
        "value": "enhanced",  # the root user's setting is the default of every principal
        "principalArn": USER,
        "type": "user",
    }
    filtered = ecs.list_account_settings(
        name="containerInsights", value="enhanced", effectiveSettings=True
    )
    assert [s["name"] for s in filtered["settings"]] == ["containerInsights"]
    assert ecs.list_account_settings(name="containerInsights", value="enabled")["settings"] == []
    deleted = ecs.delete_account_setting(name="awsvpcTrunking", principalArn=USER)["setting"]
    assert deleted["value"] == "enabled" and deleted["principalArn"] == USER
    assert ecs.list_account_settings(principalArn=USER)["settings"] == []
    assert json.loads(records(backend)[0]["data"]["settings"]) == [
        {"name": "containerInsights", "principalArn": ROOT, "value": "enhanced"}
    ]


def test_put_default_is_the_root_users_setting(ecs: Any) -> None:
    put = ecs.put_account_setting_default(name="tagResourceAuthorization", value="off")["setting"]
    assert put["principalArn"] == ROOT
    found = ecs.list_account_settings(
        principalArn=ROLE, name="tagResourceAuthorization", effectiveSettings=True
    )
    assert found["settings"][0]["value"] == "off"
    ecs.put_account_setting(name="tagResourceAuthorization", value="on", principalArn=ROLE)
    found = ecs.list_account_settings(
        principalArn=ROLE, name="tagResourceAuthorization", effectiveSettings=True
    )
    assert found["settings"][0]["value"] == "on"
    root = ecs.put_account_setting(name="awsvpcTrunking", value="enabled", principalArn=ROOT)[
        "setting"
    ]
    assert root["principalArn"] == ROOT


@pytest.mark.parametrize(
    ("call", "kwargs"),
    [
        ("put_account_setting", {"name": "awsvpcTrunking", "value": "maybe"}),
        ("put_account_setting", {"name": "containerInsights", "value": "on"}),
        ("put_account_setting", {"name": "guardDutyActivate", "value": "on"}),
        ("put_account_setting_default", {"name": "fargateTaskRetirementWaitPeriod", "value": "3"}),
        (
            "put_account_setting",
            {"name": "fargateTaskRetirementWaitPeriod", "value": "14", "principalArn": USER},
        ),
        (
            "put_account_setting",
            {"name": "awsvpcTrunking", "value": "enabled", "principalArn": "bob"},
        ),
        (
            "put_account_setting",
            {
                "name": "awsvpcTrunking",
                "value": "enabled",
                "principalArn": "arn:aws:iam::111111111111:user/x",
            },
        ),
        ("delete_account_setting", {"name": "guardDutyActivate"}),
        ("list_account_settings", {"value": "enabled"}),
        ("list_account_settings", {"maxResults": 11}),
        ("list_account_settings", {"nextToken": "garbage"}),
    ],
)
def test_refusals(ecs: Any, call: str, kwargs: dict[str, Any]) -> None:
    with pytest.raises(ecs.exceptions.InvalidParameterException):
        getattr(ecs, call)(**kwargs)


def test_retirement_wait_period_for_the_root_user(ecs: Any) -> None:
    setting = ecs.put_account_setting_default(name="fargateTaskRetirementWaitPeriod", value="14")
    assert setting["setting"]["value"] == "14"


def test_deleting_an_unset_setting_answers_the_effective_value(ecs: Any) -> None:
    deleted = ecs.delete_account_setting(name="serviceLongArnFormat")["setting"]
    assert deleted == {
        "name": "serviceLongArnFormat",
        "value": "enabled",
        "principalArn": ROOT,
        "type": "user",
    }


def test_accounts_and_regions_are_separate(backend: MemoryBackend) -> None:
    here = kecs.client("ecs", region_name=REGION, backend=backend)
    there = kecs.client("ecs", region_name="eu-west-1", backend=backend)
    other = kecs.client("ecs", region_name=REGION, backend=backend, account_id="111111111111")
    here.put_account_setting(name="awsvpcTrunking", value="enabled")
    assert there.list_account_settings()["settings"] == []
    assert other.list_account_settings()["settings"] == []
    again = kecs.client("ecs", region_name=REGION, backend=backend)
    assert again.list_account_settings()["settings"][0]["value"] == "enabled"
    assert len(records(backend)) == 1
