"""ECS names -> legal Kubernetes names.

ECS names allow upper case, ``_`` and up to 255 characters; Kubernetes object names are
DNS-1123 labels or subdomains (lower case, digits, ``-``; 63 or 253 characters), Service names
DNS-1035 labels (starting with a letter). The rule (docs/adr/0001-kubernetes-names.md):

    <readable part>-<10 hex digits of SHA-256 over the exact identity>

The readable part is the ECS name lower-cased, with every other character turned into ``-``,
trimmed so the whole fits. The hash covers the *exact* identity (name, region, account, ...),
so names that differ only in case or in ``_`` vs ``-`` still get distinct Kubernetes names.
The exact strings are kept in annotations; labels carry bounded values for selection.
"""

from __future__ import annotations

import hashlib
import re

from kecs import k8s_grammar

HASH_LEN = 10
_INVALID = re.compile(r"[^a-z0-9-]+")


def digest(*identity: str, length: int = HASH_LEN) -> str:
    """A short, stable hex digest of the exact identity parts."""
    return hashlib.sha256("\0".join(identity).encode()).hexdigest()[:length]


def readable(text: str) -> str:
    """``text`` folded into DNS-1123 label characters (may be empty)."""
    return _INVALID.sub("-", text.lower()).strip("-")


def dns_label(
    text: str,
    *identity: str,
    max_len: int = k8s_grammar.DNS1123_LABEL_MAX,
    letter_first: bool = False,
    fallback: str = "ecs",
) -> str:
    """A DNS-1123 label (DNS-1035 with ``letter_first``) for ``text``, unique per identity.

    ``identity`` defaults to ``(text,)``; pass every part that makes the object distinct
    (e.g. account, region, cluster name) so different ECS worlds never share a name.
    """
    parts = identity or (text,)
    suffix = digest(*parts)
    base = readable(text) or fallback
    if letter_first and not base[0].isalpha():
        base = f"{fallback}-{base}"
    base = base[: max_len - HASH_LEN - 1].rstrip("-")
    return f"{base}-{suffix}"


def label_value(text: str) -> str:
    """``text`` itself when it is a legal label value, else a bounded readable + hashed form."""
    if k8s_grammar.is_label_value(text):
        return text
    base = re.sub(r"[^A-Za-z0-9_.-]+", "-", text)[: k8s_grammar.LABEL_VALUE_MAX - HASH_LEN - 1]
    base = base.strip("-_.")
    return f"{base}-{digest(text)}" if base else digest(text)
