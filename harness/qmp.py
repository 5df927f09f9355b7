"""A small client for QEMU's QMP (QEMU Machine Protocol) over a unix socket.

QMP is JSON objects, one per line: QEMU greets, the client sends
qmp_capabilities to leave negotiation mode, then each {"execute": ...}
gets one {"return": ...} or {"error": ...}; asynchronous {"event": ...}
messages may come in between and are kept in `events`.
"""
from __future__ import annotations

import json
import socket
import time
from pathlib import Path
from typing import Any, Callable, Optional

from .errors import QmpError


class QmpClient:
    def __init__(self, path: Path, timeout: float = 10.0):
        self.path = path
        self.timeout = timeout
        self.events: list[dict] = []
        self._sock: Optional[socket.socket] = None
        self._buf = b""
        self._next_id = 0

    def connect(self, wait: float = 30.0,
                alive: Callable[[], bool] = lambda: True) -> dict:
        """Connect (retrying while QEMU creates the socket, at most `wait` s
        and only while alive() says QEMU runs), negotiate, return greeting."""
        deadline = time.monotonic() + wait
        while True:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                s.connect(str(self.path))
                break
            except (FileNotFoundError, ConnectionRefusedError) as e:
                s.close()
                if not alive():
                    raise QmpError(f"QEMU ended before its QMP socket {self.path} "
                                   "answered") from e
                if time.monotonic() > deadline:
                    raise QmpError(f"no QMP socket at {self.path} after {wait:g} s") from e
                time.sleep(0.05)
        s.settimeout(self.timeout)
        self._sock = s
        greeting = self._read()
        if "QMP" not in greeting:
            raise QmpError(f"unexpected QMP greeting: {greeting}")
        self.execute("qmp_capabilities")
        return greeting

    def _read(self) -> dict:
        assert self._sock is not None, "QMP not connected"
        while b"\n" not in self._buf:
            try:
                chunk = self._sock.recv(65536)
            except socket.timeout as e:
                raise QmpError(f"QMP: no answer within {self.timeout:g} s") from e
            if not chunk:
                raise QmpError("QMP: QEMU closed the socket")
            self._buf += chunk
        line, self._buf = self._buf.split(b"\n", 1)
        try:
            return json.loads(line)
        except json.JSONDecodeError as e:
            raise QmpError(f"QMP: bad JSON {line!r}") from e

    def execute(self, command: str, arguments: Optional[dict] = None) -> Any:
        """Run one QMP command and return its "return" value."""
        if self._sock is None:
            raise QmpError(f"QMP not connected (command {command})")
        self._next_id += 1
        msg: dict = {"execute": command, "id": self._next_id}
        if arguments:
            msg["arguments"] = arguments
        try:
            self._sock.sendall(json.dumps(msg).encode() + b"\n")
        except OSError as e:
            raise QmpError(f"QMP: cannot send {command}: {e}") from e
        while True:
            reply = self._read()
            if "event" in reply:
                self.events.append(reply)
                continue
            if reply.get("id") != self._next_id:
                continue   # an answer to a command that timed out earlier
            if "error" in reply:
                err = reply["error"]
                raise QmpError(f"QMP {command}: {err.get('class')}: {err.get('desc')}")
            return reply.get("return")

    def inject_nmi(self) -> None:
        """Raise an NMI on every vCPU (QMP inject-nmi)."""
        self.execute("inject-nmi")

    def quit(self) -> None:
        """Ask QEMU to exit (status 0). QEMU may close the socket before or
        after answering; both are success."""
        try:
            self.execute("quit")
        except (QmpError, OSError):   # OSError: QEMU already gone (reset, EPIPE)
            pass

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None
