"""``kecs serve``: the ECS API over HTTP for the AWS CLI, Terraform and other SDKs."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from types import FrameType
from typing import Any

from kecs.cli.common import CliError, say
from kecs.server import DEFAULT_HOST, DEFAULT_PORT

#: Seconds requests in flight may take to finish once a stop was asked for.
SHUTDOWN_GRACE = 10.0


def add_parser(commands: Any) -> None:
    parser: argparse.ArgumentParser = commands.add_parser(
        "serve",
        help="serve the ECS API over HTTP",
        description=(
            "Serve the Amazon ECS JSON API over HTTP, answered by kecs. Point any AWS SDK or "
            "the AWS CLI at it with an endpoint URL; any credentials will do."
        ),
    )
    parser.add_argument("--host", default=DEFAULT_HOST, help="address to listen on (%(default)s)")
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help="port (%(default)s; 0 picks a free one)"
    )
    parser.add_argument(
        "--region",
        help="region of requests that do not name one in their signature "
        "(default: AWS_REGION, AWS_DEFAULT_REGION or us-east-1)",
    )
    parser.add_argument(
        "--account-id", help="the 12-digit account (default: KECS_ACCOUNT_ID or 000000000000)"
    )
    parser.add_argument(
        "--kubeconfig", help="use the Kubernetes cluster of this kubeconfig instead of memory"
    )
    parser.add_argument("--context", help="the kubeconfig context to use")
    parser.add_argument("--quiet", action="store_true", help="do not log each request")
    parser.set_defaults(run=run)


def _backend(args: argparse.Namespace) -> tuple[Any, str]:
    if args.kubeconfig is None and args.context is None:
        from kecs.backends.memory import MemoryBackend

        return MemoryBackend(), "embedded, in memory (everything is gone when it stops)"
    try:
        from kecs.backends.kubernetes import KubernetesBackend
    except ImportError as exc:
        raise CliError(
            f"--kubeconfig/--context need kecs's Kubernetes backend, which is not available "
            f"here ({exc}); install it with: pip install 'kecs[kubernetes]'"
        ) from None
    try:
        backend = KubernetesBackend(kubeconfig=args.kubeconfig, context=args.context)
    except Exception as exc:
        raise CliError(f"cannot use the Kubernetes cluster: {exc}") from None
    where = args.context or "current context"
    return backend, f"Kubernetes ({where} of {args.kubeconfig or 'the default kubeconfig'})"


def banner(url: str, region: str, account: str, backend: str) -> str:
    from kecs import __version__

    aws = f"aws --endpoint-url {url}"
    return "\n".join(
        [
            f"kecs {__version__}: Amazon ECS API at {url}",
            f"  backend: {backend}",
            f"  region:  {region} (a request's SigV4 credential scope picks another)",
            f"  account: {account}",
            "",
            "Try it with the AWS CLI (any credentials will do):",
            "  export AWS_ACCESS_KEY_ID=kecs AWS_SECRET_ACCESS_KEY=kecs "
            f"AWS_DEFAULT_REGION={region}",
            f"  {aws} ecs create-cluster --cluster-name demo",
            f"  {aws} ecs list-clusters",
            "or from Python: boto3.client('ecs', endpoint_url=" + repr(url) + ")",
            "",
            "Press Ctrl+C to stop.",
        ]
    )


def run(args: argparse.Namespace) -> int:
    from kecs.client import _resolve_account, _resolve_region
    from kecs.server.http import EcsHttpServer

    try:
        region, account = _resolve_region(args.region), _resolve_account(args.account_id)
    except ValueError as exc:
        raise CliError(str(exc)) from None
    logging.basicConfig(
        level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(name)s %(message)s"
    )
    backend, description = _backend(args)
    try:
        server = EcsHttpServer(
            (args.host, args.port),
            backend,
            region=region,
            account_id=account,
            log_requests=not args.quiet,
        )
    except OSError as exc:
        raise CliError(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}") from None

    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        server.start()
        say(banner(server.url, region, account, description), sys.stdout)
        # A timeout keeps the main thread where signal handlers can run promptly.
        while not stop.wait(0.5):
            pass
        say("kecs: stopping")
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        finished = server.stop(SHUTDOWN_GRACE)
    say("kecs: stopped" if finished else "kecs: stopped (requests still running were cut off)")
    return 0
