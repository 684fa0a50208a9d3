"""`make image-test`: build the image from the Dockerfile, run it, and check it from the host.

With a Docker engine it uses `docker`. Without one (as on machines that have no engine and no
registry), it uses podman with runc and a base image made locally with debootstrap (Debian
bookworm's Python 3.11), cached outside the repository (`MOCKBAY_IMAGE_CACHE`, default
~/.cache/mockbay-image): the first run takes minutes, later ones seconds. See
docs/container.md for why each podman flag is there.

Checks, each against a running container: health (and the image's own HEALTHCHECK), a message,
a mounted scenario folder, a recording made by `mockbay record` mounted read-only, MOCKBAY_PORT
and a `--port` argument both followed by the health check, a numeric non-root user, and a stop
within 2 s. Prints one line per check and the timings; exits non-zero on the first failure.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
IMAGE = "localhost/mockbay:image-test"
BASE = "localhost/mockbay-base:bookworm-python3.11"
CACHE = Path(os.environ.get("MOCKBAY_IMAGE_CACHE", Path.home() / ".cache" / "mockbay-image"))
MIRROR = os.environ.get("MOCKBAY_DEBIAN_MIRROR", "http://deb.debian.org/debian")
HOST_CA = Path("/etc/ssl/certs/ca-certificates.crt")
# podman here: crun cannot set the default rlimits under this host's hard limits, runc can with
# explicit ones below them; `--format docker` keeps the HEALTHCHECK (OCI images drop it).
PODMAN_LIMITS = ("--ulimit", "nofile=4096:4096", "--ulimit", "nproc=4096:4096")
HEADERS = {"x-api-key": "image-test", "anthropic-version": "2023-06-01", "content-type": "application/json"}
STOP_BUDGET_S = 2.0
READY_S = 30.0
SCENARIO = """
name: from-the-host
match: {last_user: {contains: mounted}}
rules:
  - reply: {text: "Served from a mounted folder."}
"""
UPSTREAM = """
name: upstream
rules:
  - reply: {text: "Recorded once, replayed in the container."}
"""


@dataclass(frozen=True)
class Engine:
    name: str
    command: tuple[str, ...]
    run_flags: tuple[str, ...] = ()

    def __call__(self, *args: str, check: bool = True, capture: bool = True) -> str:
        done = subprocess.run(
            [*self.command, *args], check=False, text=True, capture_output=capture, stdin=subprocess.DEVNULL
        )
        if check and done.returncode != 0:
            raise SystemExit(f"{self.name} {' '.join(args[:3])}… failed ({done.returncode}):\n{done.stderr}")
        return (done.stdout or "").strip()


def engine() -> Engine:
    docker = shutil.which("docker")
    if docker and subprocess.run([docker, "info"], capture_output=True, check=False).returncode == 0:
        return Engine("docker", (docker,))
    if shutil.which("podman") is None or shutil.which("runc") is None:
        raise SystemExit("no Docker engine and no podman + runc: apt-get install -y podman runc debootstrap")
    return Engine("podman", ("podman", "--runtime", "runc"), PODMAN_LIMITS)


def base_image(podman: Engine) -> str:
    """Debian bookworm with Python 3.11 made by debootstrap, cached as a rootfs and as an image."""
    if _exists(podman, BASE):
        return BASE
    rootfs = CACHE / "rootfs"
    if not rootfs.is_dir():
        partial = CACHE / "rootfs.partial"
        shutil.rmtree(partial, ignore_errors=True)
        CACHE.mkdir(parents=True, exist_ok=True)
        print(f"debootstrap: a Debian bookworm base into {rootfs} (minutes, once)", flush=True)
        packages = "python3,python3-venv,python-is-python3,ca-certificates"
        subprocess.run(
            ["debootstrap", "--variant=minbase", f"--include={packages}", "bookworm", str(partial), MIRROR],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        for leftover in ("var/cache/apt/archives", "var/lib/apt/lists"):
            for path in (partial / leftover).glob("*"):
                if path.is_file():
                    path.unlink()
        partial.rename(rootfs)
    tar = subprocess.Popen(["tar", "-C", str(rootfs), "-c", "."], stdout=subprocess.PIPE)
    subprocess.run(
        [
            *podman.command,
            "import",
            "--change",
            'CMD ["python3"]',
            "--change",
            "ENV LANG=C.UTF-8",
            "--change",
            "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "-",
            BASE,
        ],
        stdin=tar.stdout,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    tar.wait()
    return BASE


def _exists(podman: Engine, image: str) -> bool:
    return subprocess.run([*podman.command, "image", "exists", image], check=False).returncode == 0


def build(tool: Engine) -> None:
    if tool.name == "docker":
        tool("build", "-t", IMAGE, str(REPO), capture=False)
        return
    args = ["build", "--format", "docker", "--build-arg", f"BASE_IMAGE={base_image(tool)}", *PODMAN_LIMITS]
    if HOST_CA.is_file():  # egress TLS may be re-signed by a local CA that only the host trusts
        args += ["-v", f"{HOST_CA}:/etc/ssl/certs/ca-certificates.crt:ro"]
    tool(*args, "-t", IMAGE, str(REPO), capture=False)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def get(url: str, *, body: dict[str, object] | None = None) -> tuple[int, dict[str, object]]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers=HEADERS if body is not None else {})
    try:
        with urllib.request.urlopen(request, timeout=5) as reply:
            return reply.status, json.loads(reply.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def wait_healthy(url: str) -> None:
    deadline = time.monotonic() + READY_S
    while time.monotonic() < deadline:
        try:
            if get(f"{url}/_mockbay/health")[0] == 200:
                return
        except (OSError, ValueError):
            pass
        time.sleep(0.2)
    raise SystemExit(f"{url} did not become healthy within {READY_S:.0f} s")


@contextmanager
def container(tool: Engine, name: str, *args: str, port: int, inner: int = 8080) -> Iterator[str]:
    """Run the image detached with `args` (run flags, then `--` and serve arguments); yields its URL."""
    at = args.index("--") if "--" in args else len(args)
    run_flags, serve_args = args[:at], args[at + 1 :]
    tool("rm", "-f", name, check=False)
    tool(
        "run",
        "-d",
        "--name",
        name,
        *tool.run_flags,
        "-p",
        f"127.0.0.1:{port}:{inner}",
        *run_flags,
        IMAGE,
        *serve_args,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url)
        yield url
    except BaseException:
        print(tool("logs", name, check=False), file=sys.stderr)
        raise
    finally:
        tool("rm", "-f", name, check=False)


def healthcheck_passes(tool: Engine, name: str) -> bool:
    """Run the image's own HEALTHCHECK now (podman has no scheduler here; docker's runs it too)."""
    if tool.name == "podman":
        return subprocess.run([*tool.command, "healthcheck", "run", name], check=False).returncode == 0
    command = json.loads(tool("inspect", "--format", "{{json .Config.Healthcheck.Test}}", IMAGE))
    return subprocess.run([*tool.command, "exec", name, *command[1:]], check=False).returncode == 0


def ask(url: str, text: str, path: str = "/v1/messages") -> tuple[int, str]:
    body = {"model": "claude-sonnet-4-6", "max_tokens": 64, "messages": [{"role": "user", "content": text}]}
    status, reply = get(f"{url}{path}", body=body)
    content = reply.get("content")
    first = content[0] if isinstance(content, list) and content else {}
    return status, str(first.get("text", reply) if isinstance(first, dict) else reply)


def ok(what: str, condition: bool, detail: object = "") -> None:
    print(f"{'ok ' if condition else 'FAIL'} {what}{f': {detail}' if detail else ''}", flush=True)
    if not condition:
        raise SystemExit(1)


def record(workdir: Path) -> tuple[Path, str]:
    """A recording made the usual way: `mockbay serve` as the upstream, `mockbay record` in front."""
    (workdir / "upstream").mkdir()
    (workdir / "upstream" / "s.yaml").write_text(UPSTREAM)
    out = workdir / "recording"
    up_port, proxy_port = free_port(), free_port()
    python = sys.executable
    upstream = subprocess.Popen(
        [python, "-m", "mockbay", "serve", "--port", str(up_port), "--scenarios", str(workdir / "upstream"),
         "--timing", "instant"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    proxy = subprocess.Popen(
        [python, "-m", "mockbay", "record", "--upstream", f"http://127.0.0.1:{up_port}", "--out", str(out),
         "--port", str(proxy_port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_healthy(f"http://127.0.0.1:{up_port}")
        wait_healthy(f"http://127.0.0.1:{proxy_port}")
        status, text = ask(f"http://127.0.0.1:{proxy_port}", "record me")
        ok("a recording made through mockbay record", status == 200, text)
    finally:
        for child in (proxy, upstream):
            child.terminate()
            child.wait(timeout=10)
    out.chmod(0o755)
    for file in out.rglob("*"):
        file.chmod(0o755 if file.is_dir() else 0o644)  # readable by the container's user
    return out, text


def checks(tool: Engine, workdir: Path) -> None:
    config = json.loads(tool("inspect", "--format", "{{json .Config}}", IMAGE))
    user = str(config.get("User", ""))
    ok("numeric non-root USER in the image", user.split(":")[0].isdigit() and user.split(":")[0] != "0", user)
    labels = config.get("Labels") or {}
    ok(
        "OCI labels",
        labels.get("org.opencontainers.image.title") == "mockbay",
        labels.get("org.opencontainers.image.version"),
    )

    port = free_port()
    with container(tool, "mockbay-it-default", port=port) as url:
        status, health = get(f"{url}/_mockbay/health")
        loaded = health.get("scenarios")
        ok("health from the host", status == 200 and isinstance(loaded, int) and loaded > 0, health)
        ok("the image's HEALTHCHECK", healthcheck_passes(tool, "mockbay-it-default"))
        status, text = ask(url, "Hello")
        ok("a message", status == 200 and bool(text), text[:60])
        uid = tool("exec", "mockbay-it-default", "python3", "-c", "import os; print(os.getuid())")
        ok("runs as a numeric non-root uid", uid.isdigit() and uid != "0", uid)
        kept = tool(
            "exec",
            "mockbay-it-default",
            "python3",
            "-m",
            "mockbay.compile_dataclasses",
            "--check",
            check=False,
        )
        ok("dataclass code compiled in the image", " 0 missing," in kept, kept.rpartition("/")[2])
        started = time.monotonic()
        tool("stop", "-t", "10", "mockbay-it-default")
        took = time.monotonic() - started
        ok(f"stops within {STOP_BUDGET_S:.0f} s", took < STOP_BUDGET_S, f"{took:.2f} s")
        exit_code = tool("inspect", "--format", "{{.State.ExitCode}}", "mockbay-it-default")
        ok("exit code 0 on SIGTERM", exit_code == "0", exit_code)

    scenarios = workdir / "scenarios"
    scenarios.mkdir()
    (scenarios / "host.yaml").write_text(SCENARIO)
    scenarios.chmod(0o755)
    (scenarios / "host.yaml").chmod(0o644)
    mount = ("-v", f"{scenarios}:/scenarios:ro")
    with container(tool, "mockbay-it-mounted", *mount, "--", "--fallback", "strict", port=free_port()) as url:
        status, text = ask(url, "from a mounted folder")
        ok("a mounted scenario folder", status == 200 and text == "Served from a mounted folder.", text)
        ok("--fallback strict given after the image", ask(url, "nothing matches")[0] == 400)

    recording, recorded = record(workdir)
    rec = ("-v", f"{recording}:/recordings:ro")
    args = ("--", "--scenarios", "/recordings", "--fallback", "strict")
    with container(tool, "mockbay-it-recording", *rec, *args, port=free_port()) as url:
        status, text = ask(url, "record me")
        ok("a recording mounted read-only replays", status == 200 and text == recorded, text)

    env = ("-e", "MOCKBAY_PORT=9090")
    with container(tool, "mockbay-it-env", *env, port=free_port(), inner=9090):
        ok("MOCKBAY_PORT=9090 serves and is healthy", healthcheck_passes(tool, "mockbay-it-env"))
    with container(tool, "mockbay-it-arg", "--", "--port", "9191", port=free_port(), inner=9191):
        ok("--port 9191 serves and is healthy", healthcheck_passes(tool, "mockbay-it-arg"))


def main(argv: Sequence[str] = ()) -> int:
    tool = engine()
    print(f"engine: {tool.name}", flush=True)
    started = time.monotonic()
    build(tool)
    built = time.monotonic()
    size = tool("image", "inspect", "--format", "{{.Size}}", IMAGE)
    print(f"built {IMAGE} in {built - started:.1f} s, {int(size) / 1e6:.0f} MB", flush=True)
    with tempfile.TemporaryDirectory(prefix="mockbay-image-test-") as temp:
        workdir = Path(temp)
        workdir.chmod(0o755)
        checks(tool, workdir)
    print(
        f"image-test passed: build {built - started:.1f} s, checks {time.monotonic() - built:.1f} s",
        flush=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
