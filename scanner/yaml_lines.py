"""YAML that remembers where each key was written, so a rule file's errors can name its line.

    data = load_with_lines(text)      # every mapping gains `__lines__` {key: line} and `__line__`
    plain = strip_lines(data)         # the same data without them

Every document is bounded (BoundedSafeLoader): at most MAX_YAML_CHARS characters, aliases that
expand to at most MAX_ALIAS_NODES nodes in all (a "billion laughs" document is refused before
anything is built), no alias cycle, nesting no deeper than Python's recursion allows. A document
over a bound raises YamlLimitError, a yaml.YAMLError: callers report it as they report bad YAML.
"""
from __future__ import annotations

import sys

import yaml

LINE_KEYS = ("__lines__", "__line__")
MAX_YAML_CHARS = 1024 * 1024       # 1 MiB: the largest rule file (rules/cmp/_generic.yaml) is 17 KB
MAX_ALIAS_NODES = 100_000          # nodes that aliases add once expanded (no rule file uses aliases)


class YamlLimitError(yaml.MarkedYAMLError):
    """A YAML document over one of the loader's bounds."""

    def __init__(self, problem: str, mark=None):
        super().__init__(problem=problem, problem_mark=mark)


class BoundedSafeLoader(yaml.SafeLoader):
    """SafeLoader with bounds on the document's size and on what its aliases expand to."""

    def __init__(self, stream):
        size = len(stream) if isinstance(stream, (str, bytes)) else 0
        if size > MAX_YAML_CHARS:
            raise YamlLimitError(f"too large ({size:,} characters; at most {MAX_YAML_CHARS:,})")
        super().__init__(stream)

    def compose_document(self):
        node = super().compose_document()
        _check_expansion(node)
        return node

    def get_single_data(self):
        try:
            return super().get_single_data()
        except RecursionError:
            raise YamlLimitError("nested too deeply") from None


def _check_expansion(root) -> None:
    """Refuse a node graph whose aliases expand to more than MAX_ALIAS_NODES extra nodes, or
    that refers to itself: counted on the composed graph (shared nodes counted once per
    reference), before the constructor would build the expanded data."""
    sizes: dict[int, int] = {}
    distinct: set[int] = set()
    limit = MAX_ALIAS_NODES
    on_path: set[int] = set()

    def size(node) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in on_path:
            raise YamlLimitError("an alias refers to a node that contains it (recursive YAML)", node.start_mark)
        distinct.add(key)
        total = 1
        if isinstance(node, (yaml.SequenceNode, yaml.MappingNode)):
            on_path.add(key)
            children = node.value if isinstance(node, yaml.SequenceNode) else [n for pair in node.value for n in pair]
            for child in children:
                total += size(child)
                if total - len(distinct) > limit:
                    raise YamlLimitError(f"aliases expand to more than {limit:,} nodes (a YAML alias bomb?)",
                                         child.start_mark)
            on_path.discard(key)
        sizes[key] = total
        return total

    if root is None:
        return
    limit_recursion = sys.getrecursionlimit()
    try:
        total = size(root)
    except RecursionError:
        raise YamlLimitError(f"nested too deeply (over about {limit_recursion} levels)") from None
    if total - len(distinct) > limit:
        raise YamlLimitError(f"aliases expand to more than {limit:,} nodes (a YAML alias bomb?)", root.start_mark)


class LineLoader(BoundedSafeLoader):
    """SafeLoader that remembers the line of every mapping key (in `__lines__`)."""


def _construct_mapping(loader, node, deep=False):
    mapping = yaml.SafeLoader.construct_mapping(loader, node, deep=deep)
    mapping["__lines__"] = {k.value: k.start_mark.line + 1 for k, _ in node.value if hasattr(k, "value")}
    mapping["__line__"] = node.start_mark.line + 1
    return mapping


LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def load_with_lines(text: str):
    return yaml.load(text, Loader=LineLoader)


def strip_lines(value):
    if isinstance(value, dict):
        return {k: strip_lines(v) for k, v in value.items() if k not in LINE_KEYS}
    if isinstance(value, list):
        return [strip_lines(v) for v in value]
    return value
