"""The KV-cache argument across transformers 5.x: it was `past_key_values` (in and out) and became
`cache` (5.2x). Both are supported so a GPU box's preinstalled transformers works as is."""
from __future__ import annotations

import functools
import inspect


@functools.lru_cache(maxsize=None)
def _cache_arg(forward_owner: type) -> str:
    params = inspect.signature(forward_owner.forward).parameters
    return "cache" if "cache" in params else "past_key_values"


def cache_kw(module, cache) -> dict:
    """Keyword arguments that hand `cache` to `module`'s forward."""
    return {_cache_arg(type(module)): cache}


def cache_of(output):
    """The KV cache a forward with use_cache=True returned."""
    cache = getattr(output, "cache", None)
    return cache if cache is not None else output.past_key_values
