"""Where the package's data lives, in a source checkout and in an installed wheel."""
from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def rules_dir() -> Path:
    """The `rules/` folder: `scanner/_rules` in a wheel, `<repo>/rules` in a checkout."""
    installed = PACKAGE_DIR / "_rules"
    if installed.is_dir():
        return installed
    return PACKAGE_DIR.parent / "rules"


def schema_path(name: str) -> Path:
    """A JSON Schema of docs/ (`report.schema.json`): `scanner/_schemas` in a wheel, `<repo>/docs` in a checkout."""
    installed = PACKAGE_DIR / "_schemas" / name
    return installed if installed.is_file() else PACKAGE_DIR.parent / "docs" / name


def demo_site_dir() -> Path:
    return PACKAGE_DIR / "demo" / "site"


@lru_cache(maxsize=1)
def rules_version() -> str:
    """A short hash over every file under rules/, so a report names the rule data it used."""
    digest = hashlib.sha256()
    root = rules_dir()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]
