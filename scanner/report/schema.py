"""report.json's JSON Schema (docs/report.schema.json): one check for every reader and test.

    problems = validate_report(report)     # [] when valid; else "path: message" strings
"""
from __future__ import annotations

import json
from functools import lru_cache

from ..paths import schema_path


@lru_cache(maxsize=1)
def _validator():
    from jsonschema import Draft202012Validator
    schema = json.loads(schema_path("report.schema.json").read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def validate_report(report) -> list[str]:
    """Every way `report` breaks the schema, as "where: what" lines (at most 20)."""
    problems = []
    for error in sorted(_validator().iter_errors(report), key=lambda e: list(map(str, e.absolute_path))):
        where = "/".join(str(p) for p in error.absolute_path) or "(top level)"
        problems.append(f"{where}: {error.message[:200]}")
        if len(problems) >= 20:
            break
    return problems
