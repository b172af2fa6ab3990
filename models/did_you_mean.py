"""'Did you mean' hints for unknown keys, for stack settings and agent specs alike.

The vocabulary is read off the pydantic models (field aliases, as users write them), so a
renamed or added field is suggested without a list to keep in sync.
"""

from __future__ import annotations

import difflib
import typing
from typing import Any, Iterable, Optional

from pydantic import BaseModel


def _models_in(annotation: Any) -> Iterable[type[BaseModel]]:
    """The pydantic models an annotation holds (through Optional, list, dict, Annotated ...)."""
    stack = [annotation]
    while stack:
        typ = stack.pop()
        if isinstance(typ, type) and issubclass(typ, BaseModel):
            yield typ
            continue
        stack.extend(typing.get_args(typ))


def keys_of(model: type[BaseModel]) -> list[str]:
    """The keys a user writes for this model (aliases where the model has them)."""
    return sorted(info.alias or name for name, info in model.model_fields.items())


def all_keys(model: type[BaseModel]) -> set[str]:
    """Every key of the model and of every model nested in it."""
    seen: set[type[BaseModel]] = set()
    keys: set[str] = set()
    todo = [model]
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        keys.update(keys_of(current))
        for info in current.model_fields.values():
            todo.extend(_models_in(info.annotation))
    return keys


def model_at(model: type[BaseModel], loc: Iterable[Any]) -> Optional[type[BaseModel]]:
    """The model that holds the key at `loc` (list indexes and dict keys are stepped over)."""
    current: Optional[type[BaseModel]] = model
    for part in loc:
        if current is None:
            return None
        if not isinstance(part, str):
            continue  # a list index: same model
        field = next((info for name, info in current.model_fields.items() if part in (name, info.alias)), None)
        if field is None:
            return None
        inner = list(_models_in(field.annotation))
        current = inner[0] if inner else None
    return current


def suggestion(key: str, vocabulary: Iterable[str]) -> str:
    """' (did you mean 'x'?)' for the closest known key, or ''."""
    close = difflib.get_close_matches(key, sorted(set(vocabulary)), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def unknown_key_hint(root: type[BaseModel], loc: tuple) -> str:
    """The hint for an unknown key at `loc`: the closest key of the model there, else of any model."""
    parent = model_at(root, loc[:-1])
    near = suggestion(str(loc[-1]), keys_of(parent)) if parent is not None else ""
    return near or suggestion(str(loc[-1]), all_keys(root))
