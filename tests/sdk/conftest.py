"""Fixtures for the SDK tier: `chaos mock` as a subprocess, and clients pointed at it.

`mock(*flags)` starts `chaos mock --openai 127.0.0.1:0 --anthropic 127.0.0.1:0 --azure 127.0.0.1:0
--gemini 127.0.0.1:0 --bedrock 127.0.0.1:0 FLAGS…` (the binary from `$CHAOS_BIN`, default `target/debug/chaos`), reads the addresses it
prints, and at teardown stops it with SIGINT, waits for it to exit (killing it on a timeout) and
checks that it exited cleanly. `proxy(upstream, *faults, family=…)` starts `chaos proxy` (the
interposer) in front of one of them, with those faults, stopped the same way.
"""

from __future__ import annotations

import json
import os
import queue
import re
import signal
import subprocess
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
STARTUP_TIMEOUT_S = 10.0
SHUTDOWN_TIMEOUT_S = 5.0
FAMILIES = ("openai", "anthropic", "azure", "gemini", "bedrock")
LISTENING = re.compile(rf"^({'|'.join(FAMILIES)}) mock listening on (http://\S+)")
PROXY_LISTENING = re.compile(rf"^(?:{'|'.join(FAMILIES)}) interposer listening on (http://\S+)")


def chaos_bin() -> Path:
    path = Path(os.environ.get("CHAOS_BIN", "target/debug/chaos"))
    path = path if path.is_absolute() else ROOT / path
    if not path.is_file():
        pytest.fail(f"no chaos binary at {path}: run `cargo build`, or set CHAOS_BIN")
    return path


@dataclass
class Mock:
    """A running `chaos mock`: its base URLs, and what it counted."""

    process: subprocess.Popen
    urls: dict[str, str]
    stderr: object
    stdout_lines: list[str] = field(default_factory=list)

    @property
    def openai_base_url(self) -> str:
        return self.urls["openai"] + "/v1"

    @property
    def anthropic_base_url(self) -> str:
        return self.urls["anthropic"]

    def counts(self, family: str) -> list[dict]:
        """The rows of `GET /_chaos/counts` on the `family` mock."""
        with urllib.request.urlopen(self.urls[family] + "/_chaos/counts", timeout=5) as response:
            return json.load(response)["counts"]

    def statuses(self, family: str) -> dict[str, int]:
        """Every status the `family` mock answered, summed over keys and models."""
        total: dict[str, int] = {}
        for row in self.counts(family):
            for status, n in row["statuses"].items():
                total[status] = total.get(status, 0) + n
        return total

    def requests(self, family: str) -> int:
        return sum(row["requests"] for row in self.counts(family))

    def stderr_text(self) -> str:
        self.stderr.seek(0)
        return self.stderr.read().decode(errors="replace")


def _pump(stream, lines: queue.Queue) -> None:
    """Moves the mock's stdout into `lines` until it closes (then puts None)."""
    for line in iter(stream.readline, b""):
        lines.put(line.decode(errors="replace").rstrip("\n"))
    lines.put(None)


def _start(flags: tuple[str, ...]) -> Mock:
    args = [str(chaos_bin()), "mock"]
    for family in FAMILIES:
        args += [f"--{family}", "127.0.0.1:0"]
    args += flags
    stderr = tempfile.TemporaryFile()
    process = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.PIPE, stderr=stderr)
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=_pump, args=(process.stdout, lines), daemon=True).start()
    mock = Mock(process=process, urls={}, stderr=stderr)
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while len(mock.urls) < len(FAMILIES):
        try:
            line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            line = None
        if line is None:
            process.kill()
            process.wait()
            missing = sorted(set(FAMILIES) - set(mock.urls))
            pytest.fail(
                f"`{' '.join(args)}` printed no address for {missing} (exit {process.returncode});"
                f" stdout: {mock.stdout_lines}; stderr:\n{mock.stderr_text()}"
            )
        mock.stdout_lines.append(line)
        if match := LISTENING.match(line):
            mock.urls[match[1]] = match[2]
    return mock


def _stop(mock: Mock) -> str | None:
    """Stops the mock with SIGINT (SIGKILL after a timeout); says what went wrong, if anything."""
    process = mock.process
    problem = None
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=SHUTDOWN_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            problem = f"chaos mock outlived SIGINT by {SHUTDOWN_TIMEOUT_S} s and was killed"
    if problem is None and process.returncode != 0:
        problem = f"chaos mock exited {process.returncode} on SIGINT"
    if problem is not None:
        problem += f"; stderr:\n{mock.stderr_text()}"
    mock.stderr.close()
    return problem


@pytest.fixture
def mock():
    """A factory: `mock("--keys", "1")` starts a mock with those flags; all are stopped at teardown."""
    started: list[Mock] = []

    def start(*flags: str) -> Mock:
        started.append(_start(flags))
        return started[-1]

    yield start
    problems = [problem for problem in map(_stop, started) if problem]
    if problems:
        pytest.fail("\n".join(problems))


@pytest.fixture
def proxy():
    """A factory: `proxy(upstream, *faults, family="openai")` starts `chaos proxy` in front of
    `upstream` and returns its base URL (no path); all are stopped with SIGINT at teardown and must
    exit cleanly."""
    started: list[subprocess.Popen] = []

    def start(upstream: str, *faults: str, family: str = "openai") -> str:
        args = [str(chaos_bin()), "proxy", "--listen", "127.0.0.1:0", "--upstream", upstream]
        args += ["--threads", "1", "--family", family]
        for fault in faults:
            args += ["--fault", fault]
        process = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.PIPE, stderr=tempfile.TemporaryFile())
        started.append(process)
        lines: queue.Queue = queue.Queue()
        threading.Thread(target=_pump, args=(process.stdout, lines), daemon=True).start()
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while (line := lines.get(timeout=max(0.0, deadline - time.monotonic()))) is not None:
            if match := PROXY_LISTENING.match(line):
                return match[1]
        pytest.fail(f"`{' '.join(args)}` printed no address (exit {process.poll()})")

    yield start
    for process in started:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=SHUTDOWN_TIMEOUT_S) == 0, "chaos proxy exits cleanly on SIGINT"


@pytest.fixture(autouse=True)
def clean_sdk_environment(monkeypatch):
    """No provider variable (OPENAI_*, ANTHROPIC_*, AZURE_*, GOOGLE_*, GEMINI_*, AWS_*) or proxy from the
    caller's shell reaches the SDKs."""
    for name in list(os.environ):
        if name.startswith(("OPENAI_", "ANTHROPIC_", "AZURE_", "GOOGLE_", "GEMINI_", "AWS_")) or name.lower().endswith("_proxy"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
