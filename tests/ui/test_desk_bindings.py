"""Every key binding has an id (so it can be remapped) and a tooltip, as STYLE.md asks."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

from textual.binding import Binding

import hubdesk.app
import hubdesk.screens


def _bindings() -> list[tuple[str, Binding]]:
    modules = [hubdesk.app] + [
        importlib.import_module(f"hubdesk.screens.{m.name}") for m in pkgutil.iter_modules(hubdesk.screens.__path__)
    ]
    found = []
    for module in modules:
        for name, obj in vars(module).items():
            if inspect.isclass(obj) and obj.__module__ == module.__name__:
                for binding in obj.__dict__.get("BINDINGS", []):
                    if isinstance(binding, Binding):
                        found.append((name, binding))
    return found


def test_every_binding_has_an_id_and_a_tooltip() -> None:
    bindings = _bindings()
    assert len(bindings) > 30
    missing = [(name, b.key) for name, b in bindings if not b.id or not b.tooltip]
    assert missing == []


def test_binding_ids_are_unique() -> None:
    ids = [b.id for _name, b in _bindings()]
    assert len(ids) == len(set(ids))
