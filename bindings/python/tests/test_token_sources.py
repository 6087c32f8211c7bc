# SPDX-License-Identifier: Apache-2.0
"""Token sources written in Python for any provider (Router(token_sources=...),
Router.set_token_source): where the token goes, caching by expiry, one call
for many threads, failures, and achat/astream calling the source on a worker
thread of the engine, never on the event loop's thread."""

from __future__ import annotations

import asyncio
import datetime
import logging
import threading
import time
from collections import namedtuple

import pytest

import libmodels
from lmtest import user

SECRET = "py-tok-secret-"


class Source:
    """A thread-safe token source counting its calls: "py-tok-secret-<name>-<n>"."""

    def __init__(self, name, lifetime=3600, delay=0.0, fail=False):
        self.name = name
        self.lifetime = lifetime
        self.delay = delay
        self.fail = fail
        self.calls = 0
        self.threads = set()
        self.lock = threading.Lock()

    def __call__(self):
        if self.delay:
            time.sleep(self.delay)
        with self.lock:
            self.calls += 1
            n = self.calls
            self.threads.add(threading.get_ident())
        if self.fail:
            raise RuntimeError("identity provider unreachable")
        token = "%s%s-%d" % (SECRET, self.name, n)
        return (token, time.time() + self.lifetime) if self.lifetime else token


def config(srv, **members):
    c = {
        "primary": "oai/m1",
        "max_retries": 0,
        "providers": {
            "oai": {"type": "openai", "base_url": srv.base_url("/v1")},
            "ant": {"type": "anthropic", "base_url": srv.base_url("/v1")},
            "az": {"type": "azure", "base_url": srv.url, "api_version": "2024-10-21", "api_key": "az-config-key-0123456789"},
            "spare": {"base_url": srv.base_url("/v1"), "api_key": "sk-test-spare-0123456789"},
        },
    }
    c.update(members)
    return c


def test_token_sources_reach_each_provider_type(srv):
    oai, ant, az = Source("oai"), Source("ant"), Source("az")
    with libmodels.Router(config(srv), token_sources={"oai": oai, "ant": ant, "az": az}) as router:
        for model in ("oai/m1", "ant/claude-x", "az/dep-1"):
            assert router.chat(messages=user("hi"), model=model)["choices"][0]["message"]["content"] == "echo: hi"
        with router.stream(messages=user("there"), model="ant/claude-x") as stream:
            list(stream)
    first, second, third, fourth = srv.requests()
    assert first["headers"]["authorization"] == "Bearer %soai-1" % SECRET
    assert second["path"] == "/v1/messages"
    assert second["headers"]["authorization"] == "Bearer %sant-1" % SECRET
    assert "x-api-key" not in second["headers"]
    assert third["path"] == "/openai/deployments/dep-1/chat/completions?api-version=2024-10-21"
    assert third["headers"]["authorization"] == "Bearer %saz-1" % SECRET
    assert "api-key" not in third["headers"]
    assert fourth["headers"]["authorization"] == "Bearer %sant-1" % SECRET
    assert (oai.calls, ant.calls, az.calls) == (1, 1, 1)


def test_send_as_api_key(srv):
    with libmodels.Router(config(srv)) as router:
        router.set_token_source("az", lambda: SECRET + "azkey", send_as="api_key")
        router.set_token_source("ant", lambda: SECRET + "antkey", send_as="api_key")
        router.chat(messages=user("hi"), model="az/dep-1")
        router.chat(messages=user("hi"), model="ant/claude-x")
        with pytest.raises(ValueError):
            router.set_token_source("oai", lambda: "x", send_as="header")
    az, ant = srv.requests()
    assert az["headers"]["api-key"] == SECRET + "azkey"
    assert "authorization" not in az["headers"]
    assert ant["headers"]["x-api-key"] == SECRET + "antkey"


def test_expiry_forms_and_caching(srv):
    AccessToken = namedtuple("AccessToken", "token expires_on")  # azure-identity's shape
    forms = {
        "str": (lambda: SECRET + "s", 3),                                      # no expiry: asked every time
        "pair": (lambda: (SECRET + "p", int(time.time()) + 3600), 1),
        "near": (lambda: (SECRET + "n", time.time() + 30), 3),                 # within the 60 s margin
        "access": (lambda: AccessToken(SECRET + "a", int(time.time()) + 3600), 1),
        "datetime": (lambda: (SECRET + "d", datetime.datetime.now(datetime.timezone.utc)
                              + datetime.timedelta(hours=1)), 1),
        "huge": (lambda: (SECRET + "h", 10 ** 30), 3),                         # no time: unknown
    }
    for name, (fn, expected) in forms.items():
        calls = []

        def source(fn=fn, calls=calls):
            calls.append(1)
            return fn()

        with libmodels.Router(config(srv), token_sources={"oai": source}) as router:
            for _ in range(3):
                router.chat(messages=user("hi"))
        assert len(calls) == expected, name


def test_one_call_for_many_threads(srv):
    source = Source("sf", delay=0.05)
    with libmodels.Router(config(srv), token_sources={"oai": source}) as router:
        errors = []

        def work():
            try:
                router.chat(messages=user("hi"))
            except Exception as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=work) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert errors == []
    assert source.calls == 1


def test_a_401_fetches_a_new_token(srv):
    source = Source("r")
    with libmodels.Router(config(srv), token_sources={"oai": source}) as router:
        router.chat(messages=user("hi"))
        srv.script("m1", {"status": 401})
        with pytest.raises(libmodels.AuthenticationError):
            router.chat(messages=user("hi"))
        router.chat(messages=user("hi"))
    assert source.calls == 2
    assert srv.requests()[-1]["headers"]["authorization"] == "Bearer %sr-2" % SECRET


def test_a_failing_source_is_an_auth_error_and_falls_back(srv):
    source = Source("f", fail=True)
    with libmodels.Router(config(srv), token_sources={"oai": source}) as router:
        with pytest.raises(libmodels.AuthenticationError, match="oai: the token source failed") as info:
            router.chat(messages=user("hi"))
        assert info.value.kind == "auth"
        assert "identity provider unreachable" in str(info.value)
    assert srv.stats()["requests"] == 0
    with libmodels.Router(config(srv, fallbacks=["spare/m2"]), token_sources={"oai": Source("f", fail=True)}) as router:
        assert router.chat(messages=user("hi"))["model"] == "spare/m2"


def test_a_token_with_a_newline_is_refused(srv):
    with libmodels.Router(config(srv), token_sources={"oai": lambda: SECRET + "x\r\nX-Evil: 1"}) as router:
        with pytest.raises(libmodels.ModelsError) as info:
            router.chat(messages=user("hi"))
    assert info.value.kind == "auth"
    assert SECRET not in str(info.value)
    assert srv.stats()["requests"] == 0


def test_bad_arguments(srv):
    with pytest.raises(libmodels.InvalidArgumentError, match="nowhere"):
        libmodels.Router(config(srv), token_sources={"nowhere": lambda: "x"})
    with libmodels.Router(config(srv)) as router:
        with pytest.raises(TypeError):
            router.set_token_source("oai", "not callable")
        router.set_token_source("oai", lambda: 42)
        with pytest.raises(libmodels.ModelsError, match="token source"):
            router.chat(messages=user("hi"))


def test_achat_and_astream_call_the_source_off_the_loop(srv):
    source = Source("e")

    async def main():
        loop_thread = threading.get_ident()
        with libmodels.Router(config(srv), token_sources={"oai": source}) as router:
            replies = await asyncio.gather(*(router.achat(messages=user("hi")) for _ in range(5)))
            chunks = [c async for c in router.astream(messages=user("there"))]
            return loop_thread, replies, chunks

    loop_thread, replies, chunks = asyncio.run(main())
    assert all(r["choices"][0]["message"]["content"] == "echo: hi" for r in replies)
    assert chunks
    assert source.calls == 1
    assert loop_thread not in source.threads
    assert all(r["headers"]["authorization"] == "Bearer %se-1" % SECRET for r in srv.requests())


def test_no_token_in_logs(srv):
    lines = []
    libmodels.set_log_handler(lambda level, message: lines.append(message), level=logging.DEBUG)
    try:
        with libmodels.Router(config(srv), token_sources={"oai": Source("log")}) as router:
            router.chat(messages=user("hi"))
            srv.script("m1", {"status": 401, "body": {"error": {"message": "bad %slog-1" % SECRET}}})
            with pytest.raises(libmodels.AuthenticationError) as info:
                router.chat(messages=user("hi"))
        assert SECRET not in str(info.value)
    finally:
        libmodels.set_log_handler(None)
    assert not [line for line in lines if SECRET in line]
