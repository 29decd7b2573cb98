"""Run a coroutine to completion from a synchronous test, whatever the main thread is doing."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


def run_async(coroutine: Coroutine[Any, Any, T]) -> T:
    """`asyncio.run` in a thread of its own.

    pytest-playwright's session browser keeps an event loop running in the main thread once any test has
    used it (pytest groups those tests wherever the first one stands), and `asyncio.run` refuses to start
    beside a running loop; a fresh thread has none.
    """
    return off_the_loop(asyncio.run, coroutine)


def off_the_loop(function: Callable[..., T], *args: Any) -> T:
    """Call `function` in a thread of its own: for code that starts its own `asyncio.run` (a service job, a
    CLI command), which the main thread's running loop would refuse (see `run_async`)."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="test-asyncio") as pool:
        return pool.submit(function, *args).result()
