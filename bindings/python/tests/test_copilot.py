# SPDX-License-Identifier: Apache-2.0
"""GitHub Copilot with a token source written in Python (models_router_add_copilot)."""

from __future__ import annotations

import threading

import pytest

import libmodels
from lmtest import user


class Tokens:
    def __init__(self, url):
        self.url = url
        self.count = 0
        self.lock = threading.Lock()

    def get_token(self):
        with self.lock:
            self.count += 1
            return "py-tok-%d" % self.count

    def get_api_url(self):
        return self.url


def test_copilot_requests_use_the_python_token_source(srv):
    tokens = Tokens(srv.url)
    with libmodels.Router({"primary": "gpt-4.1", "max_retries": 0}) as router:
        router.add_copilot(tokens)
        assert "github-copilot" in router.providers
        reply = router.chat(messages=user("hi"))
        with router.stream(messages=user("there")) as stream:
            list(stream)
    assert reply["choices"][0]["message"]["content"] == "echo: hi"
    assert stream.text == "echo: there"
    first, second = srv.requests()
    assert first["path"] == "/chat/completions"
    assert first["headers"]["authorization"] == "Bearer py-tok-1"
    assert second["headers"]["authorization"] == "Bearer py-tok-2"
    assert first["headers"]["copilot-integration-id"] == "vscode-chat"


def test_a_failing_token_source_fails_the_request(srv):
    def refuse():
        raise libmodels.APIError("no token for you", status_code=401)

    with libmodels.Router({"primary": "gpt-4.1", "max_retries": 0}) as router:
        router.add_copilot(refuse)
        with pytest.raises(libmodels.APIError, match="token source failed") as info:
            router.chat(messages=user("hi"))
    assert info.value.status_code == 401
    assert srv.stats()["requests"] == 0
