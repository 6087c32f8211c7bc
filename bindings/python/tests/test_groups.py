# SPDX-License-Identifier: Apache-2.0
"""Model groups from Python: a group of two deployments (two providers with
keys of their own) answers chat and stream calls by its name, Router.health()
lists each deployment with its group, load and limits, and a group whose
deployments are all at their rpm limit raises AllModelsInCooldownError with a
retry_after."""

from __future__ import annotations

from typing import Any, Dict

import pytest

import libmodels
from lmtest import user
from testserver import TestServer


def group_config(srv: TestServer, **extra: Any) -> Dict[str, Any]:
    config: Dict[str, Any] = {
        "model_groups": {"g": {"strategy": "least_busy", "deployments": [
            {"model": "k1/a", "rpm": 2, "tpm": 1000},
            {"model": "k2/b", "weight": 2},
        ]}},
        "primary": "g",
        "providers": {
            "k1": {"api_key": "key-one", "base_url": srv.base_url("/v1")},
            "k2": {"api_key": "key-two", "base_url": srv.base_url("/v1")},
        },
        "max_retries": 0,
        "timeout_ms": 2000,
    }
    config.update(extra)
    return config


def test_a_group_answers_and_health_shows_its_deployments(srv: TestServer) -> None:
    with libmodels.Router(group_config(srv)) as router:
        health = router.health()
        assert [(h["model"], h["group"], h["provider"], h["available"]) for h in health] == [
            ("k1/a", "g", "k1", True), ("k2/b", "g", "k2", True)]
        assert health[0]["rpm"] == 2 and health[0]["tpm"] == 1000
        assert "rpm" not in health[1] and "tpm" not in health[1]
        assert all(h["in_flight"] == 0 and h["requests_this_minute"] == 0 and "latency_ms" not in h for h in health)

        srv.script("a", {"usage": {"prompt_tokens": 30, "completion_tokens": 12}})
        srv.script("b", {"usage": {"prompt_tokens": 30, "completion_tokens": 12}})
        answered = [router.chat(user("hi"))["model"] for _ in range(2)]
        answered += [router.chat(user("hi"), model="g")["model"]]
        with router.stream(user("hi")) as stream:
            assert stream.model in ("k1/a", "k2/b")
            during = {h["model"]: h["in_flight"] for h in router.health()}
            assert during[stream.model] == 1
            for _ in stream:
                pass
            assert stream.text == "echo: hi"
        answered.append(stream.model)
        assert set(answered) <= {"k1/a", "k2/b"}

        # Each request carried its own deployment's key.
        for request in srv.requests():
            key = {"a": "key-one", "b": "key-two"}[request["model"]]
            assert request["headers"]["authorization"] == "Bearer " + key

        health = {h["model"]: h for h in router.health()}
        a, b = health["k1/a"], health["k2/b"]
        assert a["requests_this_minute"] + b["requests_this_minute"] == 4
        assert a["requests_this_minute"] == answered.count("k1/a")
        assert a["in_flight"] == 0 and b["in_flight"] == 0
        used = [h for h in (a, b) if h["requests_this_minute"] > 0]
        assert all(h["latency_ms"] >= 0 and h["tokens_this_minute"] > 0 for h in used)


def test_a_group_at_its_limits_raises_cooldown_error_with_retry_after(srv: TestServer) -> None:
    config = group_config(srv)
    config["model_groups"]["g"]["deployments"][1]["rpm"] = 1
    with libmodels.Router(config) as router:
        for _ in range(3):
            router.chat(user("hi"))
        with pytest.raises(libmodels.AllModelsInCooldownError) as caught:
            router.chat(user("hi"))
        assert caught.value.kind == "all_cooldown"
        assert caught.value.retry_after is not None and 0 < caught.value.retry_after <= 60
        assert "k1/a at its rpm limit of 2 requests a minute" in str(caught.value)
        assert "k2/b at its rpm limit of 1 request a minute" in str(caught.value)
        health = {h["model"]: h for h in router.health()}
        assert health["k1/a"]["available"] is False
        assert health["k1/a"]["reason"] == "at its rpm limit of 2 requests a minute"
        assert len(srv.requests()) == 3
        # The group by name in set_models, with a fallback: the fallback answers.
        router.set_models("g", ["k1/c"])
        assert router.chat(user("hi"))["model"] == "k1/c"
