# SPDX-License-Identifier: Apache-2.0
"""Hostile numbers and nesting from a server or a caller (issue 12): each is an
ordinary exception Python can catch, never a trap that ends the interpreter."""

from __future__ import annotations

import pytest

import libmodels
from lmtest import openai_config, user

HOSTILE_RETRY_AFTER = [
    "Sun, 06 Nov 99999999999 08:49:37 GMT",
    "Sun, 06 Nov 1000000000 08:49:37 GMT",
    "Sun, 06 Nov 1994 -99999999999:49:37 GMT",
    "Sunday, 06-Nov-99999999999 08:49:37 GMT",
    "Sun Nov  6 08:49:37 99999999999",
    "99999999999999999999999999999",
]


@pytest.mark.parametrize("status", [429, 503])
@pytest.mark.parametrize("value", HOSTILE_RETRY_AFTER)
def test_hostile_retry_after_raises_api_error(srv, status, value):
    step = {"status": status, "headers": {"Retry-After": value}}
    with libmodels.Router(openai_config(srv)) as router:
        srv.script("m1", step)
        with pytest.raises(libmodels.APIError) as info:
            router.chat(messages=user("x"))
        assert info.value.status_code == status
        assert info.value.retry_after is None or 0 <= info.value.retry_after <= 365 * 86400
        srv.script("m1", step)
        with pytest.raises(libmodels.APIError):
            router.stream(messages=user("x"))


def test_hostile_retry_after_then_fallback_answers(srv):
    srv.script("m1", {"status": 429, "headers": {"Retry-After": HOSTILE_RETRY_AFTER[0]}})
    with libmodels.Router(openai_config(srv, fallbacks=["local/m2"])) as router:
        assert router.chat(messages=user("x"))["model"] == "local/m2"


def test_deep_server_answer_is_protocol_error(srv):
    depth = 2000
    srv.script("m1", {"body": '{"choices":[],"x":' + "[" * depth + "]" * depth + "}"})
    with libmodels.Router(openai_config(srv)) as router:
        with pytest.raises(libmodels.ProtocolError):
            router.chat(messages=user("x"))


def test_deep_config_is_invalid_argument():
    deep = '{"primary":"local/m1","x":' + "[" * 100_000 + "]" * 100_000 + "}"
    with pytest.raises(libmodels.ModelsError) as info:
        libmodels.Router(deep)
    assert "nested deeper than" in str(info.value)
