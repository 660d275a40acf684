"""``kecs wait``: ``aws ecs wait`` with progress, against a kecs server or a real cluster.

The waiters are botocore's own (``client.get_waiter(name).config``): the operation it polls
and its acceptors, evaluated by :class:`botocore.waiter.AcceptorConfig` on every response,
first match wins, an error answer no acceptor expects is a failure -- what
:meth:`botocore.waiter.Waiter.wait` decides. kecs only owns the loop around them, so that it
can stop at a deadline in seconds (not a number of attempts) and show each poll.

Exit status: 0 success, 1 failure (a failure acceptor matched, an unexpected error answer, or
ECS could not be asked), 2 timed out.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from collections.abc import Callable
from typing import Any, NamedTuple

from kecs.cli.common import CliError, say
from kecs.server import DEFAULT_HOST, DEFAULT_PORT

#: Command name -> botocore waiter name.
WAITERS = {
    "services-stable": "ServicesStable",
    "services-inactive": "ServicesInactive",
    "tasks-running": "TasksRunning",
    "tasks-stopped": "TasksStopped",
}
DEFAULT_ENDPOINT = f"http://{DEFAULT_HOST}:{DEFAULT_PORT}"
#: Seconds between polls. botocore's ECS waiters poll every 15 s (tasks: 6 s), which is slow
#: to watch; a poll costs one Describe call.
DEFAULT_DELAY = 2.0
EXIT_SUCCESS, EXIT_FAILURE, EXIT_TIMEOUT = 0, 1, 2
#: The order tasks go through their states, for counts that read like a timeline.
TASK_STATES = (
    "PROVISIONING",
    "PENDING",
    "ACTIVATING",
    "RUNNING",
    "DEACTIVATING",
    "STOPPING",
    "DEPROVISIONING",
    "STOPPED",
    "DELETED",
)

EPILOG = """\
The conditions are botocore's (the same as `aws ecs wait`):
  services-stable    every service has one deployment and runningCount == desiredCount
                     (fails if one is MISSING, DRAINING or INACTIVE)
  services-inactive  a service is INACTIVE (fails if one is MISSING)
  tasks-running      every task is RUNNING (fails if one is STOPPED or MISSING)
  tasks-stopped      every task is STOPPED

Progress (one line per service, or task counts, on each poll, then the result) goes to
stderr when it is a terminal, or with --progress.

exit status: 0 success, 1 failure (its reason is printed), 2 timed out
"""


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not value >= 0:  # also refuses NaN
        raise argparse.ArgumentTypeError(f"must not be negative: {text!r}")
    return value


def add_parser(commands: Any) -> None:
    parser: argparse.ArgumentParser = commands.add_parser(
        "wait",
        help="wait for services to be stable/inactive or tasks running/stopped, with progress",
        description=(
            "Wait until ECS services are stable or inactive, or tasks are running or stopped,\n"
            "asking a kecs server (--endpoint-url) or a Kubernetes cluster directly\n"
            "(--kubeconfig/--context)."
        ),
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("waiter", choices=WAITERS, metavar="WAITER", help=", ".join(WAITERS))
    parser.add_argument("--cluster", help="the cluster's name or ARN (ECS's default: default)")
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument("--services", nargs="+", metavar="SERVICE", help="names or ARNs (max 10)")
    what.add_argument("--tasks", nargs="+", metavar="TASK", help="ids or ARNs (max 100)")
    parser.add_argument(
        "--timeout",
        type=_seconds,
        help="give up after this many seconds (default: botocore's, 600)",
    )
    parser.add_argument(
        "--delay",
        type=_seconds,
        default=DEFAULT_DELAY,
        help="seconds between polls (%(default)s)",
    )
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--endpoint-url",
        help=f"a kecs server (`kecs serve`) or other ECS endpoint (default: {DEFAULT_ENDPOINT})",
    )
    where.add_argument("--kubeconfig", help="ask the Kubernetes cluster of this kubeconfig")
    parser.add_argument("--context", help="the kubeconfig context to use (implies a cluster)")
    parser.add_argument(
        "--region", help="ECS region (default: AWS_REGION, AWS_DEFAULT_REGION or us-east-1)"
    )
    parser.add_argument(
        "--account-id",
        help="with --kubeconfig/--context: the 12-digit account (default: KECS_ACCOUNT_ID or "
        "000000000000); a server answers for its own",
    )
    output = parser.add_mutually_exclusive_group()
    output.add_argument(
        "--progress", action="store_true", help="show progress even if stderr is not a terminal"
    )
    output.add_argument("--quiet", action="store_true", help="print nothing, not even failures")
    parser.set_defaults(run=run)


# -- talking to ECS ------------------------------------------------------------------------


def connect(args: argparse.Namespace) -> tuple[Any, str]:
    """An ECS client for the options, and where it goes (for messages)."""
    from kecs.client import _resolve_account, _resolve_region

    try:
        region = _resolve_region(args.region)
        account = _resolve_account(args.account_id)
    except ValueError as exc:
        raise CliError(str(exc)) from None
    if args.kubeconfig is not None or args.context is not None:
        if args.endpoint_url is not None:
            raise CliError("--context asks a cluster directly; it does not go with --endpoint-url")
        import kecs
        from kecs.cli.serve import _backend

        backend, description = _backend(args)
        return kecs.client("ecs", region_name=region, account_id=account, backend=backend), (
            description
        )

    import botocore.session
    from botocore.config import Config

    endpoint = args.endpoint_url or DEFAULT_ENDPOINT
    ecs = botocore.session.Session().create_client(
        "ecs",
        region_name=region,
        endpoint_url=endpoint,
        # The AWS CLI's way to a local endpoint: any credentials will do.
        aws_access_key_id="kecs",
        aws_secret_access_key="kecs",
        config=Config(connect_timeout=5, read_timeout=60, retries={"total_max_attempts": 2}),
    )
    return ecs, endpoint


class Result(NamedTuple):
    """How a wait ended."""

    state: str  # success, failure or timeout
    reason: str  # why it failed
    polls: int
    elapsed: float


def verdict(acceptors: list[Any], response: dict[str, Any]) -> tuple[str, Any]:
    """``(state, acceptor)`` for one response, as :meth:`botocore.waiter.Waiter.wait` decides."""
    from botocore.waiter import is_valid_waiter_error

    for acceptor in acceptors:
        if acceptor.matcher_func(response):
            return acceptor.state, acceptor
    if is_valid_waiter_error(response):
        return "failure", None
    return "waiting", None


def poll(
    ecs: Any,
    waiter: str,
    params: dict[str, Any],
    *,
    timeout: float | None,
    delay: float,
    report: Callable[[float, dict[str, Any]], None],
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> Result:
    """Poll ``waiter``'s operation until an acceptor ends it or ``timeout`` seconds passed.

    ``report(elapsed, response)`` sees every response. The last poll happens at the deadline.
    """
    from botocore import xform_name
    from botocore.waiter import NormalizedOperationMethod

    config = ecs.get_waiter(xform_name(waiter)).config
    if timeout is None:
        timeout = float(config.delay * config.max_attempts)
    operation = NormalizedOperationMethod(getattr(ecs, xform_name(config.operation)))
    started = clock()
    polls = 0
    while True:
        response = operation(**params)
        polls += 1
        elapsed = clock() - started
        report(elapsed, response)
        state, acceptor = verdict(config.acceptors, response)
        if state == "success":
            return Result(state, "", polls, elapsed)
        if state == "failure":
            return Result(state, failure_reason(acceptor, response), polls, elapsed)
        if elapsed >= timeout:
            return Result("timeout", "", polls, elapsed)
        sleep(max(0.0, min(delay, timeout - elapsed)))


# -- what a person reads -------------------------------------------------------------------


def _name(arn: str) -> str:
    from kecs import arns

    parsed = arns.parse(arn)
    return parsed.parts[-1] if parsed is not None else arn


def failure_reason(acceptor: Any, response: dict[str, Any]) -> str:
    """What failed: the items a failure acceptor matched, and botocore's explanation."""
    if acceptor is None:
        error = response.get("Error", {})
        return f"{error.get('Code', 'Unknown')}: {error.get('Message', 'Unknown')}"
    culprits: list[str] = []
    collection, _, field = (acceptor.argument or "").partition("[].")
    items = response.get(collection)
    if field and isinstance(items, list):
        for item in items:
            if isinstance(item, dict) and item.get(field) == acceptor.expected:
                name = item.get("serviceName") or _name(
                    str(item.get("taskArn") or item.get("arn") or "?")
                )
                why = item.get("stoppedReason") or item.get("detail")
                culprits.append(f"{name} {acceptor.expected}" + (f" ({why})" if why else ""))
    found = f"{', '.join(culprits)}; " if culprits else ""
    return f"{found}{acceptor.explanation}"


def service_line(service: dict[str, Any]) -> str:
    deployments = service.get("deployments") or []
    primary = next((d for d in deployments if d.get("status") == "PRIMARY"), None)
    rollout = "no PRIMARY deployment"
    if primary is not None:
        rollout = f"PRIMARY {primary.get('rolloutState', '-')}"
    status = service.get("status", "?")
    name = service.get("serviceName") or _name(str(service.get("serviceArn", "?")))
    plural = "" if len(deployments) == 1 else "s"
    return (
        f"{name}{'' if status == 'ACTIVE' else f' ({status})'}: "
        f"{service.get('runningCount', 0)}/{service.get('desiredCount', 0)} running, "
        f"{service.get('pendingCount', 0)} pending, "
        f"{len(deployments)} deployment{plural}, {rollout}"
    )


def task_line(response: dict[str, Any]) -> str:
    states = Counter(str(t.get("lastStatus", "?")) for t in response.get("tasks") or [])
    order = {state: index for index, state in enumerate(TASK_STATES)}
    counts = [
        f"{count} {state}"
        for state, count in sorted(states.items(), key=lambda i: (order.get(i[0], 99), i[0]))
    ]
    reasons = Counter(str(f.get("reason", "?")) for f in response.get("failures") or [])
    counts += [f"{count} {reason}" for reason, count in sorted(reasons.items())]
    return f"tasks: {', '.join(counts) or 'none'}"


def progress_lines(response: dict[str, Any], services: bool) -> list[str]:
    if "Error" in response:
        error = response["Error"]
        return [f"{error.get('Code', 'Unknown')}: {error.get('Message', '')}"]
    if not services:
        return [task_line(response)]
    lines = [service_line(s) for s in response.get("services") or []]
    lines += [
        f"{_name(str(f.get('arn', '?')))}: {f.get('reason', '?')}"
        for f in response.get("failures") or []
    ]
    return lines


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def run(args: argparse.Namespace) -> int:
    from botocore.exceptions import BotoCoreError

    services = args.waiter.startswith("services-")
    names = args.services if services else args.tasks
    if names is None:
        wanted = "--services" if services else "--tasks"
        raise CliError(f"wait {args.waiter} needs {wanted}")
    if args.delay <= 0:
        raise CliError("--delay must be positive")
    show = args.progress or (not args.quiet and sys.stderr.isatty())
    params: dict[str, Any] = {"services" if services else "tasks": names}
    if args.cluster is not None:
        params["cluster"] = args.cluster

    def report(elapsed: float, response: dict[str, Any]) -> None:
        if show:
            for line in progress_lines(response, services):
                say(f"kecs wait: [{elapsed:.1f}s] {line}")

    ecs, where = connect(args)
    try:
        result = poll(
            ecs, WAITERS[args.waiter], params, timeout=args.timeout, delay=args.delay, report=report
        )
    except BotoCoreError as exc:
        raise CliError(f"cannot ask ECS at {where}: {exc}") from None
    took = f"after {result.elapsed:.1f}s ({_plural(result.polls, 'poll')})"
    if result.state == "success":
        if show:
            say(f"kecs wait: {args.waiter}: success {took}")
        return EXIT_SUCCESS
    if not args.quiet:
        if result.state == "failure":
            say(f"kecs wait: {args.waiter}: failed {took}: {result.reason}")
        else:
            say(f"kecs wait: {args.waiter}: timed out {took}")
    return EXIT_FAILURE if result.state == "failure" else EXIT_TIMEOUT
