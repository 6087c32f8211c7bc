# SPDX-License-Identifier: Apache-2.0
"""Cooldown: a per-model cooldown tracker (models_cooldown)."""

from __future__ import annotations

import contextlib
import json
import weakref
from typing import Any, Iterable, Iterator, List, Optional

from . import _capi
from ._handles import Handle


class Cooldown:
    """A model that fails transiently after its retries is skipped for
    base x multiplier^(failures-1) seconds, capped at max; a success clears it.

    Durations are in seconds (None: the library's defaults of 60 s, 3600 s and
    x5). Share one tracker between routers with Router.set_cooldown(); the
    routers keep it alive, so closing it here is safe. Thread-safe.
    Wraps models_cooldown_new.
    """

    def __init__(self, base: Optional[float] = None, max: Optional[float] = None,
                 multiplier: Optional[float] = None) -> None:
        lib = _capi.load()
        ptr = lib.models_cooldown_new(int((base or 0) * 1000), int((max or 0) * 1000),
                                      float(multiplier or 0))
        if not ptr:
            raise MemoryError("models_cooldown_new failed")
        self._handle = Handle(ptr, lib.models_cooldown_free, "cooldown")
        self._finalizer = weakref.finalize(self, self._handle.close)

    @contextlib.contextmanager
    def _use(self) -> Iterator[int]:
        ptr = self._handle.acquire()
        try:
            yield ptr
        finally:
            self._handle.release()

    def record_failure(self, model: str) -> None:
        """Starts or extends `model`'s cooldown (models_cooldown_record_failure)."""
        with self._use() as ptr:
            _capi.load().models_cooldown_record_failure(ptr, model.encode("utf-8"))

    def record_success(self, model: str) -> None:
        """Clears `model`'s cooldown and failure count (models_cooldown_record_success)."""
        with self._use() as ptr:
            _capi.load().models_cooldown_record_success(ptr, model.encode("utf-8"))

    def is_available(self, model: str) -> bool:
        """True when `model` is not cooling down (models_cooldown_is_available)."""
        with self._use() as ptr:
            return bool(_capi.load().models_cooldown_is_available(ptr, model.encode("utf-8")))

    def remaining(self, model: str) -> float:
        """Seconds left in `model`'s cooldown; 0.0 when available
        (models_cooldown_remaining_ms)."""
        with self._use() as ptr:
            return float(_capi.load().models_cooldown_remaining_ms(ptr, model.encode("utf-8"))) / 1000.0

    def available_from(self, models: Iterable[str]) -> List[str]:
        """The models of `models` that are available, in order
        (models_cooldown_available_from)."""
        names = json.dumps(list(models)).encode("utf-8")
        with self._use() as ptr:
            text = _capi.take_string(_capi.load().models_cooldown_available_from(ptr, names))
        if text is None:
            raise TypeError("models must be strings")
        return json.loads(text)  # type: ignore[no-any-return]

    def reset(self, model: str) -> None:
        """Forgets `model`'s state (models_cooldown_reset)."""
        with self._use() as ptr:
            _capi.load().models_cooldown_reset(ptr, model.encode("utf-8"))

    def reset_all(self) -> None:
        """Forgets every model's state (models_cooldown_reset_all)."""
        with self._use() as ptr:
            _capi.load().models_cooldown_reset_all(ptr)

    def gc(self) -> None:
        """Drops models whose cooldown ended long ago (models_cooldown_gc)."""
        with self._use() as ptr:
            _capi.load().models_cooldown_gc(ptr)

    def close(self) -> None:
        """Releases this reference (models_cooldown_free); routers using the
        tracker keep theirs."""
        self._handle.close()

    def __enter__(self) -> "Cooldown":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
