"""`make image-test`: build the image from the Dockerfile, run it, and check it from the host.

With a Docker engine it uses `docker`. Without one (as on machines that have no engine and no
registry), it uses podman with runc and a base image made locally with debootstrap (Debian
bookworm's Python 3.11), cached outside the repository (`MOCKBAY_IMAGE_CACHE`, default
~/.cache/mockbay-image): the first run takes a minute or more, later ones seconds. See
docs/container.md for why each podman flag is there.

Checks, each against a running container: health (and the image's own HEALTHCHECK), a message,
a mounted scenario folder, a recording made by `mockbay record` mounted read-only, MOCKBAY_PORT
and a `--port` argument both followed by the health check, a numeric non-root user, an orphan
process reaped (not left a zombie), and a stop within 2 s with exit code 0: by SIGTERM once
serving and just after the start, by SIGINT once serving. Prints one line per check and the
timings; exits non-zero on the first failure.

Each run names its image tag and containers after itself (and labels the containers), so runs at
once in two worktrees never meet, and removes them when it ends: on success, failure, Ctrl-C,
SIGTERM or SIGHUP. The shared base image and the build stage's layers stay, for the next run.
"""

from __future__ import annotations

import fcntl
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

REPO = Path(__file__).resolve().parent.parent
RUN = f"{os.getpid()}-{secrets.token_hex(3)}"
IMAGE = f"localhost/mockbay:image-test-{RUN}"
LABEL = f"mockbay.image-test={RUN}"
# Shared by every run: made once, under CACHE's lock.
BASE = "localhost/mockbay-base:bookworm-python3.11"
CACHE = Path(os.environ.get("MOCKBAY_IMAGE_CACHE", Path.home() / ".cache" / "mockbay-image"))
MIRROR = os.environ.get("MOCKBAY_DEBIAN_MIRROR", "http://deb.debian.org/debian")
HOST_CA = Path("/etc/ssl/certs/ca-certificates.crt")
TOOLS_HINT = "`make image-tools` installs podman, runc and debootstrap (apt-get, as root or with sudo)"
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
# Run in the container with `python3 -c`: a child that outlives its parent, and the zombies' count.
ORPHAN = """
import os, time
if os.fork() == 0:
    time.sleep(0.1)
os._exit(0)
"""
ZOMBIES = """
import glob
states = [open(stat).read().rsplit(")", 1)[1].split()[0] for stat in glob.glob("/proc/[0-9]*/stat")]
print(states.count("Z"))
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
    remove: tuple[str, ...] = ("rm", "-f")  # at once: a container killed early may ignore SIGTERM

    def __call__(self, *args: str, check: bool = True, capture: bool = True, detached: bool = False) -> str:
        """Run the engine; `detached` puts it in a session of its own, out of reach of a second
        Ctrl-C while cleaning up."""
        done = subprocess.run(
            [*self.command, *args],
            check=False,
            text=True,
            capture_output=capture,
            stdin=subprocess.DEVNULL,
            start_new_session=detached,
        )
        if check and done.returncode != 0:
            raise SystemExit(
                f"{self.name} {' '.join(args[:3])}… failed ({done.returncode})\n{done.stderr or ''}"
            )
        return (done.stdout or "").strip()

    def clean_up(self) -> None:
        """Remove this run's containers (by label, so one created just before an interrupt too)
        and its image with the final stage's untagged layers (rebuilt in seconds); the first
        stage's, which hold the slow `pip install`, stay as the build cache."""
        ours = self("ps", "-a", "-q", "--filter", f"label={LABEL}", check=False, detached=True).split()
        if ours:
            self(*self.remove, *ours, check=False, detached=True)
        self("rmi", IMAGE, check=False, detached=True)


def engine() -> Engine:
    docker = shutil.which("docker")
    if docker and subprocess.run([docker, "info"], capture_output=True, check=False).returncode == 0:
        return Engine("docker", (docker,))
    if shutil.which("podman") is None or _sbin("runc") is None:
        raise SystemExit(f"image-test: no Docker engine, and podman or runc is missing; {TOOLS_HINT}")
    return Engine("podman", ("podman", "--runtime", "runc"), PODMAN_LIMITS, ("rm", "-f", "-t", "0"))


def _sbin(tool: str) -> str | None:
    """`tool`'s path, looking in /usr/sbin and /sbin too (Debian puts runc and debootstrap there,
    outside a non-root user's PATH)."""
    return shutil.which(tool, path=f"{os.environ.get('PATH', '')}:/usr/sbin:/sbin")


def base_image(podman: Engine) -> str:
    """Debian bookworm with Python 3.11 made by debootstrap, cached as a rootfs and as an image."""
    if not _exists(podman, BASE):
        _import_base(podman, _rootfs())
    return BASE


@contextmanager
def _build_lock() -> Iterator[None]:
    """One podman build of image-test at a time: the base is made once, and working containers
    that appear during a build are that build's own."""
    CACHE.mkdir(parents=True, exist_ok=True)
    with (CACHE / "lock").open("w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print(f"waiting for another image-test build ({CACHE / 'lock'})", flush=True)
            fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _working_containers(podman: Engine) -> set[str]:
    """The build containers that exist now (`NAME-working-container`, one per stage and step)."""
    listed = podman("ps", "-a", "--external", "--format", "{{.ID}} {{.Names}}", check=False, detached=True)
    return {line.split()[0] for line in listed.splitlines() if line.endswith("-working-container")}


def _rootfs() -> Path:
    rootfs = CACHE / "rootfs"
    if rootfs.is_dir():
        return rootfs
    debootstrap = _sbin("debootstrap")
    if debootstrap is None:
        raise SystemExit(f"image-test: debootstrap is missing; {TOOLS_HINT}")
    for stale in CACHE.glob("rootfs.partial*"):
        _discard(stale)
    partial = Path(tempfile.mkdtemp(prefix="rootfs.partial-", dir=CACHE))
    partial.chmod(0o755)  # the image's `/`
    print(f"debootstrap: a Debian bookworm base into {rootfs} (minutes, once)", flush=True)
    started = time.monotonic()
    packages = "python3,python3-venv,python-is-python3,ca-certificates"
    command = [debootstrap, "--variant=minbase", f"--include={packages}", "bookworm", str(partial), MIRROR]
    try:
        code = _wait_or_stop(subprocess.Popen(command, stdout=subprocess.DEVNULL, start_new_session=True))
        if code != 0:
            raise SystemExit(f"image-test: debootstrap failed ({code}) from {MIRROR} (MOCKBAY_DEBIAN_MIRROR)")
        for leftover in ("var/cache/apt/archives", "var/lib/apt/lists"):
            for path in (partial / leftover).glob("*"):
                if path.is_file():
                    path.unlink()
        partial.rename(rootfs)
        print(f"debootstrap: done in {time.monotonic() - started:.0f} s", flush=True)
    finally:
        _discard(partial)
    return rootfs


def _wait_or_stop(child: subprocess.Popen[bytes]) -> int:
    """The exit code of `child`, which leads a process group of its own. Interrupted, stop the
    whole group (debootstrap runs dpkg in the chroot) before the tree is removed."""
    try:
        return child.wait()
    except BaseException:
        os.killpg(child.pid, signal.SIGTERM)
        try:
            child.wait(timeout=10)
        finally:
            with suppress(ProcessLookupError):
                os.killpg(child.pid, signal.SIGKILL)  # what outlived the leader
            child.wait()
        raise


def _discard(tree: Path) -> None:
    """Delete a partial rootfs. An interrupted debootstrap may leave the host's /proc, /sys or
    /dev mounted inside it: unmount those first, and never cross into another file system."""
    if not tree.exists():
        return
    inside = str(tree.resolve()) + "/"
    mounts = [line.split()[1] for line in Path("/proc/self/mounts").read_text().splitlines()]
    for mount in sorted((m for m in mounts if m.startswith(inside)), key=len, reverse=True):
        subprocess.run(["umount", "--lazy", mount], check=False)
    subprocess.run(["rm", "-rf", "--one-file-system", str(tree)], check=False)


def _import_base(podman: Engine, rootfs: Path) -> None:
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


def _exists(podman: Engine, image: str) -> bool:
    return subprocess.run([*podman.command, "image", "exists", image], check=False).returncode == 0


def build(tool: Engine) -> None:
    if tool.name == "docker":
        tool("build", "-t", IMAGE, str(REPO), capture=False)
        return
    args = ["build", "--format", "docker", *PODMAN_LIMITS, "-t", IMAGE]
    if HOST_CA.is_file():  # egress TLS may be re-signed by a local CA that only the host trusts
        args += ["-v", f"{HOST_CA}:/etc/ssl/certs/ca-certificates.crt:ro"]
    with _build_lock():
        base = base_image(tool)
        before = _working_containers(tool)
        try:
            tool(*args, "--build-arg", f"BASE_IMAGE={base}", str(REPO), capture=False)
        finally:  # an interrupted `podman build` (SIGINT, SIGTERM) leaves them behind
            left = _working_containers(tool) - before
            if left:
                tool(*tool.remove, *left, check=False, detached=True)


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
def container(tool: Engine, role: str, *args: str, inner: int = 8080) -> Iterator[tuple[str, str]]:
    """Run the image detached with `args` (run flags, then `--` and serve arguments), published on
    a loopback port the engine picks; yields the container's name (this run's) and URL."""
    at = args.index("--") if "--" in args else len(args)
    run_flags, serve_args = args[:at], args[at + 1 :]
    name = f"mockbay-it-{RUN}-{role}"
    try:
        tool("run", "-d", "--name", name, "--label", LABEL, *tool.run_flags, "-p", f"127.0.0.1::{inner}",
             *run_flags, IMAGE, *serve_args)  # fmt: skip
        url = f"http://{tool('port', name, f'{inner}/tcp').splitlines()[0]}"
        wait_healthy(url)
        yield name, url
    except BaseException:
        print(tool("logs", name, check=False, detached=True), file=sys.stderr)
        raise
    finally:
        tool(*tool.remove, name, check=False, detached=True)


def healthcheck_passes(tool: Engine, name: str) -> bool:
    """Run the image's own HEALTHCHECK now (podman has no scheduler here; docker's runs it too)."""
    if tool.name == "podman":
        return subprocess.run([*tool.command, "healthcheck", "run", name], check=False).returncode == 0
    command = json.loads(tool("inspect", "--format", "{{json .Config.Healthcheck.Test}}", IMAGE))
    return subprocess.run([*tool.command, "exec", name, *command[1:]], check=False).returncode == 0


def stopped(tool: Engine, name: str, how: signal.Signals, *, when: str) -> None:
    """Stop the container by SIGTERM (`stop`, as engines and Kubernetes do) or SIGINT (`kill`);
    it must be gone within STOP_BUDGET_S, with exit code 0, whenever the signal comes."""
    started = time.monotonic()
    if how == signal.SIGTERM:
        tool("stop", "-t", "10", name)  # past the budget, the engine sends SIGKILL: exit 137
    else:
        tool("kill", "-s", how.name, name)
        tool("wait", name)
    took = time.monotonic() - started
    exit_code = tool("inspect", "--format", "{{.State.ExitCode}}", name)
    listened = "listening on" in tool("logs", name, check=False)
    ok(
        f"{how.name} {when}: stopped within {STOP_BUDGET_S:.0f} s, exit code 0",
        took < STOP_BUDGET_S and exit_code == "0",
        f"{took:.2f} s, exit code {exit_code}, {'had listened' if listened else 'never listened'}",
    )


def stopped_just_started(tool: Engine) -> None:
    """SIGTERM before mockbay has its signal handlers: the image's init must pass it on, where
    Python as PID 1 ignored it and the stop waited out the grace period for SIGKILL."""
    name = f"mockbay-it-{RUN}-early"
    try:
        tool("run", "-d", "--name", name, "--label", LABEL, *tool.run_flags, "--network", "none", IMAGE)
        stopped(tool, name, signal.SIGTERM, when="just after the start")
    finally:
        tool(*tool.remove, name, check=False, detached=True)


def orphan_reaped(tool: Engine, name: str) -> bool:
    """A process orphaned inside the container (here, a child outliving an `exec`) is adopted by
    PID 1, which must reap it: Python as PID 1 left it a zombie."""
    tool("exec", name, "python3", "-c", ORPHAN)
    time.sleep(0.5)  # the orphan exits 0.1 s after its parent
    zombies = tool("exec", name, "python3", "-c", ZOMBIES)
    return zombies == "0"


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


@contextmanager
def local(*args: str) -> Iterator[str]:
    """`mockbay ARGS` on the host, on a port of the system's choosing; yields the URL from its
    ready line ("mockbay listening on http://...", "mockbay recording on http://... -> ...")."""
    command = [sys.executable, "-m", "mockbay", *args, "--host", "127.0.0.1", "--port", "0"]
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert child.stdout is not None
        ready = next((line for line in child.stdout if " on http://" in line), "")
        if not ready:
            raise SystemExit(f"mockbay {args[0]} exited ({child.wait()}) before listening")
        yield ready.split(" on ", 1)[1].split()[0]
    finally:
        child.terminate()
        child.wait(timeout=10)


def record(workdir: Path) -> tuple[Path, str]:
    """A recording made the usual way: `mockbay serve` as the upstream, `mockbay record` in front."""
    (workdir / "upstream").mkdir()
    (workdir / "upstream" / "s.yaml").write_text(UPSTREAM)
    out = workdir / "recording"
    serve = ("serve", "--scenarios", str(workdir / "upstream"), "--timing", "instant")
    with local(*serve) as upstream, local("record", "--upstream", upstream, "--out", str(out)) as proxy:
        status, text = ask(proxy, "record me")
        ok("a recording made through mockbay record", status == 200, text)
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

    with container(tool, "default") as (name, url):
        status, health = get(f"{url}/_mockbay/health")
        loaded = health.get("scenarios")
        ok("health from the host", status == 200 and isinstance(loaded, int) and loaded > 0, health)
        ok("the image's HEALTHCHECK", healthcheck_passes(tool, name))
        status, text = ask(url, "Hello")
        ok("a message", status == 200 and bool(text), text[:60])
        uid = tool("exec", name, "python3", "-c", "import os; print(os.getuid())")
        ok("runs as a numeric non-root uid", uid.isdigit() and uid != "0", uid)
        kept = tool(
            "exec",
            name,
            "python3",
            "-m",
            "mockbay.compile_dataclasses",
            "--check",
            check=False,
        )
        ok("dataclass code compiled in the image", " 0 missing," in kept, kept.rpartition("/")[2])
        ok("an orphaned process is reaped, not left a zombie", orphan_reaped(tool, name))
        stopped(tool, name, signal.SIGTERM, when="once serving")
    stopped_just_started(tool)

    scenarios = workdir / "scenarios"
    scenarios.mkdir()
    (scenarios / "host.yaml").write_text(SCENARIO)
    scenarios.chmod(0o755)
    (scenarios / "host.yaml").chmod(0o644)
    mount = ("-v", f"{scenarios}:/scenarios:ro")
    with container(tool, "mounted", *mount, "--", "--fallback", "strict") as (_, url):
        status, text = ask(url, "from a mounted folder")
        ok("a mounted scenario folder", status == 200 and text == "Served from a mounted folder.", text)
        ok("--fallback strict given after the image", ask(url, "nothing matches")[0] == 400)

    recording, recorded = record(workdir)
    rec = ("-v", f"{recording}:/recordings:ro")
    args = ("--", "--scenarios", "/recordings", "--fallback", "strict")
    with container(tool, "recording", *rec, *args) as (_, url):
        status, text = ask(url, "record me")
        ok("a recording mounted read-only replays", status == 200 and text == recorded, text)

    env = ("-e", "MOCKBAY_PORT=9090")
    with container(tool, "env", *env, inner=9090) as (name, _):
        ok("MOCKBAY_PORT=9090 serves and is healthy", healthcheck_passes(tool, name))
        stopped(tool, name, signal.SIGINT, when="once serving")
    with container(tool, "arg", "--", "--port", "9191", inner=9191) as (name, _):
        ok("--port 9191 serves and is healthy", healthcheck_passes(tool, name))


def interrupted(signum: int, frame: FrameType | None) -> None:
    """SIGTERM and SIGHUP unwind like Ctrl-C, so the clean-up below runs for them too."""
    raise KeyboardInterrupt(signal.Signals(signum).name)


def main(argv: Sequence[str] = ()) -> int:
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, interrupted)
    tool = engine()
    print(f"engine: {tool.name}; this run's image {IMAGE}, containers mockbay-it-{RUN}-*", flush=True)
    started = time.monotonic()
    try:
        build(tool)
        built = time.monotonic()
        size = tool("image", "inspect", "--format", "{{.Size}}", IMAGE)
        print(f"built {IMAGE} in {built - started:.1f} s, {int(size) / 1e6:.0f} MB", flush=True)
        with tempfile.TemporaryDirectory(prefix="mockbay-image-test-") as temp:
            workdir = Path(temp)
            workdir.chmod(0o755)
            checks(tool, workdir)
    except KeyboardInterrupt as stop:
        print(
            f"image-test interrupted ({str(stop) or 'SIGINT'}); removing this run's containers and image",
            flush=True,
        )
        return 130
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, signal.SIG_IGN)
        tool.clean_up()
    print(
        f"image-test passed: build {built - started:.1f} s, checks {time.monotonic() - built:.1f} s",
        flush=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
