"""Example tests: pod-wide options (modes, DNS, hosts, sysctls, grace period, platform)."""

from __future__ import annotations

import json

from kecs.mapping import labels
from kecs.mapping.taskdef import to_pod_template
from tests.mapping.helpers import has_note, mapped, notes_of, spec


def test_network_modes() -> None:
    assert spec(networkMode="host")["hostNetwork"] is True
    assert spec(networkMode="host")["dnsPolicy"] == "Default"
    assert "hostNetwork" not in spec(networkMode="awsvpc")
    assert has_note(notes_of(networkMode="none"), "networkMode", "always have a network")
    assert has_note(
        notes_of({}, {}, networkMode="bridge"), "networkMode", "share one network namespace"
    )
    assert has_note(notes_of(networkMode="{{mode}}"), "networkMode", "unknown")


def test_pid_and_ipc_modes() -> None:
    assert spec(pidMode="host")["hostPID"] is True
    assert spec(pidMode="task")["shareProcessNamespace"] is True
    assert spec(ipcMode="host")["hostIPC"] is True
    assert "hostIPC" not in spec(ipcMode="task")
    assert has_note(notes_of(ipcMode="none"), "ipcMode")


def test_init_process_shares_the_process_namespace_unless_host_pid() -> None:
    params = {"linuxParameters": {"initProcessEnabled": True}}
    assert spec(params)["shareProcessNamespace"] is True
    s = spec(params, pidMode="host")
    assert s["hostPID"] is True and "shareProcessNamespace" not in s
    assert has_note(
        notes_of(params),
        "containerDefinitions[0].linuxParameters.initProcessEnabled",
        "approximated",
    )


def test_hostname() -> None:
    assert spec({"hostname": "web-1"})["hostname"] == "web-1"
    assert "hostname" not in spec({"hostname": "web.example.com"})
    notes = notes_of({"hostname": "a"}, {"hostname": "b"})
    assert has_note(notes, "containerDefinitions[1].hostname", "'a' is used")


def test_dns_settings_are_merged_into_the_pod() -> None:
    s = spec(
        {"dnsServers": ["10.0.0.2", "bad"], "dnsSearchDomains": ["svc.local", "Example.COM."]},
        {"dnsServers": ["10.0.0.2", "1.1.1.1", "8.8.8.8", "9.9.9.9"]},
    )
    assert s["dnsPolicy"] == "None"
    assert s["dnsConfig"] == {
        "nameservers": ["10.0.0.2", "1.1.1.1", "8.8.8.8"],
        "searches": ["svc.local", "example.com"],
    }
    notes = notes_of({"dnsServers": ["bad"]}, {"dnsServers": ["1.1.1.1"]})
    assert has_note(notes, "containerDefinitions[0].dnsServers[0]", "not an IP")
    assert has_note(notes, "containerDefinitions", "merged")


def test_search_domains_without_servers_keep_the_cluster_dns() -> None:
    s = spec({"dnsSearchDomains": ["corp.local"]})
    assert "dnsPolicy" not in s and s["dnsConfig"] == {"searches": ["corp.local"]}


def test_extra_hosts_grouped_by_ip_and_links_on_localhost() -> None:
    s = spec(
        {
            "name": "app",
            "extraHosts": [
                {"hostname": "a.local", "ipAddress": "10.0.0.1"},
                {"hostname": "b.local", "ipAddress": "10.0.0.1"},
            ],
            "links": ["db:database", "ghost"],
        },
        {"name": "db", "extraHosts": [{"hostname": "c", "ipAddress": "not-an-ip"}]},
    )
    assert s["hostAliases"] == [
        {"ip": "10.0.0.1", "hostnames": ["a.local", "b.local"]},
        {"ip": "127.0.0.1", "hostnames": ["db", "database"]},
    ]
    notes = notes_of(
        {"name": "app", "links": ["ghost"]},
        {"name": "db", "extraHosts": [{"hostname": "c", "ipAddress": "x"}]},
    )
    assert has_note(notes, "containerDefinitions[0].links[0]", "unknown container")
    assert has_note(notes, "containerDefinitions[1].extraHosts[0]", "dropped")


def test_sysctls() -> None:
    s = spec(
        {
            "systemControls": [
                {"namespace": "net.ipv4.tcp_syncookies", "value": "1"},
                {"namespace": "net.core.somaxconn", "value": "1024"},
            ]
        },
        {
            "systemControls": [
                {"namespace": "net.core.somaxconn", "value": "4096"},
                {"namespace": "Bad Name", "value": "1"},
            ]
        },
    )
    assert s["securityContext"]["sysctls"] == [
        {"name": "net.ipv4.tcp_syncookies", "value": "1"},
        {"name": "net.core.somaxconn", "value": "1024"},
    ]
    notes = notes_of({"systemControls": [{"namespace": "net.core.somaxconn", "value": "1"}]})
    assert has_note(notes, "containerDefinitions[0].systemControls[0]", "not a safe sysctl")
    host = spec(
        {
            "systemControls": [
                {"namespace": "net.core.somaxconn", "value": "1"},
                {"namespace": "kernel.shmmax", "value": "1"},
            ]
        },
        networkMode="host",
        ipcMode="host",
    )
    assert "securityContext" not in host


def test_stop_timeout_is_the_largest() -> None:
    assert spec({"stopTimeout": 10}, {"stopTimeout": 120})["terminationGracePeriodSeconds"] == 120
    assert "terminationGracePeriodSeconds" not in spec({})
    assert has_note(
        notes_of({"stopTimeout": 10}, {"stopTimeout": 120}), "containerDefinitions", "largest"
    )


def test_runtime_platform_node_selector() -> None:
    s = spec(runtimePlatform={"operatingSystemFamily": "LINUX", "cpuArchitecture": "ARM64"})
    assert s["nodeSelector"] == {"kubernetes.io/os": "linux", "kubernetes.io/arch": "arm64"}
    w = spec(
        runtimePlatform={
            "operatingSystemFamily": "WINDOWS_SERVER_2019_FULL",
            "cpuArchitecture": "X86_64",
        }
    )
    assert w["nodeSelector"] == {
        "kubernetes.io/os": "windows",
        "node.kubernetes.io/windows-build": "10.0.17763",
        "kubernetes.io/arch": "amd64",
    }
    notes = notes_of(runtimePlatform={"operatingSystemFamily": "BEOS", "cpuArchitecture": "SPARC"})
    assert has_note(notes, "runtimePlatform.operatingSystemFamily") and has_note(
        notes, "runtimePlatform.cpuArchitecture"
    )


def test_task_metadata_members_are_kept_and_noted() -> None:
    task = {
        "placementConstraints": [
            {"type": "memberOf", "expression": "attribute:ecs.os-type == linux"}
        ],
        "proxyConfiguration": {"type": "APPMESH", "containerName": "envoy"},
        "requiresCompatibilities": ["FARGATE"],
        "inferenceAccelerators": [{"deviceName": "d", "deviceType": "eia2.medium"}],
        "enableFaultInjection": True,
        "trustedExecutionConfiguration": {"isolationMode": "SHARED"},
        "tags": [{"key": "a", "value": "b"}],
    }
    result = mapped(**task)
    kept = json.loads(result.template["metadata"]["annotations"][labels.ANN_TASK_METADATA])
    for key in (
        "placementConstraints",
        "proxyConfiguration",
        "requiresCompatibilities",
        "inferenceAccelerators",
        "enableFaultInjection",
        "trustedExecutionConfiguration",
    ):
        assert kept[key] == task[key]
    assert "tags" not in kept
    notes = [str(n) for n in result.notes]
    for key in (
        "placementConstraints",
        "proxyConfiguration",
        "inferenceAccelerators",
        "enableFaultInjection",
        "trustedExecutionConfiguration",
    ):
        assert has_note(notes, key), key


def test_no_containers_is_noted_not_raised() -> None:
    empty = to_pod_template({"family": "f", "containerDefinitions": []})
    assert empty.template["spec"]["containers"] == []
    assert any(n.path == "containerDefinitions" for n in empty.notes)
