"""Command palette provider: offers what the current screen's keys can do, by name."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from textual.command import Hit, Hits, Provider


class DeskCommands(Provider):
    """Everything the current screen binds (with a description) is findable by name."""

    def _commands(self) -> list[tuple[str, Callable[[], object], str]]:
        found: list[tuple[str, Callable[[], object], str]] = []
        seen: set[str] = set()
        for active in self.screen.active_bindings.values():
            binding = active.binding
            if not active.enabled or not binding.description or binding.action in seen:
                continue
            if binding.action == "command_palette":
                continue
            seen.add(binding.action)
            run = partial(active.node.run_action, binding.action)
            found.append((binding.description, run, binding.tooltip))
        return found

    async def discover(self) -> Hits:
        for name, run, help_text in self._commands():
            yield Hit(1.0, name, run, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, run, help_text in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), run, help=help_text)
