"""Task and container definitions as attrs classes (snake_case fields, every member optional).

Fields mirror botocore's ``TaskDefinition`` and ``ContainerDefinition`` shapes one to one
(``tests/model/test_task_definition.py`` checks that against the model). Nested structures
stay plain wire dicts (camelCase keys), which is what the mapping reads.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import attrs


@attrs.define(kw_only=True)
class ContainerDefinition:
    name: str | None = None
    image: str | None = None
    repository_credentials: dict[str, Any] | None = None
    cpu: int | None = None
    memory: int | None = None
    memory_reservation: int | None = None
    links: list[str] | None = None
    port_mappings: list[dict[str, Any]] | None = None
    essential: bool | None = None
    restart_policy: dict[str, Any] | None = None
    entry_point: list[str] | None = None
    command: list[str] | None = None
    environment: list[dict[str, Any]] | None = None
    environment_files: list[dict[str, Any]] | None = None
    mount_points: list[dict[str, Any]] | None = None
    volumes_from: list[dict[str, Any]] | None = None
    linux_parameters: dict[str, Any] | None = None
    secrets: list[dict[str, Any]] | None = None
    depends_on: list[dict[str, Any]] | None = None
    start_timeout: int | None = None
    stop_timeout: int | None = None
    version_consistency: str | None = None
    hostname: str | None = None
    user: str | None = None
    working_directory: str | None = None
    disable_networking: bool | None = None
    privileged: bool | None = None
    readonly_root_filesystem: bool | None = None
    dns_servers: list[str] | None = None
    dns_search_domains: list[str] | None = None
    extra_hosts: list[dict[str, Any]] | None = None
    docker_security_options: list[str] | None = None
    interactive: bool | None = None
    pseudo_terminal: bool | None = None
    docker_labels: dict[str, str] | None = None
    ulimits: list[dict[str, Any]] | None = None
    log_configuration: dict[str, Any] | None = None
    health_check: dict[str, Any] | None = None
    system_controls: list[dict[str, Any]] | None = None
    resource_requirements: list[dict[str, Any]] | None = None
    firelens_configuration: dict[str, Any] | None = None
    credential_specs: list[str] | None = None


@attrs.define(kw_only=True)
class TaskDefinition:
    task_definition_arn: str | None = None
    container_definitions: list[ContainerDefinition] | None = None
    family: str | None = None
    task_role_arn: str | None = None
    execution_role_arn: str | None = None
    network_mode: str | None = None
    revision: int | None = None
    volumes: list[dict[str, Any]] | None = None
    status: str | None = None
    requires_attributes: list[dict[str, Any]] | None = None
    placement_constraints: list[dict[str, Any]] | None = None
    compatibilities: list[str] | None = None
    runtime_platform: dict[str, Any] | None = None
    requires_compatibilities: list[str] | None = None
    cpu: str | None = None
    memory: str | None = None
    inference_accelerators: list[dict[str, Any]] | None = None
    pid_mode: str | None = None
    ipc_mode: str | None = None
    proxy_configuration: dict[str, Any] | None = None
    registered_at: datetime | None = None
    deregistered_at: datetime | None = None
    delete_requested_at: datetime | None = None
    registered_by: str | None = None
    ephemeral_storage: dict[str, Any] | None = None
    enable_fault_injection: bool | None = None
    trusted_execution_configuration: dict[str, Any] | None = None
