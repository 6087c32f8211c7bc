# SPDX-License-Identifier: Apache-2.0
"""Keys never show in an exception's str or repr: not when an error body is cut
at its 300-byte limit right through a key, not when a server quotes a
configured header value, and not when the config has a syntax error by a key."""

from __future__ import annotations

import json

import pytest

import libmodels
from lmtest import anthropic_config, openai_config, user

CONFIGURED = "sk-live-Q7xYz2Wv9Lm4Np8Rt1Ks6Hd3Fg5Jb0Vc"
SHAPES = [
    CONFIGURED,
    "sk-proj-Aa1Bb2Cc3Dd4Ee5Ff6Gg7Hh8Ii9Jj0Kk",
    "ghp_Zq8Rk2Lm9Xv4Tb7Nw1Yc5Hd3Jf6Gs0PaQeWu",
    "Zq8Rk2Lm9Xv4Tb7Nw1Yc5Hd3Jf6Gs0PaQeWuEiOx",
]


def configs(srv, headers=None):
    for make, name in ((openai_config, "local"), (anthropic_config, "anthropic")):
        config = make(srv)
        config["providers"][name]["api_key"] = CONFIGURED
        if headers:
            config["providers"][name]["headers"] = headers
        yield config


def raised(config):
    with libmodels.Router(config) as router:
        with pytest.raises(libmodels.ModelsError) as info:
            router.chat(messages=user("x"))
    return info.value


@pytest.mark.parametrize("key", SHAPES)
@pytest.mark.parametrize("before_cut", [6, 9, 11, 20, 31])
def test_key_across_the_cut_is_not_in_str_or_repr(srv, key, before_cut):
    body = "a" * (300 - before_cut - 1) + " " + key + " was refused"
    for config in configs(srv):
        srv.reset()
        srv.script("*", {"status": 401, "body": body})
        err = raised(config)
        for text in (str(err), repr(err)):
            assert "aaaa" in text
            assert key[:6] not in text


def test_configured_header_value_is_redacted(srv):
    secret = "hdr-secret-value-4711"
    for config in configs(srv, headers={"X-Custom-Auth": secret}):
        srv.reset()
        srv.script("*", {"status": 401, "body": json.dumps({"error": {"message": "bad header " + secret}})})
        err = raised(config)
        assert secret not in str(err) and secret not in repr(err)
        assert "[redacted]" in str(err)


def test_config_syntax_error_quotes_nothing():
    text = '{"primary": "local/m1", "providers": {"local": {"api_key": "sk-live-SECRET4711" "x": 1}}}'
    with pytest.raises(libmodels.ModelsError) as info:
        libmodels.Router(text)
    for shown in (str(info.value), repr(info.value)):
        assert "SECRET" not in shown and "sk-" not in shown
    assert "line 1" in str(info.value)
