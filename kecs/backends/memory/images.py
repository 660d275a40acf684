"""Container image references as a container runtime sees them (docker/distribution rules)."""

from __future__ import annotations

import fnmatch
import functools
import hashlib
import re

_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_DOMAIN_PART = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = rf"(?:{_DOMAIN_PART}(?:\.{_DOMAIN_PART})*|\[[0-9a-fA-F:.]+\])(?::[0-9]+)?"
_TAG = r"[\w][\w.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"
_REFERENCE = re.compile(
    rf"^(?:(?P<domain>{_DOMAIN})/)?(?P<path>{_COMPONENT}(?:/{_COMPONENT})*)"
    rf"(?::(?P<tag>{_TAG}))?(?:@(?P<digest>{_DIGEST}))?$"
)


@functools.lru_cache(maxsize=1024)
def normalize(image: str) -> str | None:
    """The fully qualified reference (``docker.io/library/nginx:latest``); ``None`` if invalid."""
    if not image or len(image) > 4096:
        return None
    match = _REFERENCE.match(image)
    if match is None:
        return None
    domain, path = match.group("domain"), match.group("path")
    if domain is None or ("." not in domain and ":" not in domain and domain != "localhost"):
        # The first component is a path component, not a registry (docker's rule).
        path = f"{domain}/{path}" if domain else path
        domain = "docker.io"
        if "/" not in path:
            path = f"library/{path}"
    if len(path) > 255:
        return None
    tag, digest = match.group("tag"), match.group("digest")
    if digest:
        return f"{domain}/{path}@{digest}"
    return f"{domain}/{path}:{tag or 'latest'}"


def repository(normalized: str) -> str:
    """``docker.io/library/nginx:1.25`` -> ``docker.io/library/nginx``."""
    name = normalized.split("@", 1)[0]
    slash = name.rfind("/")
    colon = name.rfind(":")
    return name[:colon] if colon > slash else name


@functools.lru_cache(maxsize=1024)
def image_id(normalized: str) -> str:
    """A stable ``repo@sha256:...`` image id, as the kubelet reports it."""
    if "@" in normalized:
        return normalized
    digest = hashlib.sha256(normalized.encode()).hexdigest()
    return f"{repository(normalized)}@sha256:{digest}"


def invalid_message(image: str) -> str:
    """The kubelet's message for an image that is not a valid reference."""
    return (
        f'Failed to apply default image tag "{image}": couldn\'t parse image name "{image}": '
        "invalid reference format"
    )


def matches(pattern: str, image: str) -> bool:
    """Whether a glob matches the image as written in the pod spec or fully qualified."""
    if fnmatch.fnmatchcase(image, pattern):
        return True
    full = normalize(image)
    return full is not None and fnmatch.fnmatchcase(full, pattern)
