"""Kubernetes name and label grammar (apimachinery's validation rules), stdlib only.

Shared by the mapping (which must only emit legal names) and the embedded backend (which
refuses illegal ones, as an API server does).
"""

from __future__ import annotations

import functools
import re

DNS1123_LABEL_MAX = 63
DNS1123_SUBDOMAIN_MAX = 253
LABEL_VALUE_MAX = 63
ANNOTATIONS_MAX_BYTES = 256 * 1024

_DNS1123_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_DNS1035_LABEL = re.compile(r"[a-z]([-a-z0-9]*[a-z0-9])?")
_DNS1123_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_QUALIFIED_NAME = re.compile(r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]")
_IANA_SVC_NAME = re.compile(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?")

# The checks below are pure and see the same few names, keys and values on every write and
# every mapping, so their answers are cached.


@functools.lru_cache(maxsize=8192)
def is_dns1123_label(value: str) -> bool:
    return len(value) <= DNS1123_LABEL_MAX and _DNS1123_LABEL.fullmatch(value) is not None


@functools.lru_cache(maxsize=8192)
def is_dns1035_label(value: str) -> bool:
    return len(value) <= DNS1123_LABEL_MAX and _DNS1035_LABEL.fullmatch(value) is not None


@functools.lru_cache(maxsize=8192)
def is_dns1123_subdomain(value: str) -> bool:
    return len(value) <= DNS1123_SUBDOMAIN_MAX and _DNS1123_SUBDOMAIN.fullmatch(value) is not None


@functools.lru_cache(maxsize=8192)
def is_qualified_name(value: str) -> bool:
    """A label or annotation key: optional ``prefix/`` (a DNS subdomain) and a name ≤63."""
    prefix, slash, name = value.rpartition("/")
    if slash and not (prefix and is_dns1123_subdomain(prefix)):
        return False
    return len(name) <= 63 and _QUALIFIED_NAME.fullmatch(name) is not None


@functools.lru_cache(maxsize=8192)
def is_label_value(value: str) -> bool:
    return value == "" or (
        len(value) <= LABEL_VALUE_MAX and _QUALIFIED_NAME.fullmatch(value) is not None
    )


@functools.lru_cache(maxsize=8192)
def is_iana_svc_name(value: str) -> bool:
    """A container port name: ≤15 characters, at least one letter, no ``--``."""
    return (
        len(value) <= 15
        and _IANA_SVC_NAME.fullmatch(value) is not None
        and "--" not in value
        and any(c.isalpha() for c in value)
    )
