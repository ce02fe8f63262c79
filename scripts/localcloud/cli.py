"""``python -m localcloud``: run the local cloud in the foreground.

Once ready it prints ``export NAME=value`` lines (endpoint URLs, region,
hub credentials, ``DRS_ORCH_API_URL`` once a REST API is served) and a
line ``READY``; it runs until interrupted (SIGINT/SIGTERM).
"""

import argparse
import logging
import shlex
import signal
import sys
import threading
from pathlib import Path
from typing import List, Optional

from .rest_api import parse_groups, serve_for
from .scenario import DEFAULT_SCENARIO
from .stack import ORCHESTRATIONS, LocalCloud


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    """The command line options."""
    parser = argparse.ArgumentParser(
        prog="local-cloud", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--scenario", type=Path, default=DEFAULT_SCENARIO, help="YAML/JSON"
    )
    parser.add_argument(
        "--speed",
        type=float,
        default=60.0,
        help="simulated DRS seconds per wall second (default 60)",
    )
    parser.add_argument(
        "--orchestration", choices=ORCHESTRATIONS, default="generic"
    )
    parser.add_argument(
        "--port", type=int, default=None, help="moto port (default: free)"
    )
    parser.add_argument(
        "--poll-interval",
        type=int,
        default=1,
        help="WavePollIntervalSeconds of the state machine (default 1)",
    )
    parser.add_argument("--log-level", default="INFO")
    # The local REST API (localcloud.rest_api, issue 10).
    parser.add_argument(
        "--api-port", type=int, default=0, help="REST API port (default: free)"
    )
    parser.add_argument(
        "--local-groups",
        default="",
        help="default Cognito groups of REST calls without X-Local-Groups",
    )
    parser.add_argument(
        "--local-user", default=None, help="default user (email) of REST calls"
    )
    return parser.parse_args(argv)


def export_lines(env: dict) -> List[str]:
    """``export NAME=value`` lines, values shell-quoted."""
    return [f"export {k}={shlex.quote(str(v))}" for k, v in env.items()]


def main(argv: Optional[List[str]] = None) -> int:
    """Start, print the exports and READY, serve until interrupted."""
    args = parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(),
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    cloud = LocalCloud(
        scenario_path=args.scenario,
        speed=args.speed,
        orchestration=args.orchestration,
        poll_interval=args.poll_interval,
        port=args.port,
    )
    with cloud:
        api = serve_for(
            cloud,
            default_groups=parse_groups(args.local_groups),
            default_user=args.local_user,
            port=args.api_port,
        )
        for line in export_lines(cloud.env()):
            sys.stdout.write(line + "\n")
        sys.stdout.write("READY\n")
        sys.stdout.flush()
        while not stop.wait(1.0):
            pass
        api.stop()
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
