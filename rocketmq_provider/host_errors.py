"""Show a provider's deliberate errors as their one-line message, not as a Python traceback.

Pulumi's dynamic-provider host (``python -m pulumi.dynamic``) reports every exception a provider
raises as ``traceback.format_exc()``: the message that names the endpoint and the resource ends
up under a stack trace. ``report_by_message(*types)`` makes ``format_exc`` answer
``"<Type>: <message>"`` for those types (and for subclasses) in the host process only; any other
exception keeps its full traceback, since it is a bug.

Generalized from nacos_registry.provider._report_operational_errors_by_message, which stays as it
is (that module is pickled by reference into state). The two chain in either order: this one
wraps whatever ``format_exc`` is when it first runs (the original or nacos_registry's patch), and
nacos_registry's patch, if it runs later, wraps this one; each formats its own errors and hands
everything else on. Further calls of ``report_by_message`` add types to the same patch.
"""

from __future__ import annotations

import sys
import traceback

MARKER = "short_error_types"


def in_provider_host() -> bool:
    spec = getattr(sys.modules.get("__main__"), "__spec__", None)
    return getattr(spec, "name", None) == "pulumi.dynamic.__main__"


def report_by_message(*error_types: type[BaseException], force: bool = False) -> None:
    """Format ``error_types`` as one line in the provider host (``force``: anywhere; for tests)."""
    if not (force or in_provider_host()):
        return
    current = traceback.format_exc
    registered = getattr(current, MARKER, None)
    if registered is not None:
        registered.update(error_types)
        return
    types: set[type[BaseException]] = set(error_types)

    def format_exc(*args, _exc_info=sys.exc_info, _original=current, **kwargs) -> str:
        error = _exc_info()[1]
        if error is not None and isinstance(error, tuple(types)):
            return f"{type(error).__name__}: {' '.join(str(error).split())}"
        return _original(*args, **kwargs)

    setattr(format_exc, MARKER, types)
    traceback.format_exc = format_exc
