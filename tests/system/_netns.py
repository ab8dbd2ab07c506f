"""A tiny isolated network of Linux network namespaces, for tests that must not talk over loopback.

`NetnsLab` makes one namespace per host plus a "switch" namespace holding a bridge; every host has one veth
whose peer end is a port of that bridge, and one address in a private /24. Nothing is created in (or changes)
the root namespace: the veth pairs are made inside the namespaces. Everything the lab started or created is
removed by `close()`: processes are terminated (then killed), and the namespaces are deleted.

Needs root and iproute2; `NetnsUnavailable` says why the lab cannot be built here.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import secrets
import shutil
import signal
import socket
import struct
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import NoReturn

import pytest

IP_TIMEOUT_S = 10.0
"""Bound on every `ip` command."""
STOP_GRACE_S = 5.0
"""How long a terminated process gets before it is killed."""
PR_SET_PDEATHSIG = 1
_LISTEN = "0A"
_UNPRIVILEGED = ("operation not permitted", "permission denied")
_UNSUPPORTED = ("unknown device type", "not supported", "no such file or directory")


class NetnsUnavailable(RuntimeError):
    """This machine (or container) cannot create network namespaces, veths or bridges."""


def unavailable_reason() -> str | None:
    """Why no lab can be built here, judged without creating anything; None when it looks possible."""
    if not sys.platform.startswith("linux"):
        return f"network namespaces are Linux only (this is {sys.platform})"
    if os.geteuid() != 0:
        return "network namespaces need root (run the test as root, e.g. in a privileged CI container)"
    if shutil.which("ip") is None:
        return "the `ip` command (iproute2) is missing"
    return None


def skip_or_fail(reason: str) -> NoReturn:
    """Skip a test that needs a lab where none can be built, or fail it where COLLABGAP_NETNS_REQUIRED=1 (CI)."""
    if os.environ.get("COLLABGAP_NETNS_REQUIRED") == "1":
        pytest.fail(f"network namespaces are required here (COLLABGAP_NETNS_REQUIRED=1), but: {reason}")
    pytest.skip(f"network namespaces unavailable: {reason}")


@contextlib.contextmanager
def open_lab(roles: Sequence[str], log_dir: Path) -> Iterator[NetnsLab]:
    """A lab for a test (or `skip_or_fail`); closed afterwards, and checked to have left no namespace behind."""
    if reason := unavailable_reason():
        skip_or_fail(reason)
    lab = NetnsLab(roles, log_dir)
    try:
        lab.__enter__()  # deletes whatever it made before raising
    except NetnsUnavailable as exc:
        skip_or_fail(str(exc))
    try:
        yield lab
    finally:
        lab.close()
        assert lab.leftovers() == [], "network namespaces were left behind"


def child_env(**extra: str) -> dict[str, str]:
    """The test's environment for a process in the lab, without proxies (nothing in a lab can reach one)."""
    env = {key: value for key, value in os.environ.items() if not key.lower().endswith("_proxy")}
    return {**env, "PYTHONUNBUFFERED": "1", **extra}


def _die_with_parent() -> None:
    """In the child before exec: SIGTERM when the test process dies, even by SIGKILL (`ip netns exec` execs
    the command in place, so the setting reaches it)."""
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


@dataclass
class Host:
    """One namespace with one address on the lab's subnet."""

    role: str
    netns: str
    ip: str


@dataclass
class LoCounters:
    rx_packets: int
    tx_packets: int


@dataclass
class NetnsLab:
    """Namespaces `<prefix>-<role>` on a bridge in `<prefix>-switch`, addresses 10.<octet>.0.1, .2, ..."""

    roles: Sequence[str]
    log_dir: Path
    prefix: str = field(default_factory=lambda: f"cg{secrets.token_hex(3)}")
    octet: int = field(default_factory=lambda: 16 + secrets.randbelow(224))
    hosts: dict[str, Host] = field(default_factory=dict)
    _created: list[str] = field(default_factory=list)
    _processes: list[tuple[str, subprocess.Popen[bytes], Path]] = field(default_factory=list)

    @property
    def switch(self) -> str:
        return f"{self.prefix}-switch"

    def __enter__(self) -> NetnsLab:
        try:
            self._build()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- building -------------------------------------------------------------------------------------------

    def _ip(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=IP_TIMEOUT_S,
                                stdin=subprocess.DEVNULL)
        if check and result.returncode != 0:
            message = f"`ip {' '.join(args)}` failed ({result.returncode}): {result.stderr.strip()}"
            lowered = result.stderr.lower()
            if any(word in lowered for word in _UNPRIVILEGED):
                raise NetnsUnavailable(f"{message} (EPERM: no privilege to manage namespaces here)")
            if "type" in args and any(word in lowered for word in _UNSUPPORTED):
                raise NetnsUnavailable(f"{message} (the kernel lacks veth or bridge support)")
            raise RuntimeError(message)
        return result

    def _add_netns(self, name: str) -> None:
        self._ip("netns", "add", name)
        self._created.append(name)

    def _build(self) -> None:
        self._add_netns(self.switch)
        self._ip("-n", self.switch, "link", "add", "br0", "type", "bridge")
        self._ip("-n", self.switch, "link", "set", "br0", "up")
        for index, role in enumerate(self.roles, start=1):
            netns = f"{self.prefix}-{role}"
            self._add_netns(netns)
            port = f"p{index}"
            # The pair is born inside the host namespace, its peer end moved straight into the switch.
            self._ip("-n", netns, "link", "add", "eth0", "type", "veth", "peer", "name", port, "netns", self.switch)
            self._ip("-n", self.switch, "link", "set", port, "master", "br0")
            self._ip("-n", self.switch, "link", "set", port, "up")
            ip = f"10.{self.octet}.0.{index}"
            self._ip("-n", netns, "addr", "add", f"{ip}/24", "dev", "eth0")
            self._ip("-n", netns, "link", "set", "lo", "up")
            self._ip("-n", netns, "link", "set", "eth0", "up")
            self.hosts[role] = Host(role, netns, ip)

    # -- processes --------------------------------------------------------------------------------------------

    def exec_argv(self, role: str, argv: Sequence[str]) -> list[str]:
        return ["ip", "netns", "exec", self.hosts[role].netns, *argv]

    def spawn(self, role: str, name: str, argv: Sequence[str], *, env: dict[str, str],
              cwd: Path | None = None) -> subprocess.Popen[bytes]:
        """Start `argv` inside the namespace of `role`, output to `<log_dir>/<name>.log`; stopped by close()."""
        log = self.log_dir / f"{name}.log"
        with log.open("wb") as sink:
            process = subprocess.Popen(self.exec_argv(role, argv), stdin=subprocess.DEVNULL, stdout=sink,
                                       stderr=subprocess.STDOUT, env=env, cwd=cwd, preexec_fn=_die_with_parent,
                                       start_new_session=True)
        self._processes.append((name, process, log))
        return process

    def run(self, role: str, argv: Sequence[str], *, env: dict[str, str], timeout: float,
            cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        """Run `argv` to completion inside the namespace of `role`, bounded by `timeout` seconds."""
        return subprocess.run(self.exec_argv(role, argv), capture_output=True, text=True, env=env, cwd=cwd,
                              timeout=timeout, stdin=subprocess.DEVNULL, preexec_fn=_die_with_parent)

    def dead(self) -> list[str]:
        """The started processes that have exited already, each with its exit code and the tail of its log."""
        return [f"{name} exited with code {process.returncode}:\n{self.log_tail(name)}"
                for name, process, _ in self._processes if process.poll() is not None]

    def log_tail(self, name: str, chars: int = 3000) -> str:
        log = self.log_dir / f"{name}.log"
        return log.read_text(errors="replace")[-chars:] if log.exists() else "(no log)"

    # -- observation ------------------------------------------------------------------------------------------

    def lo_counters(self, role: str) -> LoCounters:
        """Packets the loopback interface of `role`'s namespace has received and sent since it was created."""
        out = self._ip("-j", "-s", "-n", self.hosts[role].netns, "link", "show", "dev", "lo").stdout
        [link] = json.loads(out)
        stats = link.get("stats64") or link["stats"]
        return LoCounters(rx_packets=int(stats["rx"]["packets"]), tx_packets=int(stats["tx"]["packets"]))

    def listening(self, role: str) -> list[tuple[str, int]]:
        """(address, port) of every listening TCP socket (IPv4 and IPv6) in `role`'s namespace."""
        return [local for local, _, state in self._tcp_table(role) if state == _LISTEN]

    def connections(self, role: str) -> list[tuple[tuple[str, int], tuple[str, int]]]:
        """(local, remote) (address, port) of every TCP socket in `role`'s namespace, listening ones included
        (their remote end is the wildcard address)."""
        return [(local, remote) for local, remote, _ in self._tcp_table(role)]

    def _tcp_table(self, role: str) -> list[tuple[tuple[str, int], tuple[str, int], str]]:
        result = subprocess.run(self.exec_argv(role, ["cat", "/proc/net/tcp", "/proc/net/tcp6"]),
                                capture_output=True, text=True, timeout=IP_TIMEOUT_S, stdin=subprocess.DEVNULL)
        table = []
        for line in result.stdout.splitlines():
            fields = line.split()
            if len(fields) < 4 or ":" not in fields[1] or ":" not in fields[2]:
                continue  # the header
            table.append((_decode_endpoint(fields[1]), _decode_endpoint(fields[2]), fields[3]))
        return table

    def routes_to(self, role: str, address: str) -> bool:
        """Whether `role`'s namespace has a route to `address` (a lab host has none beyond its own subnet)."""
        return self._ip("-n", self.hosts[role].netns, "route", "get", address, check=False).returncode == 0

    # -- teardown ---------------------------------------------------------------------------------------------

    def close(self) -> None:
        """Stop every started process and its children (SIGTERM to its process group, SIGKILL after a grace
        period), then delete every namespace created."""
        for _, process, _ in self._processes:
            if process.poll() is None:
                _signal_group(process, signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_S
        for _, process, _ in self._processes:
            try:
                process.wait(timeout=max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                _signal_group(process, signal.SIGKILL)
                process.wait(timeout=STOP_GRACE_S)
            _signal_group(process, signal.SIGKILL)  # any child it left behind in its group
        self._processes.clear()
        for netns in self._created:  # what left its group (a daemon in a session of its own), not its namespace
            for pid in self._ip("netns", "pids", netns, check=False).stdout.split():
                with contextlib.suppress(ProcessLookupError):
                    os.kill(int(pid), signal.SIGKILL)
        problems = []
        for netns in reversed(self._created):
            result = self._ip("netns", "del", netns, check=False)
            if result.returncode != 0:
                problems.append(f"{netns}: {result.stderr.strip()}")
        self._created.clear()
        if problems:
            raise RuntimeError("could not delete network namespaces: " + "; ".join(problems))

    def leftovers(self) -> list[str]:
        """Namespaces of this lab still present (should be none after close())."""
        names = self._ip("netns", "list").stdout.split()
        return [name for name in names if name.startswith(f"{self.prefix}-")]


def _signal_group(process: subprocess.Popen[bytes], signum: int) -> None:
    """Signal the process group that `process` leads (each spawned process starts a session of its own)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signum)


def _decode_endpoint(field: str) -> tuple[str, int]:
    """A /proc/net/tcp{,6} endpoint, `ADDRESS:PORT` in hex."""
    address, port = field.rsplit(":", 1)
    return _decode_address(address), int(port, 16)


def _decode_address(hex_address: str) -> str:
    """A /proc/net/tcp{,6} address: 32-bit words in host byte order."""
    raw = bytes.fromhex(hex_address)
    words = b"".join(struct.pack("=I", int.from_bytes(raw[i:i + 4], "big")) for i in range(0, len(raw), 4))
    family = socket.AF_INET if len(words) == 4 else socket.AF_INET6
    return socket.inet_ntop(family, words)
