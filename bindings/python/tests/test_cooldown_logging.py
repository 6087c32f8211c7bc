# SPDX-License-Identifier: Apache-2.0
"""Cooldown on its own, and the library's log lines in Python."""

from __future__ import annotations

import logging

import pytest

import libmodels
from lmtest import openai_config, user


def test_cooldown_tracker():
    with libmodels.Cooldown(base=10, max=100, multiplier=2) as cd:
        assert cd.is_available("a/x") and cd.remaining("a/x") == 0.0
        cd.record_failure("a/x")
        assert not cd.is_available("a/x")
        assert 9.0 < cd.remaining("a/x") <= 10.0
        cd.record_failure("a/x")  # escalates: base x multiplier
        assert 19.0 < cd.remaining("a/x") <= 20.0
        assert cd.available_from(["a/x", "b/y"]) == ["b/y"]
        cd.record_success("a/x")
        assert cd.is_available("a/x")
        cd.record_failure("b/y")
        cd.reset("b/y")
        assert cd.is_available("b/y")
        cd.record_failure("a/x")
        cd.record_failure("b/y")
        cd.reset_all()
        assert cd.available_from(["a/x", "b/y"]) == ["a/x", "b/y"]
        cd.gc()
    with pytest.raises(libmodels.InvalidArgumentError):
        cd.is_available("a/x")


def test_one_cooldown_shared_by_two_routers(srv):
    srv.script("m1", {"status": 503})
    shared = libmodels.Cooldown(base=60)
    with libmodels.Router(openai_config(srv)) as first, libmodels.Router(openai_config(srv)) as second:
        first.set_cooldown(shared)
        second.set_cooldown(shared)
        with pytest.raises(libmodels.APIError):
            first.chat(messages=user("x"))
        assert not shared.is_available("local/m1")
        with pytest.raises(libmodels.AllModelsInCooldownError):
            second.chat(messages=user("x"))
    shared.close()


def test_log_handler_receives_retries(srv):
    lines = []
    srv.script("m1", {"status": 503})
    libmodels.set_log_handler(lambda level, message: lines.append((level, message)), logging.DEBUG)
    try:
        with libmodels.Router(openai_config(srv, max_retries=1)) as router:
            router.chat(messages=user("x"))
    finally:
        libmodels.use_logging()
    assert lines, "no log line for a retry"
    assert all(level in (logging.DEBUG, logging.INFO, logging.WARNING, logging.ERROR) for level, _ in lines)
    assert any("503" in message for _, message in lines)
    assert not any("Bearer" in message or "\"k\"" in message for _, message in lines)


def test_lines_reach_the_libmodels_logger(srv, caplog):
    srv.script("m1", {"status": 503})
    libmodels.use_logging(logging.DEBUG)
    try:
        with caplog.at_level(logging.DEBUG, logger="libmodels"):
            with libmodels.Router(openai_config(srv, max_retries=1)) as router:
                router.chat(messages=user("x"))
    finally:
        libmodels.use_logging()
    records = [r for r in caplog.records if r.name == "libmodels"]
    assert records and any("503" in r.getMessage() for r in records)


def test_set_log_handler_none_silences(srv):
    lines = []
    libmodels.set_log_handler(lambda level, message: lines.append(message), logging.DEBUG)
    libmodels.set_log_handler(None)
    try:
        srv.script("m1", {"status": 503})
        with libmodels.Router(openai_config(srv, max_retries=1)) as router:
            router.chat(messages=user("x"))
    finally:
        libmodels.use_logging()
    assert lines == []
