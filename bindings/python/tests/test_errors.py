# SPDX-License-Identifier: Apache-2.0
"""Every exception class, from a fault scripted on the loopback server."""

from __future__ import annotations

import pickle

import pytest

import libmodels
from lmtest import openai_config, user


def chat_error(srv, *steps, **config):
    if steps:
        srv.script("m1", *steps)
    with libmodels.Router(openai_config(srv, **config)) as router:
        with pytest.raises(libmodels.ModelsError) as info:
            router.chat(messages=user("x"))
    return info.value


def test_http_status_is_api_error_with_status_and_retry_after(srv):
    err = chat_error(srv, {"status": 429, "headers": {"Retry-After": "2"}})
    assert type(err) is libmodels.RateLimitError and isinstance(err, libmodels.APIError)
    assert err.kind == "rate_limit"
    assert err.status_code == 429 and err.retry_after == 2.0
    assert err.is_transient and err.code_name == "MODELS_ERR_API"


def test_permanent_status_is_not_transient(srv):
    err = chat_error(srv, {"status": 400})
    assert type(err) is libmodels.BadRequestError and isinstance(err, libmodels.APIError)
    assert err.status_code == 400 and err.retry_after is None and not err.is_transient


def test_connection_reset_is_transport_error(srv):
    # libcurl silently resends a request whose *reused* connection died before any
    # answer (up to 5 times), so script more resets than that.
    err = chat_error(srv, *[{"reset": True}] * 8)
    assert type(err) is libmodels.TransportError
    assert isinstance(err, ConnectionError) and err.status_code is None and err.is_transient


def test_hang_past_the_timeout_is_timeout_error(srv):
    err = chat_error(srv, {"hang": True}, timeout_ms=200)
    assert type(err) is libmodels.ModelsTimeoutError
    assert isinstance(err, TimeoutError)  # the builtin, too


def test_header_line_over_libcurls_limit_is_protocol_error_not_memory_error(srv):
    err = chat_error(srv, {"headers": {"X-Big": "a" * 150_000}}, max_retries=0)
    assert type(err) is libmodels.ProtocolError
    assert not isinstance(err, MemoryError)


def test_malformed_body_is_protocol_error(srv):
    err = chat_error(srv, {"body": "{not json"})
    assert type(err) is libmodels.ProtocolError


def test_no_registered_provider_is_no_provider_error(srv):
    with libmodels.Router({"primary": "nowhere/m"}) as router:
        with pytest.raises(libmodels.NoProviderError):
            router.chat(messages=user("x"))


def test_every_model_cooling_down(srv):
    cooldown = libmodels.Cooldown(base=60)
    cooldown.record_failure("local/m1")
    with libmodels.Router(openai_config(srv)) as router:
        router.set_cooldown(cooldown)
        cooldown.close()  # the router keeps its own reference
        with pytest.raises(libmodels.AllModelsInCooldownError):
            router.chat(messages=user("x"))
        router.set_cooldown(None)
        assert router.chat(messages=user("x"))["model"] == "local/m1"
    assert srv.stats()["requests"] == 1


def test_cooldown_from_the_config_after_a_failure(srv):
    srv.script("m1", {"status": 503})
    with libmodels.Router(openai_config(srv, cooldown={"base_ms": 60000})) as router:
        with pytest.raises(libmodels.APIError):
            router.chat(messages=user("x"))
        with pytest.raises(libmodels.AllModelsInCooldownError):
            router.chat(messages=user("x"))
        assert "cooldown" in router.health()[0]["reason"]


def test_all_failed_keeps_the_last_status_and_retry_after(srv):
    srv.script("m1", {"status": 500})
    srv.script("m2", {"status": 503, "headers": {"Retry-After": "7"}})
    err = chat_error(srv, fallbacks=["local/m2"])
    assert type(err) is libmodels.AllModelsFailedError
    assert err.status_code == 503 and err.retry_after == 7.0
    assert "local/m1" in err.message and "local/m2" in err.message


def test_invalid_config_names_the_key():
    with pytest.raises(libmodels.InvalidArgumentError, match="provders") as info:
        libmodels.Router({"primary": "a/b", "provders": {}})
    assert isinstance(info.value, ValueError)


def test_invalid_request_is_invalid_argument(router):
    with pytest.raises(libmodels.InvalidArgumentError):
        router.chat(messages="not a list")


@pytest.mark.parametrize("step, cls, kind", [
    ({"status": 401}, libmodels.AuthenticationError, "auth"),
    ({"status": 403}, libmodels.AuthenticationError, "auth"),
    ({"status": 404}, libmodels.NotFoundError, "not_found"),
    ({"status": 422}, libmodels.BadRequestError, "bad_request"),
    ({"status": 500}, libmodels.ServerError, "server"),
    ({"status": 529}, libmodels.ServerError, "server"),
    ({"status": 400, "body": {"error": {"message": "maximum context length is 8192 tokens",
                                        "code": "context_length_exceeded"}}},
     libmodels.ContextWindowExceededError, "context_window"),
    ({"status": 400, "body": {"error": {"message": "filtered", "code": "content_filter"}}},
     libmodels.ContentPolicyError, "content_policy"),
])
def test_api_errors_by_kind(srv, step, cls, kind):
    err = chat_error(srv, step)
    assert type(err) is cls and isinstance(err, libmodels.APIError)
    assert err.kind == kind


def test_other_errors_have_kinds_too(srv):
    assert chat_error(srv, {"hang": True}, timeout_ms=200).kind == "timeout"
    assert chat_error(srv, {"body": "{not json"}).kind == "protocol"
    with pytest.raises(libmodels.InvalidArgumentError) as info:
        libmodels.Router({"primary": "a/b", "provders": {}})
    assert info.value.kind == "invalid_argument"


def test_fallback_on_leaves_auth_to_the_caller(srv):
    srv.script("m1", {"status": 401})
    err = chat_error(srv, fallbacks=["local/m2"], fallback_on=["server", "rate_limit"])
    assert type(err) is libmodels.AuthenticationError
    assert not any(r["model"] == "m2" for r in srv.requests())


def test_errors_pickle_with_their_fields():
    err = libmodels.AllModelsFailedError("all failed", status_code=503, retry_after=1.5)
    copy = pickle.loads(pickle.dumps(err))
    assert type(copy) is libmodels.AllModelsFailedError
    assert (copy.message, copy.status_code, copy.retry_after) == ("all failed", 503, 1.5)
    assert copy.kind == "all_failed"
    limited = pickle.loads(pickle.dumps(libmodels.ContextWindowExceededError("too long", status_code=400)))
    assert type(limited) is libmodels.ContextWindowExceededError and limited.kind == "context_window"


@pytest.mark.parametrize("status, transient", [(501, False), (505, False), (529, True), (503, True), (408, True)])
def test_transient_statuses_are_the_librarys_everywhere(srv, status, transient):
    # One list (models.h, models_status_is_transient): errors the library
    # returns and errors made in Python agree on it; 501 is not transient.
    from_library = chat_error(srv, {"status": status}, max_retries=0)
    assert from_library.status_code == status and from_library.is_transient is transient
    assert libmodels.APIError("x", status_code=status).is_transient is transient
    assert libmodels.ServerError("x", status_code=status).is_transient is transient
