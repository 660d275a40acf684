"""kecs.arns: building and parsing ECS ARNs."""

from __future__ import annotations

from kecs import arns


def test_in_cluster_accepts_short_names_and_this_clusters_arns() -> None:
    def find(value: str, kind: str = "task") -> str | None:
        return arns.in_cluster(value, kind, "us-east-1", "000000000000", "web")

    assert find("abc") == "abc"
    assert find("arn:aws:ecs:us-east-1:000000000000:task/web/abc") == "abc"
    assert find("arn:aws:ecs:us-east-1:000000000000:task/abc") == "abc"  # old short format
    for other in (
        "arn:aws:ecs:us-east-1:000000000000:task/other/abc",  # another cluster
        "arn:aws:ecs:us-west-2:000000000000:task/web/abc",  # another region
        "arn:aws:ecs:us-east-1:111111111111:task/web/abc",  # another account
        "arn:aws:ecs:us-east-1:000000000000:service/web/abc",  # another type
        "arn:aws:ecs:us-east-1:000000000000:task/web/x/abc",  # too deep
        "arn:aws:s3:::bucket",
    ):
        assert find(other) is None, other
    service = "arn:aws:ecs:us-east-1:000000000000:service/web/api"
    assert find(service, "service") == "api"
