# SPDX-License-Identifier: Apache-2.0
"""Helpers shared by the tests: router configs for the loopback test server."""

from __future__ import annotations

from typing import Any, Dict, List

from testserver import TestServer


def openai_config(srv: TestServer, primary: str = "local/m1", **extra: Any) -> Dict[str, Any]:
    """A router config for an OpenAI-compatible provider "local" on the test server.
    Retries back off for a millisecond, so tests never wait on the clock."""
    config: Dict[str, Any] = {
        "primary": primary,
        "providers": {"local": {"api_key": "k", "base_url": srv.base_url("/v1")}},
        "max_retries": 0,
        "retry_base_ms": 1,
        "retry_max_ms": 5,
    }
    config.update(extra)
    return config


def anthropic_config(srv: TestServer, primary: str = "anthropic/claude-x", **extra: Any) -> Dict[str, Any]:
    config: Dict[str, Any] = {
        "primary": primary,
        "providers": {"anthropic": {"api_key": "k", "base_url": srv.base_url("/v1")}},
        "max_retries": 0,
    }
    config.update(extra)
    return config


def user(text: str) -> List[Dict[str, str]]:
    return [{"role": "user", "content": text}]
