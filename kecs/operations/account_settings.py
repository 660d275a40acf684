"""Account settings: PutAccountSetting / PutAccountSettingDefault / DeleteAccountSetting /
ListAccountSettings.

One ConfigMap per account and region in ``kecs-system`` (``account-settings-<hash>``, labels:
ownership ``account-settings``) holds every explicit setting as JSON
``[{"principalArn", "name", "value"}]``; writes are read-modify-writes under optimistic
concurrency. kecs has no IAM: the caller is the account's root user
(``arn:aws:iam::<account>:root``), which is also what PutAccountSettingDefault sets (the
default of every principal without its own setting).

Names are botocore's ``SettingName`` enum. Values and AWS's defaults (``type: aws_managed``
in effective listings) per setting are :data:`SETTINGS`; ``guardDutyActivate`` is read-only
(GuardDuty sets it) and ``fargateTaskRetirementWaitPeriod`` can only be set for the root user.
ListAccountSettings pages at most 10 settings (``maxResults`` 1-10); with
``effectiveSettings`` it lists every setting: the principal's own, else the root user's, else
AWS's default.
"""

from __future__ import annotations

import contextlib
import json
import re
from typing import Any

from kecs.backends import kinds
from kecs.backends.errors import AlreadyExists, NotFound
from kecs.errors import InvalidParameterException
from kecs.mapping import labels, names
from kecs.operations import paging
from kecs.operations.cluster_store import ensure_system_namespace
from kecs.operations.context import RequestContext
from kecs.operations.registry import operation

Params = dict[str, Any]

RESOURCE = "account-settings"
DATA_KEY = "settings"
MAX_RESULTS = 10
_ENABLED = ("enabled", "disabled")
_ON = ("on", "off")
#: name -> (accepted values, AWS's default), in botocore's enum order.
SETTINGS: dict[str, tuple[tuple[str, ...], str]] = {
    "serviceLongArnFormat": (_ENABLED, "enabled"),
    "taskLongArnFormat": (_ENABLED, "enabled"),
    "containerInstanceLongArnFormat": (_ENABLED, "enabled"),
    "awsvpcTrunking": (_ENABLED, "disabled"),
    "containerInsights": (("enabled", "disabled", "enhanced"), "disabled"),
    "fargateFIPSMode": (_ENABLED, "disabled"),
    "tagResourceAuthorization": (_ON, "on"),
    "fargateTaskRetirementWaitPeriod": (("0", "7", "14"), "7"),
    "guardDutyActivate": (_ON, "off"),
    "defaultLogDriverMode": (("blocking", "non-blocking"), "non-blocking"),
    "fargateEventWindows": (_ENABLED, "disabled"),
}
READ_ONLY = frozenset({"guardDutyActivate"})
ROOT_ONLY = frozenset({"fargateTaskRetirementWaitPeriod"})
_PRINCIPAL = re.compile(r"arn:aws[a-z-]*:iam::(\d{12}):(root|user/.+|role/.+)")


def root_arn(account: str) -> str:
    return f"arn:aws:iam::{account}:root"


def _record_name(account: str, region: str) -> str:
    return "account-settings-" + names.digest(account, region)


def _check_name(name: str) -> None:
    if name not in SETTINGS:
        raise InvalidParameterException(
            f"{name!r} is not a valid setting name. Valid names: {', '.join(SETTINGS)}."
        )


def _principal(ctx: RequestContext, params: Params) -> str:
    given = params.get("principalArn")
    if not given:
        return root_arn(ctx.account_id)
    match = _PRINCIPAL.fullmatch(given)
    if match is None:
        raise InvalidParameterException(
            "principalArn must be the ARN of an IAM user, an IAM role or the root user."
        )
    if match.group(1) != ctx.account_id:
        raise InvalidParameterException("principalArn must belong to the caller's account.")
    return root_arn(ctx.account_id) if match.group(2) == "root" else str(given)


def _check_value(name: str, value: str, principal: str, account: str) -> None:
    if name in READ_ONLY:
        raise InvalidParameterException(
            f"The {name} setting is read only; it is managed by Amazon GuardDuty."
        )
    accepted, _ = SETTINGS[name]
    if value not in accepted:
        raise InvalidParameterException(
            f"{value!r} is not a valid value for {name}. Valid values: {', '.join(accepted)}."
        )
    if name in ROOT_ONLY and principal != root_arn(account):
        raise InvalidParameterException(f"The {name} setting can only be set for the root user.")


def _read(ctx: RequestContext) -> list[Params]:
    try:
        obj = ctx.backend.get(
            kinds.CONFIG_MAP, _record_name(ctx.account_id, ctx.region), labels.SYSTEM_NAMESPACE
        )
    except NotFound:
        return []
    return _settings_of(obj)


def _settings_of(obj: Params) -> list[Params]:
    try:
        value = json.loads((obj.get("data") or {}).get(DATA_KEY, "[]"))
    except ValueError:
        return []
    return [s for s in value if isinstance(s, dict)] if isinstance(value, list) else []


def _write(ctx: RequestContext, principal: str, name: str, value: str | None) -> str | None:
    """Set (or with ``None`` remove) one explicit setting; returns the value it had."""
    ensure_system_namespace(ctx)
    record = _record_name(ctx.account_id, ctx.region)
    with contextlib.suppress(AlreadyExists):
        ctx.backend.create(
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {
                    "name": record,
                    "namespace": labels.SYSTEM_NAMESPACE,
                    "labels": labels.ownership(ctx.account_id, ctx.region, RESOURCE),
                },
                "data": {DATA_KEY: "[]"},
            }
        )
    previous: list[str | None] = [None]

    def mutate(obj: Params) -> Params:
        settings = _settings_of(obj)
        kept = []
        previous[0] = None
        for setting in settings:
            if setting.get("principalArn") == principal and setting.get("name") == name:
                previous[0] = str(setting.get("value"))
            else:
                kept.append(setting)
        if value is not None:
            kept.append({"principalArn": principal, "name": name, "value": value})
        kept.sort(key=lambda s: (str(s["principalArn"]), list(SETTINGS).index(str(s["name"]))))
        obj["data"] = {DATA_KEY: json.dumps(kept, sort_keys=True)}
        return obj

    ctx.backend.modify(kinds.CONFIG_MAP, record, mutate, labels.SYSTEM_NAMESPACE)
    return previous[0]


def _explicit(settings: list[Params], principal: str, name: str) -> str | None:
    for setting in settings:
        if setting.get("principalArn") == principal and setting.get("name") == name:
            return str(setting.get("value"))
    return None


def _setting(name: str, value: str, principal: str, kind: str = "user") -> Params:
    return {"name": name, "value": value, "principalArn": principal, "type": kind}


@operation("PutAccountSetting")
def put_account_setting(ctx: RequestContext, params: Params) -> Params:
    name, value = params["name"], params["value"]
    _check_name(name)
    principal = _principal(ctx, params)
    _check_value(name, value, principal, ctx.account_id)
    _write(ctx, principal, name, value)
    return {"setting": _setting(name, value, principal)}


@operation("PutAccountSettingDefault")
def put_account_setting_default(ctx: RequestContext, params: Params) -> Params:
    name, value = params["name"], params["value"]
    _check_name(name)
    principal = root_arn(ctx.account_id)
    _check_value(name, value, principal, ctx.account_id)
    _write(ctx, principal, name, value)
    return {"setting": _setting(name, value, principal)}


@operation("DeleteAccountSetting")
def delete_account_setting(ctx: RequestContext, params: Params) -> Params:
    name = params["name"]
    _check_name(name)
    if name in READ_ONLY:
        raise InvalidParameterException(
            f"The {name} setting is read only; it is managed by Amazon GuardDuty."
        )
    principal = _principal(ctx, params)
    previous = _write(ctx, principal, name, None)
    if previous is None:
        previous = _effective(_read(ctx), principal, name, ctx.account_id)["value"]
    return {"setting": _setting(name, previous, principal)}


def _effective(settings: list[Params], principal: str, name: str, account: str) -> Params:
    own = _explicit(settings, principal, name)
    if own is not None:
        return _setting(name, own, principal)
    root = _explicit(settings, root_arn(account), name)
    if root is not None:
        return _setting(name, root, principal)
    return _setting(name, SETTINGS[name][1], principal, "aws_managed")


@operation("ListAccountSettings")
def list_account_settings(ctx: RequestContext, params: Params) -> Params:
    name, value = params.get("name"), params.get("value")
    if name:
        _check_name(name)
    if value and not name:
        raise InvalidParameterException("A setting name is required when a value is specified.")
    page_size = paging.page_size(params, maximum=MAX_RESULTS)
    principal = _principal(ctx, params)
    settings = _read(ctx)
    rows: list[Params] = []
    for candidate in SETTINGS:
        if name and candidate != name:
            continue
        if params.get("effectiveSettings"):
            row: Params | None = _effective(settings, principal, candidate, ctx.account_id)
        else:
            own = _explicit(settings, principal, candidate)
            row = _setting(candidate, own, principal) if own is not None else None
        if row is not None and (not value or row["value"] == value):
            rows.append(row)
    resume = paging.resume_after(params, str)
    if resume is not None:
        if resume[0] not in SETTINGS:
            raise InvalidParameterException(paging.INVALID_TOKEN)
        after = list(SETTINGS).index(resume[0])
        rows = [r for r in rows if list(SETTINGS).index(r["name"]) > after]
    result: Params = {"settings": rows[:page_size]}
    if len(rows) > page_size:
        result["nextToken"] = paging.encode_token(rows[page_size - 1]["name"])
    return result
