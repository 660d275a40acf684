"""Building the official client's ``ApiClient`` from what the user has: a kubeconfig file, a
named context, the pod's in-cluster service account, or a ready ``ApiClient``."""

from __future__ import annotations

from typing import Any

from kubernetes import client as k8s_client
from kubernetes import config as k8s_config


def api_client(
    *,
    kubeconfig: str | None = None,
    context: str | None = None,
    in_cluster: bool = False,
    client: Any = None,
) -> Any:
    """An ``ApiClient`` whose connection pool never retries on its own.

    kecs retries itself (tenacity, with backoff and ``Retry-After``), so urllib3's built-in
    retries are switched off: otherwise one failure could be retried 3 x N times, unseen.
    """
    if client is not None:
        if kubeconfig or context or in_cluster:
            raise ValueError("pass either a ready ApiClient or kubeconfig/context/in_cluster")
        return client
    configuration = k8s_client.Configuration()
    if in_cluster:
        if kubeconfig or context:
            raise ValueError("in_cluster=True excludes kubeconfig and context")
        k8s_config.load_incluster_config(client_configuration=configuration)
    else:
        k8s_config.load_kube_config(
            config_file=kubeconfig, context=context, client_configuration=configuration
        )
    configuration.retries = False
    return k8s_client.ApiClient(configuration)


def server_url(client: Any) -> str:
    return str(client.configuration.host)
