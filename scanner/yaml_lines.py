"""YAML that remembers where each key was written, so a rule file's errors can name its line.

    data = load_with_lines(text)      # every mapping gains `__lines__` {key: line} and `__line__`
    plain = strip_lines(data)         # the same data without them
"""
from __future__ import annotations

import yaml

LINE_KEYS = ("__lines__", "__line__")


class LineLoader(yaml.SafeLoader):
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
