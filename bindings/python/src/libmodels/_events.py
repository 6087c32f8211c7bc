# SPDX-License-Identifier: Apache-2.0
"""The router's events in Python (models_router_set_event_handler): each event is
handed to a callable as a dict, on the thread of the call it belongs to; a
coroutine function is scheduled on the event loop that registered it."""

from __future__ import annotations

import asyncio
import ctypes
import inspect
import json
import logging
from concurrent.futures import Future
from typing import Any, Callable, Dict, Optional

from . import _capi

logger = logging.getLogger("libmodels")

EventHandler = Callable[[Dict[str, Any]], Any]


class EventSink:
    """A Python callable behind a C event handler. The ctypes function object
    lives as long as this object, which the router keeps until it is closed."""

    def __init__(self, handler: EventHandler) -> None:
        if not callable(handler):
            raise TypeError("on_event must be callable, not %s" % type(handler).__name__)
        self.handler = handler
        self.loop: Optional[asyncio.AbstractEventLoop] = None
        if inspect.iscoroutinefunction(handler) or inspect.iscoroutinefunction(getattr(handler, "__call__", None)):
            try:
                self.loop = asyncio.get_running_loop()
            except RuntimeError:
                raise RuntimeError("an async on_event handler must be registered from inside the event loop "
                                   "that runs it (e.g. in an async function)") from None
        self.c_function = _capi.models_event_fn(self._deliver)

    def _deliver(self, user: Any, data: Any, length: int) -> None:
        # Called from C: nothing may escape, not even KeyboardInterrupt.
        try:
            event = json.loads(ctypes.string_at(data, length))
            if self.loop is not None:
                if self.loop.is_closed():
                    logger.warning("libmodels: event %r dropped: the event loop of the async on_event "
                                   "handler is closed", event.get("event"))
                    return
                future = asyncio.run_coroutine_threadsafe(self.handler(event), self.loop)
                future.add_done_callback(_log_failure)
                return
            result = self.handler(event)
            if inspect.isawaitable(result):
                if hasattr(result, "close"):
                    result.close()
                logger.warning("libmodels: the on_event handler returned an awaitable, which was not run; "
                               "register an async def function from inside its event loop instead")
        except BaseException:  # noqa: BLE001 - an exception must not unwind into C
            logger.exception("libmodels: the on_event handler raised")


def _log_failure(future: "Future[Any]") -> None:
    if future.cancelled():
        return
    error = future.exception()
    if error is not None:
        logger.error("libmodels: the async on_event handler raised", exc_info=error)
