# SPDX-License-Identifier: Apache-2.0
"""The names libmodels exports: none shadows a builtin or an asyncio name, and
the old TimeoutError / CancelledError names still work, with a warning."""

from __future__ import annotations

import asyncio
import builtins
import warnings

import pytest

import libmodels


def test_no_exported_name_shadows_a_builtin_or_asyncio():
    taken = set(dir(builtins)) | set(asyncio.__all__)
    assert sorted(set(libmodels.__all__) & taken) == []


def test_star_import_leaves_the_builtin_timeout_error_alone():
    namespace: dict = {}
    exec("from libmodels import *", namespace)
    assert "TimeoutError" not in namespace and "CancelledError" not in namespace
    assert namespace["ModelsTimeoutError"] is libmodels.ModelsTimeoutError
    assert namespace["ModelsCancelledError"] is libmodels.ModelsCancelledError


def test_every_exported_name_exists():
    for name in libmodels.__all__:
        assert hasattr(libmodels, name), name


def test_renamed_classes_keep_their_bases():
    assert issubclass(libmodels.ModelsTimeoutError, libmodels.ModelsError)
    assert issubclass(libmodels.ModelsTimeoutError, builtins.TimeoutError)
    assert issubclass(libmodels.ModelsCancelledError, libmodels.ModelsError)
    assert not issubclass(libmodels.ModelsCancelledError, asyncio.CancelledError)
    assert libmodels.ModelsTimeoutError("x").code_name == "MODELS_ERR_TIMEOUT"
    assert libmodels.ModelsCancelledError("x").code_name == "MODELS_ERR_CANCELLED"


@pytest.mark.parametrize("old,new", [("TimeoutError", "ModelsTimeoutError"),
                                     ("CancelledError", "ModelsCancelledError")])
def test_old_names_are_deprecated_aliases(old, new):
    with pytest.warns(DeprecationWarning, match=new):
        cls = getattr(libmodels, old)
    assert cls is getattr(libmodels, new)
    with pytest.warns(DeprecationWarning, match=new):
        exec("from libmodels import %s" % old, {})


def test_new_names_do_not_warn():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert libmodels.ModelsTimeoutError and libmodels.ModelsCancelledError
        exec("from libmodels import *", {})


def test_unknown_attribute_is_still_attribute_error():
    with pytest.raises(AttributeError, match="no_such_name"):
        libmodels.no_such_name  # noqa: B018
