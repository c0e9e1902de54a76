"""Which job names have handlers, and how each may be retried."""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from taskcenter.engine.context import JobContext

HandlerFn = Callable[["JobContext"], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Handler:
    name: str
    run: HandlerFn
    # A handler declares itself safe to retry when running it twice does no harm; only then
    # is a job whose worker died run again (up to max_attempts runs in all).
    retry_safe: bool = False
    max_attempts: int = 3
    # Internal handlers run only jobs that taskcenter's own APIs create (with the parameters
    # they need); a producer's job of the same name stays a report-only job.
    internal: bool = False

    @property
    def attempts(self) -> int:
        return self.max_attempts if self.retry_safe else 1


class Registry:
    def __init__(self) -> None:
        self._handlers: dict[str, Handler] = {}

    def register(
        self, name: str, *, retry_safe: bool = False, max_attempts: int = 3, internal: bool = False
    ) -> Callable[[HandlerFn], HandlerFn]:
        """Decorator: ``@registry.register("CreateGaussDBforMySQLInstance", retry_safe=True)``."""
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")

        def add(fn: HandlerFn) -> HandlerFn:
            if name in self._handlers:
                raise ValueError(f"a handler for {name!r} is registered already")
            self._handlers[name] = Handler(name, fn, retry_safe, max_attempts, internal)
            return fn

        return add

    def get(self, name: str) -> Handler | None:
        return self._handlers.get(name)

    def names(self) -> list[str]:
        return sorted(self._handlers)

    def include(self, other: Registry) -> None:
        for handler in other._handlers.values():
            if handler.name in self._handlers:
                raise ValueError(f"a handler for {handler.name!r} is registered already")
            self._handlers[handler.name] = handler


def load_registry(modules: list[str]) -> Registry:
    """The built-in handlers (and the TaurusDB operations) plus each ``module``'s ``registry``."""
    registry = Registry()
    for module_name in ["taskcenter.engine.builtin", "taskcenter.mariadb.handlers", *modules]:
        module = importlib.import_module(module_name)
        extra = getattr(module, "registry", None)
        if not isinstance(extra, Registry):
            raise ValueError(f"module {module_name} has no `registry` of handlers")
        registry.include(extra)
    return registry
