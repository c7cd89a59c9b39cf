"""A least-recently-used cache with O(1) get and put, built on a doubly linked list."""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


@dataclass
class _Node(Generic[K, V]):
    key: K
    value: V
    prev: _Node[K, V] | None = field(default=None, repr=False)
    next: _Node[K, V] | None = field(default=None, repr=False)


class LRUCache(Generic[K, V]):
    """Keeps at most `capacity` entries; the least recently used one is evicted first."""

    def __init__(self, capacity: int) -> None:
        if capacity <= 0:
            raise ValueError("capacity must be positive")
        self.capacity = capacity
        self._index: dict[K, _Node[K, V]] = {}
        self._head: _Node[K, V] | None = None  # most recent
        self._tail: _Node[K, V] | None = None  # least recent
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._index)

    def __contains__(self, key: object) -> bool:
        return key in self._index

    def _unlink(self, node: _Node[K, V]) -> None:
        if node.prev is not None:
            node.prev.next = node.next
        else:
            self._head = node.next
        if node.next is not None:
            node.next.prev = node.prev
        else:
            self._tail = node.prev
        node.prev = node.next = None

    def _push_front(self, node: _Node[K, V]) -> None:
        node.next = self._head
        if self._head is not None:
            self._head.prev = node
        self._head = node
        if self._tail is None:
            self._tail = node

    def get(self, key: K, default: V | None = None) -> V | None:
        node = self._index.get(key)
        if node is None:
            self.misses += 1
            return default
        self.hits += 1
        self._unlink(node)
        self._push_front(node)
        return node.value

    def put(self, key: K, value: V) -> None:
        node = self._index.get(key)
        if node is not None:
            node.value = value
            self._unlink(node)
            self._push_front(node)
            return
        if len(self._index) >= self.capacity and self._tail is not None:
            evicted = self._tail
            self._unlink(evicted)
            del self._index[evicted.key]
        node = _Node(key, value)
        self._index[key] = node
        self._push_front(node)

    def keys(self) -> list[K]:
        """Keys from most to least recently used."""
        out: list[K] = []
        node = self._head
        while node is not None:
            out.append(node.key)
            node = node.next
        return out


if __name__ == "__main__":
    cache: LRUCache[str, int] = LRUCache(2)
    cache.put("a", 1)
    cache.put("b", 2)
    cache.get("a")
    cache.put("c", 3)
    print(cache.keys(), cache.hits, cache.misses)
