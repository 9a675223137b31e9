"""How long steps say how far they have got, to whoever is listening (the CLI's progress bar).

Library code calls ``step("cross-validating: fold 2 of 5", done=1, total=5)`` at
the points where a long step moves on; nothing happens unless a listener was set
with ``reporting_to`` (the CLI sets one while a verb runs on a terminal, notebooks
and tests set none). A context variable rather than a ``progress=`` argument through
every layer: the steps sit deep (a fold loop, a per-document loop) and the callers in
between need not know.

>>> seen = []
>>> with reporting_to(lambda text, done, total: seen.append((text, done, total))):
...     step("reading documents", 3, 10)
>>> step("nobody listens now")
>>> seen
[('reading documents', 3, 10)]
"""

from __future__ import annotations

import contextlib
from contextvars import ContextVar
from typing import Callable, Iterable, Iterator, TypeVar

Listener = Callable[[str, "int | None", "int | None"], None]
T = TypeVar("T")

_listener: ContextVar[Listener | None] = ContextVar("qualcode_progress", default=None)


@contextlib.contextmanager
def reporting_to(listener: Listener | None) -> Iterator[None]:
    """Send every ``step`` inside the block to ``listener(text, done, total)``."""
    token = _listener.set(listener)
    try:
        yield
    finally:
        _listener.reset(token)


def step(text: str, done: int | None = None, total: int | None = None) -> None:
    """Say what is being done now, and how much of ``total`` is done if known."""
    listener = _listener.get()
    if listener is not None:
        listener(text, done, total)


def counted(items: Iterable[T], text: str, total: int | None = None) -> Iterator[T]:
    """Yield ``items``, reporting "text (n of total)" before each one.

    >>> list(counted(["a", "b"], "scanning"))
    ['a', 'b']
    """
    if _listener.get() is None:
        yield from items
        return
    for done, item in enumerate(items):
        step(f"{text} ({done + 1:,}" + (f" of {total:,})" if total else ")"), done, total)
        yield item
