# SPDX-License-Identifier: Apache-2.0
"""Fixtures for the libmodels Python tests.

The tests run against the shared loopback test server (Tests/server), one per
session, reset before each test. The library under test is the one named by
LIBMODELS_PATH (scripts/test sets it to build/libmodels.so.1); when unset,
build/libmodels.so.1 of this checkout is used if it exists. The package under
test is the installed one, or bindings/python/src when it is not installed.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Iterator

import pytest

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "Tests" / "server"))

if not os.environ.get("LIBMODELS_PATH") and (ROOT / "build" / "libmodels.so.1").exists():
    os.environ["LIBMODELS_PATH"] = str(ROOT / "build" / "libmodels.so.1")

try:
    import libmodels  # noqa: F401
except ImportError:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from testserver import TestServer  # noqa: E402

from lmtest import openai_config  # noqa: E402

import libmodels  # noqa: E402


@pytest.fixture(scope="session")
def server() -> Iterator[TestServer]:
    with TestServer() as srv:
        yield srv


@pytest.fixture
def srv(server: TestServer) -> TestServer:
    """The session's test server, with no scripts, requests or counters left."""
    server.reset()
    return server


@pytest.fixture
def router(srv: TestServer) -> Iterator[libmodels.Router]:
    with libmodels.Router(openai_config(srv)) as r:
        yield r
