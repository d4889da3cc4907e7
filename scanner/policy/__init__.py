"""Policy tools: lint a privacy/cookie policy text, draft a declaration from a cookie page.

Public API:
    load_policy_text(source, *, fetch=None) -> (text, origin)   file path or URL (fetch injected)
    lint_policy(text, *, source="") -> list[finding]            GDPR art. 13 / CNIL checks
    POLICY_RULES                                                 metadata of each lint rule
    import_declaration(html, *, source="") -> dict               declaration draft (YAML-ready)
    PolicyError                                                  unreadable source (ValueError)
"""
from __future__ import annotations

from .importer import import_declaration
from .lint import POLICY_RULES, lint_policy
from .text import PolicyError, load_policy_text

__all__ = ["POLICY_RULES", "PolicyError", "import_declaration", "lint_policy", "load_policy_text"]
