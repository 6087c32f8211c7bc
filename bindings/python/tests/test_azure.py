# SPDX-License-Identifier: Apache-2.0
"""Azure OpenAI ("type": "azure") from Python: the deployment URL with its
api-version, the api-key header, extra_query after the version, and the
content filter as ContentPolicyError or a fallback."""

from __future__ import annotations

import pytest

import libmodels
from lmtest import user

KEY = "azure-py-key-0123456789abcdef"


def azure_router(srv, **extra):
    return libmodels.Router({
        "primary": "az/dep-1", "max_retries": 0, **extra,
        "providers": {
            "az": {"type": "azure", "base_url": srv.url, "api_version": "2024-10-21", "api_key": KEY},
            "local": {"base_url": srv.base_url("/v1"), "api_key": "sk-test-local-0123456789"},
        }})


def test_deployment_url_and_api_key(srv):
    router = azure_router(srv)
    reply = router.chat(messages=user("hi"), extra_query={"trace": "on"})
    assert reply["model"] == "az/dep-1"
    sent = srv.requests()[0]
    assert sent["path"] == "/openai/deployments/dep-1/chat/completions?api-version=2024-10-21&trace=on"
    assert sent["headers"]["api-key"] == KEY
    assert "authorization" not in sent["headers"]


def test_content_filter_is_a_content_policy_error(srv):
    router = azure_router(srv)
    srv.script("dep-1", {"content": "", "finish_reason": "content_filter"})
    with pytest.raises(libmodels.ContentPolicyError) as caught:
        router.chat(messages=user("hi"))
    assert KEY not in str(caught.value)
    srv.script("dep-1", {"content": "", "finish_reason": "content_filter"})
    fallback = azure_router(srv, content_policy_fallbacks=["local/m2"])
    assert fallback.chat(messages=user("hi"))["model"] == "local/m2"
