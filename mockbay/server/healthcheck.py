"""`python -m mockbay.server.healthcheck`: the container's HEALTHCHECK, following the configured port.

PID 1 in the container is tini, started by the exec-form ENTRYPOINT with the server's command
line after its own options, so PID 1's command line says where the server listens: the part from
`serve` on is parsed with mockbay's own parser, which applies the same `MOCKBAY_HOST` and
`MOCKBAY_PORT` defaults the server read, so `-e MOCKBAY_PORT=9090` and `... mockbay --port 9191`
are both followed. A wildcard bind (0.0.0.0, ::) is asked on loopback. Exit 0 when
`/_mockbay/health` answers 200 within 2 s, else 1 (what Docker and podman expect). Standard
library only, so the check costs a fraction of a second.
"""

from __future__ import annotations

import sys
import urllib.request
from pathlib import Path

from mockbay.server.listen import base_url

TIMEOUT_S = 2.0
PID1 = Path("/proc/1/cmdline")
WILDCARDS = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}


def serve_arguments(cmdline: bytes) -> list[str]:
    """The arguments from `serve` on, or just `serve` when PID 1's command line has no `serve`."""
    argv = [part.decode(errors="replace") for part in cmdline.split(b"\0") if part]
    return argv[argv.index("serve") :] if "serve" in argv else ["serve"]


def health_url(cmdline: bytes) -> str:
    from mockbay.cli import build_parser

    args, _ = build_parser().parse_known_args(serve_arguments(cmdline))
    host = WILDCARDS.get(args.host, args.host)
    return f"{base_url(host, args.port)}/_mockbay/health"


def main(cmdline: Path = PID1) -> int:
    try:
        url = health_url(cmdline.read_bytes())
        with urllib.request.urlopen(url, timeout=TIMEOUT_S) as reply:
            return 0 if reply.status == 200 else 1
    except (OSError, SystemExit, ValueError) as exc:
        print(f"unhealthy: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
