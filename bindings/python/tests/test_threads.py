# SPDX-License-Identifier: Apache-2.0
"""One Router shared by many threads."""

from __future__ import annotations

import threading

import libmodels
from lmtest import openai_config, user


def test_many_threads_share_one_router(srv):
    errors = []
    per_thread = 25

    with libmodels.Router(openai_config(srv)) as router:
        def work(n):
            try:
                for i in range(per_thread):
                    text = "t%d-%d" % (n, i)
                    if i % 5 == 0:
                        with router.stream(messages=user(text)) as stream:
                            for _ in stream:
                                pass
                        assert stream.text == "echo: " + text
                    else:
                        reply = router.chat(messages=user(text))
                        assert reply["choices"][0]["message"]["content"] == "echo: " + text
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(n,)) for n in range(16)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
    assert not errors, errors[:3]
    assert srv.stats()["requests"] == 16 * per_thread


def test_close_while_other_threads_call(srv):
    """close() during calls never frees the router under them: those calls finish."""
    srv.script("*", *[{"delay_ms": 100}] * 4)
    router = libmodels.Router(openai_config(srv))
    results = []

    def work():
        try:
            results.append(router.chat(messages=user("x"))["model"])
        except libmodels.InvalidArgumentError:
            results.append("closed")

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    while srv.stats()["requests"] < 4:
        pass
    router.close()
    for t in threads:
        t.join(10)
    assert results == ["local/m1"] * 4
