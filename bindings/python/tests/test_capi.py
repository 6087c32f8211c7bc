# SPDX-License-Identifier: Apache-2.0
"""The ctypes layer covers the whole C API of include/models.h."""

from __future__ import annotations

import re
from pathlib import Path

from libmodels import _capi

HEADER = Path(__file__).resolve().parents[3] / "include" / "models.h"


def header_functions():
    text = re.sub(r"/\*.*?\*/", "", HEADER.read_text(), flags=re.S)
    return set(re.findall(r"\b(models_[a-z0-9_]+)\s*\(", text)) - {"models_code"}


def test_every_header_function_has_a_signature():
    bound = {name for name, _, _ in _capi.FUNCTIONS} | {name for name, _, _ in _capi.OPTIONAL_FUNCTIONS}
    assert header_functions() - bound == set()
    assert bound - header_functions() == set()


def test_the_loaded_library_exports_them_all():
    lib = _capi.load()
    for name in header_functions():
        assert getattr(lib, name, None) is not None, name
