# SPDX-License-Identifier: Apache-2.0
"""The wheel's tag, which pyproject.toml cannot say (all other metadata is there).

Without a bundled library the package is pure Python: py3-none-any, and it
loads libmodels.so.1 from LIBMODELS_PATH or the system. With libmodels.so.1 in
src/libmodels/ (scripts/wheel, or `cmake --build build --target python-lib`) the
wheel carries machine code: it is tagged for this platform (py3-none-linux_x86_64;
scripts/wheel then makes it manylinux with auditwheel) and installs into platlib
(Root-Is-Purelib: false). "py3-none": the library is loaded with ctypes, not
imported, so one wheel serves every Python 3 version and implementation.
"""

import glob
import os

from setuptools import Distribution, setup

try:  # setuptools >= 70.1 has its own; before, the wheel package's
    from setuptools.command.bdist_wheel import bdist_wheel
except ImportError:
    try:
        from wheel.bdist_wheel import bdist_wheel
    except ImportError:  # only metadata or an sdist is being built: no tag to set
        bdist_wheel = None

HERE = os.path.dirname(os.path.abspath(__file__))
BUNDLED = bool(glob.glob(os.path.join(HERE, "src", "libmodels", "libmodels.so*")))


class Dist(Distribution):
    def has_ext_modules(self):
        # Machine code inside: the wheel installs into platlib, Root-Is-Purelib: false.
        return BUNDLED


if bdist_wheel is None:
    setup(distclass=Dist)
else:
    class platform_wheel(bdist_wheel):
        def get_tag(self):
            python, abi, plat = super().get_tag()
            return ("py3", "none", plat) if BUNDLED else (python, abi, plat)

    setup(distclass=Dist, cmdclass={"bdist_wheel": platform_wheel})
