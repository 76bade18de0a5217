#!/usr/bin/env python3
"""Development supervisor: the ASGI server and a Celery worker with embedded beat, in one terminal.

    python scripts/devserver.py [--host 127.0.0.1] [--port 8000] [--concurrency 2] [--grace 10]

Every line a child prints is prefixed with the child's name. Ctrl-C, SIGTERM or SIGHUP stops all
children: SIGTERM first, a grace period, then SIGKILL to each child's process group (a Celery
worker's pool processes included). If one child exits on its own, the others are stopped and this
script exits non-zero. A second Ctrl-C while stopping kills at once. Standard library only.
"""
from __future__ import annotations

import argparse
import ctypes
import ctypes.util
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
SELF = "devserver"

_output_lock = threading.Lock()
_name_width = len(SELF)


def emit(name: str, text: str) -> None:
    if not text.endswith("\n"):
        text += "\n"
    with _output_lock:
        sys.stdout.write(f"{name:<{_name_width}} | {text}")
        sys.stdout.flush()


def _parent_death_signal():
    """On Linux, a child gets SIGTERM if this supervisor dies without cleaning up (e.g. SIGKILL)."""
    if not sys.platform.startswith("linux"):
        return None
    libc_name = ctypes.util.find_library("c")
    if not libc_name:
        return None
    libc = ctypes.CDLL(libc_name, use_errno=True)
    parent = os.getpid()
    pr_set_pdeathsig = 1

    def preexec() -> None:
        libc.prctl(pr_set_pdeathsig, signal.SIGTERM)
        if os.getppid() != parent:  # the supervisor died before prctl took effect
            os.kill(os.getpid(), signal.SIGTERM)

    return preexec


class Child:
    def __init__(self, name: str, argv: list[str], env: dict[str, str]):
        self.name = name
        self.argv = argv
        self.proc = subprocess.Popen(
            argv,
            cwd=BASE_DIR,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # own process group: signals are ours to send, not the terminal's
            preexec_fn=_parent_death_signal(),
        )
        self.pgid = self.proc.pid
        self.reader = threading.Thread(target=self._pump, name=f"pump-{name}", daemon=True)

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for raw in iter(self.proc.stdout.readline, b""):
            emit(self.name, raw.decode("utf-8", errors="replace"))
        self.proc.stdout.close()

    def running(self) -> bool:
        return self.proc.poll() is None

    def terminate(self) -> None:
        if self.running():
            try:
                self.proc.send_signal(signal.SIGTERM)
            except ProcessLookupError:
                pass

    def kill_group(self) -> None:
        try:
            os.killpg(self.pgid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


class Supervisor:
    def __init__(self, grace: float):
        self.grace = grace
        self.children: list[Child] = []
        self.stop_requested: int | None = None
        self.force = False

    def on_signal(self, signum: int, _frame) -> None:
        if self.stop_requested is not None:
            self.force = True
            return
        self.stop_requested = signum

    def start(self, specs: list[tuple[str, list[str]]]) -> None:
        env = dict(os.environ)
        env["PYTHONUNBUFFERED"] = "1"
        env.setdefault("DJANGO_SETTINGS_MODULE", "erp.settings")
        for name, argv in specs:
            emit(SELF, f"starting {name}: {' '.join(argv)}")
            self.children.append(Child(name, argv, env))
        for child in self.children:
            child.reader.start()

    def watch(self) -> Child | None:
        """Blocks until a stop is requested (returns None) or a child exits (returns it)."""
        while self.stop_requested is None:
            for child in self.children:
                if not child.running():
                    return child
            time.sleep(0.2)
        return None

    def stop_all(self) -> None:
        for child in self.children:
            child.terminate()
        deadline = time.monotonic() + self.grace
        while any(c.running() for c in self.children):
            if self.force or time.monotonic() >= deadline:
                late = ", ".join(c.name for c in self.children if c.running())
                emit(SELF, f"killing {late} ({'second interrupt' if self.force else 'grace period over'})")
                break
            time.sleep(0.1)
        for child in self.children:
            # Also sweeps leftovers of a child that did exit (e.g. orphaned pool processes).
            child.kill_group()
            child.proc.wait()
        for child in self.children:
            if child.reader.ident is not None:  # started
                child.reader.join(timeout=2)


def main(argv: list[str] | None = None) -> int:
    global _name_width
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--concurrency", type=int, default=2, help="Celery worker processes")
    parser.add_argument("--grace", type=float, default=15.0, help="seconds to wait before SIGKILL")
    args = parser.parse_args(argv)

    os.environ.setdefault("DEBUG", "1")  # a development server; `DEBUG=0` is honoured
    python = sys.executable
    specs = [
        (
            "web",
            [python, "-m", "uvicorn", "erp.asgi:application", "--host", args.host, "--port", str(args.port),
             "--lifespan", "off"],
        ),
        (
            "worker",
            [python, "-m", "celery", "-A", "erp", "worker", "-B", "-l", "info",
             "--concurrency", str(args.concurrency)],
        ),
        # Local marketplace servers the demo shops collect from (new orders keep arriving).
        ("sandbox", [python, "manage.py", "run_sandbox"]),
    ]
    _name_width = max(len(SELF), *(len(name) for name, _ in specs))

    supervisor = Supervisor(grace=args.grace)
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, supervisor.on_signal)

    try:
        supervisor.start(specs)
    except OSError as exc:
        emit(SELF, f"could not start: {exc}")
        supervisor.stop_all()
        return 1
    emit(SELF, f"http://{args.host}:{args.port}/admin/ — press Ctrl-C to stop everything")

    died = supervisor.watch()
    if died is not None:
        emit(SELF, f"{died.name} exited with code {died.proc.returncode}; stopping the others")
        supervisor.stop_all()
        code = died.proc.returncode
        return code if code > 0 else (128 - code if code < 0 else 1)

    emit(SELF, f"got {signal.Signals(supervisor.stop_requested).name}; stopping")
    supervisor.stop_all()
    emit(SELF, "all stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
