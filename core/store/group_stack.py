"""The undo and redo stacks of ``LabelState``: lists of group ids with O(1) operations."""
from __future__ import annotations

__all__ = ["GroupStack"]


class GroupStack:
    """A list of group ids with the fold's list semantics (``remove`` takes the first
    occurrence, ``append`` adds at the end), each operation O(1)."""

    def __init__(self) -> None:
        self._entries: dict[int, int] = {}          # entry number -> group, in list order
        self._where: dict[int, list[int]] = {}      # group -> its entry numbers, in order
        self._next = 0

    def __contains__(self, g: int) -> bool:
        return g in self._where

    def __len__(self) -> int:
        return len(self._entries)

    def items(self) -> list[int]:
        return list(self._entries.values())

    def last(self) -> int | None:
        return next(reversed(self._entries.values()), None)

    def append(self, g: int) -> None:
        self._entries[self._next] = g
        self._where.setdefault(g, []).append(self._next)
        self._next += 1

    def clear(self) -> None:
        if self._entries:
            self._entries.clear()
            self._where.clear()

    def remove(self, g: int) -> None:
        where = self._where[g]
        del self._entries[where.pop(0)]
        if not where:
            del self._where[g]
