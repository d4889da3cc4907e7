"""The set of pages to visit: breadth-first, deduplicated, bounded."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from .urls import crawlable, in_scope, matches_globs, normalize_url, path_pattern


@dataclass
class Frontier:
    start: str
    max_pages: int = 50
    max_depth: int = 5
    scope: str = "domain"
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    per_pattern_cap: int = 10
    pages: list[str] = field(default_factory=list)         # accepted, in visit order
    depth: dict[str, int] = field(default_factory=dict)
    skipped: Counter = field(default_factory=Counter)      # reason -> count
    _patterns: Counter = field(default_factory=Counter)

    def __post_init__(self) -> None:
        start = normalize_url(self.start)
        if start:
            self._accept(start, 0, forced=True)

    def add(self, url: str, *, depth: int, base: str | None = None, forced: bool = False) -> bool:
        """Offer a URL; returns True when it joins the page set."""
        normal = normalize_url(url, base)
        if normal is None:
            self.skipped["not http(s)"] += 1
            return False
        if normal in self.depth:
            return False
        if len(self.pages) >= self.max_pages:
            self.skipped["max pages"] += 1
            return False
        if not forced:
            if not in_scope(normal, self.start, self.scope):
                self.skipped["out of scope"] += 1
                return False
            if depth > self.max_depth:
                self.skipped["max depth"] += 1
                return False
            if not crawlable(normal):
                self.skipped["not a page"] += 1
                return False
            if not matches_globs(normal, self.include, self.exclude):
                self.skipped["include/exclude"] += 1
                return False
            if self._patterns[path_pattern(normal)] >= self.per_pattern_cap:
                self.skipped["per-pattern cap"] += 1
                return False
        return self._accept(normal, depth, forced)

    def _accept(self, url: str, depth: int, forced: bool = False) -> bool:
        self.pages.append(url)
        self.depth[url] = depth
        self._patterns[path_pattern(url)] += 1
        return True

    @property
    def full(self) -> bool:
        return len(self.pages) >= self.max_pages
