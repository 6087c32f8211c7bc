# SPDX-License-Identifier: Apache-2.0
"""Client helper for the libmodels loopback test server (standard library only).

    from testserver import TestServer

    with TestServer() as srv:                 # starts llm_test_server.py on a free port
        srv.script("m1", {"status": 429, "headers": {"Retry-After": "1"}}, {"content": "hi"})
        ... point the library at srv.url + "/v1" ...
        assert srv.stats()["connections"] == 1
        assert srv.requests()[0]["headers"]["authorization"] == "Bearer k"

TestServer(url="http://127.0.0.1:PORT") (or TestServer.from_env(), which reads
MODELS_TEST_SERVER) drives a server that is already running instead of starting one.
"""

import json
import os
import select
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any, Dict, List, Optional

SERVER_SCRIPT = Path(__file__).resolve().with_name("llm_test_server.py")
ENV_VAR = "MODELS_TEST_SERVER"

# Never send loopback control requests through an HTTP(S)_PROXY from the environment.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class TestServer:
    __test__ = False  # not a pytest test class

    def __init__(self, url: Optional[str] = None, *, host: str = "127.0.0.1", port: int = 0,
                 verbose: bool = False, stderr: Any = None, startup_timeout: float = 10.0) -> None:
        self.host, self.requested_port = host, port
        self.verbose, self.stderr, self.startup_timeout = verbose, stderr, startup_timeout
        self.proc: Optional[subprocess.Popen] = None
        self.url: Optional[str] = url.rstrip("/") if url else None
        self.port: Optional[int] = urllib.parse.urlsplit(url).port if url else None
        self._external = url is not None

    @classmethod
    def from_env(cls, **kwargs: Any) -> "TestServer":
        """The server named by $MODELS_TEST_SERVER, or a new one."""
        return cls(url=os.environ.get(ENV_VAR) or None, **kwargs)

    # ---- lifecycle --------------------------------------------------------------

    def start(self) -> "TestServer":
        if self._external or self.proc is not None:
            return self
        cmd = [sys.executable, str(SERVER_SCRIPT), "--host", self.host,
               "--port", str(self.requested_port), "--exit-on-stdin-eof"]
        if self.verbose:
            cmd.append("--verbose")
        # stdin is a pipe we never write: when this process dies, the server sees EOF and exits.
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self.stderr)
        try:
            self.port = self._read_port()
        except Exception:
            self._kill()
            raise
        shown = "[%s]" % self.host if ":" in self.host else self.host
        self.url = "http://%s:%d" % (shown, self.port)
        return self

    def _read_port(self) -> int:
        assert self.proc is not None and self.proc.stdout is not None
        fd, line = self.proc.stdout.fileno(), b""
        deadline = time.monotonic() + self.startup_timeout
        while not line.endswith(b"\n"):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise RuntimeError("test server did not report LISTENING in time")
            if select.select([fd], [], [], remaining)[0]:
                data = os.read(fd, 1)
                if not data:
                    raise RuntimeError("test server exited early (code %s)" % self.proc.wait())
                line += data
        word, _, port = line.decode().strip().partition(" ")
        if word != "LISTENING":
            raise RuntimeError("unexpected test server output: %r" % line)
        return int(port)

    def stop(self) -> None:
        if self.proc is None:
            return
        try:
            self._call("POST", "shutdown", timeout=2)
        except Exception:
            pass
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._kill()

    def _kill(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for pipe in (proc.stdin, proc.stdout):
            if pipe is not None:
                pipe.close()

    def __enter__(self) -> "TestServer":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    # ---- control API --------------------------------------------------------------

    def base_url(self, prefix: str = "/v1") -> str:
        """E.g. http://127.0.0.1:PORT/v1 -- any prefix routes the same way."""
        return "%s%s" % (self.url, prefix)

    def script(self, model: str, *steps: Dict[str, Any]) -> int:
        """Append steps to the FIFO queue of `model` ("*": any model, "token": the
        Copilot token exchange).  Returns the queue length."""
        return self._call("POST", "script", {"model": model, "steps": list(steps)})["queued"]

    def requests(self) -> List[Dict[str, Any]]:
        return self._call("GET", "requests")

    def stats(self) -> Dict[str, Any]:
        return self._call("GET", "stats")

    def reset(self) -> None:
        self._call("POST", "reset")

    def shutdown(self) -> None:
        self._call("POST", "shutdown")

    def _call(self, method: str, name: str, body: Any = None, timeout: float = 10) -> Any:
        if self.url is None:
            raise RuntimeError("test server not started")
        data = json.dumps(body if body is not None else {}).encode() if method == "POST" else None
        req = urllib.request.Request("%s/_control/%s" % (self.url, name), data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        try:
            with _OPENER.open(req, timeout=timeout) as resp:
                return json.loads(resp.read().decode())
        except urllib.error.HTTPError as err:
            detail = err.read().decode(errors="replace")
            raise RuntimeError("control %s %s failed: %s %s" % (method, name, err.code, detail))
