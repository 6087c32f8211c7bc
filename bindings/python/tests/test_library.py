# SPDX-License-Identifier: Apache-2.0
"""Finding libmodels.so: LIBMODELS_PATH, and a clear error when it is missing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import libmodels

PROBE = r"""
import libmodels
try:
    libmodels.Router({"primary": "a/b"})
except libmodels.LibraryNotFoundError as exc:
    print("NOTFOUND")
    print(exc)
else:
    print("LOADED", libmodels.library_path(), libmodels.__version__)
"""


def probe(lib_path):
    env = dict(os.environ)
    env["PYTHONPATH"] = str(Path(libmodels.__file__).resolve().parents[1])
    env["LIBMODELS_PATH"] = lib_path
    return subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True,
                          timeout=30).stdout


def test_missing_library_is_a_clear_error(tmp_path):
    missing = str(tmp_path / "nowhere" / "libmodels.so.1")
    out = probe(missing)
    assert out.startswith("NOTFOUND"), out
    assert "LIBMODELS_PATH" in out and missing in out
    assert "python-lib" in out  # says how to fix it


def test_import_works_without_the_library(tmp_path):
    out = probe(str(tmp_path / "missing.so"))
    assert "NOTFOUND" in out


def test_libmodels_path_may_name_a_directory(tmp_path):
    os.symlink(os.path.realpath(libmodels.library_path()), str(tmp_path / "libmodels.so.1"))
    out = probe(str(tmp_path))
    assert out.startswith("LOADED"), out
    assert libmodels.__version__ in out


def test_version_matches_the_library():
    assert libmodels.__version__ == libmodels._capi.load().models_version().decode()
