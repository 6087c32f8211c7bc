# SPDX-License-Identifier: Apache-2.0
"""Router.metrics(): the Prometheus text parses with prometheus_client's parser
(a test-only dependency; the tests skip without it) and its counters match the
calls made: a retry, a fallback, an error, and a group deployment's tokens."""

from __future__ import annotations

from typing import Any, Dict, Tuple

import pytest

import libmodels
from lmtest import openai_config, user
from testserver import TestServer

parser = pytest.importorskip("prometheus_client.parser",
                             reason="prometheus_client is not installed (scripts/test-python installs it when it can)")

Labels = Tuple[Tuple[str, str], ...]


def samples(text: str) -> Dict[Tuple[str, Labels], float]:
    """Every sample of the text, by name and sorted labels; also checks each family's type."""
    out: Dict[Tuple[str, Labels], float] = {}
    for family in parser.text_string_to_metric_families(text):
        assert family.name.startswith("libmodels_")
        assert family.type in ("counter", "histogram"), family.type
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def labels(**kw: str) -> Labels:
    return tuple(sorted(kw.items()))


def test_an_empty_router_has_no_samples(router: libmodels.Router) -> None:
    assert router.metrics() == ""
    assert samples(router.metrics()) == {}


def test_counters_match_the_calls(srv: TestServer) -> None:
    config: Dict[str, Any] = openai_config(srv, fallbacks=["local/m2"], max_retries=1)
    with libmodels.Router(config) as router:
        srv.script("m1", {"status": 503})  # a retry, then the answer
        router.chat(user("hi"))
        srv.script("m1", {"status": 500}, {"status": 500})  # both attempts fail: falls back to m2
        assert router.chat(user("hi"))["model"] == "local/m2"
        srv.script("m3", {"status": 401})  # an error, from a model named alone
        with pytest.raises(libmodels.AuthenticationError):
            router.chat(user("hi"), model="local/m3")
        m = samples(router.metrics())

    m1, m2, m3 = labels(model="local/m1"), labels(model="local/m2"), labels(model="local/m3")
    assert m[("libmodels_requests_total", m1)] == 2
    assert m[("libmodels_requests_total", m3)] == 1
    assert m[("libmodels_attempts_total", m1)] == 4
    assert m[("libmodels_attempts_total", m2)] == 1
    assert m[("libmodels_retries_total", m1)] == 2
    assert m[("libmodels_errors_total", labels(model="local/m1", kind="server"))] == 3
    assert m[("libmodels_errors_total", labels(model="local/m3", kind="auth"))] == 1
    assert m[("libmodels_fallbacks_total", m1)] == 1
    assert ("libmodels_fallbacks_total", m2) not in m
    assert m[("libmodels_call_duration_seconds_count", m1)] == 2
    assert m[("libmodels_call_duration_seconds_bucket", labels(model="local/m1", le="+Inf"))] == 2
    assert m[("libmodels_attempt_duration_seconds_count", m1)] == 4
    buckets = [v for (name, ls), v in m.items()
               if name == "libmodels_attempt_duration_seconds_bucket" and dict(ls)["model"] == "local/m1"]
    assert buckets == sorted(buckets) and buckets[-1] == 4  # cumulative


def test_group_deployments_count_tokens_with_their_group(srv: TestServer) -> None:
    config: Dict[str, Any] = openai_config(srv, primary="g")
    config["model_groups"] = {"g": {"deployments": [{"model": "local/a"}]}}
    with libmodels.Router(config) as router:
        srv.script("a", {"usage": {"prompt_tokens": 30, "completion_tokens": 12}})
        router.chat(user("hi"))
        with router.stream(user("hi")) as stream:
            for _ in stream:
                pass
        m = samples(router.metrics())
    a = labels(model="local/a", group="g")
    assert m[("libmodels_requests_total", labels(model="g"))] == 2
    assert m[("libmodels_attempts_total", a)] == 2
    # The scripted usage, then the stream's usage as the server counts it.
    assert m[("libmodels_prompt_tokens_total", a)] > 30
    assert m[("libmodels_completion_tokens_total", a)] > 12


def test_cost_cached_tokens_and_time_to_first_token(srv: TestServer) -> None:
    prices = {"local/m1": {"input_per_million": 2.5, "output_per_million": 10, "cached_input_per_million": 1.25}}
    with libmodels.Router(openai_config(srv, prices=prices)) as router:
        srv.script("m1", {"usage": {"prompt_tokens": 1000, "completion_tokens": 500,
                                    "prompt_tokens_details": {"cached_tokens": 400}}})
        router.chat(user("hi"))
        srv.script("m1", {"usage": {"prompt_tokens": 7, "completion_tokens": 3}})
        with router.stream(user("hi"), stream_options={"include_usage": True}) as stream:
            for _ in stream:
                pass
        router.chat(user("hi"), model="local/free")  # no price: no cost sample
        m = samples(router.metrics())
    m1 = labels(model="local/m1")
    # 0.007 for the chat (600 × 2.5 + 400 × 1.25 + 500 × 10 per million), 0.0000475 for the stream.
    assert m[("libmodels_cost_usd_total", m1)] == pytest.approx(0.0070475, rel=1e-12)
    assert ("libmodels_cost_usd_total", labels(model="local/free")) not in m
    assert m[("libmodels_prompt_tokens_total", m1)] == 1007
    assert m[("libmodels_completion_tokens_total", m1)] == 503
    assert m[("libmodels_cached_prompt_tokens_total", m1)] == 400
    # Streams only: one observation, and none for the chat answers.
    assert m[("libmodels_time_to_first_token_seconds_count", m1)] == 1
    assert m[("libmodels_time_to_first_token_seconds_bucket", labels(model="local/m1", le="+Inf"))] == 1
    assert ("libmodels_time_to_first_token_seconds_count", labels(model="local/free")) not in m
