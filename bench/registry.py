"""One generic registry: name -> object, or a lazy "module:attr" string resolved on first use.

Lazy entries keep `bench list` instant: nothing heavy is imported until a method actually runs.
"""
from __future__ import annotations

import difflib
import importlib
from typing import Any, Iterator

from bench.errors import BenchError


def did_you_mean(name: str, options) -> str:
    """'; did you mean 'x'?' for the closest option (difflib), or '' when none is close."""
    close = difflib.get_close_matches(name, list(options), n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


class Registry:
    def __init__(self, kind: str):
        self.kind = kind
        self._entries: dict[str, Any] = {}

    def register(self, name: str, obj: Any = None):
        """Register `obj` under `name`; without `obj`, return a decorator."""
        if obj is None:
            return lambda o: self.register(name, o) or o
        if name in self._entries:
            raise BenchError(f"duplicate {self.kind} name {name!r}: it is already registered")
        self._entries[name] = obj
        return obj

    def get(self, name: str) -> Any:
        if name not in self._entries:
            raise BenchError(self.unknown_message(name))
        entry = self._entries[name]
        if isinstance(entry, str) and ":" in entry:
            module, attr = entry.split(":", 1)
            entry = getattr(importlib.import_module(module), attr)
            self._entries[name] = entry
        return entry

    def unknown_message(self, name: str) -> str:
        return (f"unknown {self.kind} {name!r}{did_you_mean(name, self._entries)} "
                f"(see `bench list {self.kind}s`)")

    def names(self) -> list[str]:
        return sorted(self._entries)

    def __contains__(self, name: str) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())
