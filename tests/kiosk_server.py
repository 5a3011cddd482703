"""Helpers of the kiosk tests that run the real `loyalty kiosk` process and talk HTTP to it."""

from __future__ import annotations

import http.client
import http.cookiejar
import os
import re
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Kiosk:
    """`python -m loyaltycli kiosk --port PORT ...` as a child process (the test's LOYALTY_DB)."""

    def __init__(self, *args: str, port: int | None = None):
        self.port = port or free_port()
        self.process = subprocess.Popen([sys.executable, "-m", "loyaltycli", "kiosk", "--port", str(self.port), *args],
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=os.environ.copy())
        self.url = f"http://127.0.0.1:{self.port}"

    def wait(self, address: str = "127.0.0.1", timeout: float = 90) -> "Kiosk":
        """Until the server accepts connections (it may take a while on a loaded machine)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"the kiosk exited {self.process.returncode}: {self.process.stderr.read()}")
            if reachable(address, self.port):
                return self
            time.sleep(0.1)
        raise AssertionError("the kiosk did not start listening")

    def stop(self) -> str:
        """Stop it (as Ctrl+C would); its stderr."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.stderr.read()

    def __enter__(self) -> "Kiosk":
        return self.wait()

    def __exit__(self, *exc) -> None:
        self.stop()


def reachable(address: str, port: int) -> bool:
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    with socket.socket(family) as probe:
        probe.settimeout(2)
        try:
            probe.connect((address, port))
        except OSError:
            return False
        return True


def listening_addresses(port: int) -> set[str]:
    """The local addresses of the sockets listening on ``port`` (Linux's /proc/net/tcp and tcp6), as
    /proc writes them: '0100007F' is 127.0.0.1, '00000000' every IPv4 address."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as fh:
                lines = fh.read().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            address, hex_port = fields[1].split(":")
            if fields[3] == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                found.add(address)
    return found


class Browser:
    """A plain HTTP client with cookies (the kiosk's session cookie holds the CSRF token)."""

    def __init__(self, base: str):
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def get(self, path: str) -> str:
        with self.opener.open(self.base + path, timeout=60) as answer:
            return answer.read().decode("utf-8")

    def token(self, path: str) -> str:
        return re.search(r'name="csrf_token" value="([^"]+)"', self.get(path)).group(1)

    def post(self, path: str, fields: dict) -> tuple[int, str]:
        data = urllib.parse.urlencode(fields).encode("ascii")
        try:
            with self.opener.open(self.base + path, data=data, timeout=60) as answer:
                return answer.status, answer.read().decode("utf-8")
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode("utf-8")


def raw_request(port: int, method: str, path: str, *, host: str, body: str = "",
                headers: dict | None = None) -> int:
    """One request with the Host header given (http.client sends what we say); its status."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.putrequest(method, path, skip_host=True)
        connection.putheader("Host", host)
        for name, value in {"Content-Type": "application/x-www-form-urlencoded", **(headers or {})}.items():
            connection.putheader(name, value)
        connection.putheader("Content-Length", str(len(body.encode("utf-8"))))
        connection.endheaders(body.encode("utf-8"))
        return connection.getresponse().status
    finally:
        connection.close()
