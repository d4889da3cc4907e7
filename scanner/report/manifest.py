"""manifest.json: SHA-256 of every file of a report folder, so a report can be proven unaltered.

    {"manifest_version": 1, "created_at": "...Z", "tool": {...}, "chromium": "...", "rules_version": "...",
     "declaration_sha256": "..." | null, "command": [...], "site": "...",
     "files": [{"path": "report.json", "sha256": "...", "size": 1234}, ...]}

Paths are relative, "/"-separated and sorted; manifest.json itself and hidden
files (".report.json.x1y2.tmp": what an interrupted atomic write leaves behind)
are not listed.
"""
from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..redact import redact_command, redact_url, report_keep_query
from . import atomic_write

MANIFEST = "manifest.json"
MANIFEST_VERSION = 1


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _listed(out_dir: Path) -> list[Path]:
    files = []
    for p in out_dir.rglob("*"):
        if not p.is_file() or p.is_symlink():
            continue
        rel = p.relative_to(out_dir)
        if rel.as_posix() == MANIFEST or any(part.startswith(".") for part in rel.parts):
            continue
        files.append(p)
    return sorted(files, key=lambda p: p.relative_to(out_dir).as_posix())


def build_manifest(out_dir: Path, report: dict[str, Any], *, command: Any = None,
                   declaration_sha256: str | None = None, created_at: str | None = None) -> dict[str, Any]:
    tool = report.get("tool") or {}
    decl = report.get("declaration") or {}
    if command is None:
        command = report.get("command") or []
    keep_query = report_keep_query(report)  # credentials never; query values unless --keep-query
    return {
        "manifest_version": MANIFEST_VERSION,
        "created_at": created_at or datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "tool": {"name": tool.get("name"), "version": tool.get("version")},
        "chromium": tool.get("chromium"),
        "rules_version": tool.get("rules_version"),
        "declaration_sha256": declaration_sha256 if declaration_sha256 is not None else decl.get("sha256"),
        "command": redact_command(command, keep_query),
        "site": redact_url((report.get("site") or {}).get("url"), keep_query),
        "report_schema_version": report.get("schema_version"),
        "files": [{"path": p.relative_to(out_dir).as_posix(), "sha256": sha256_file(p), "size": p.stat().st_size}
                  for p in _listed(out_dir)],
    }


def write_manifest(out_dir: Path, report: dict[str, Any], *, command: Any = None,
                   declaration_sha256: str | None = None) -> Path:
    manifest = build_manifest(out_dir, report, command=command, declaration_sha256=declaration_sha256)
    return atomic_write(out_dir / MANIFEST, json.dumps(manifest, indent=1, ensure_ascii=False) + "\n")


def verify_manifest(out_dir: Path) -> list[str]:
    """Problems found ("changed: report.html", "missing: x", "unlisted: y"); [] when the folder matches."""
    manifest = json.loads((out_dir / MANIFEST).read_text(encoding="utf-8"))
    listed = {f["path"]: f["sha256"] for f in manifest.get("files") or []}
    problems = []
    for rel, digest in sorted(listed.items()):
        p = out_dir / rel
        if not p.is_file():
            problems.append(f"missing: {rel}")
        elif sha256_file(p) != digest:
            problems.append(f"changed: {rel}")
    for p in _listed(out_dir):
        rel = p.relative_to(out_dir).as_posix()
        if rel not in listed:
            problems.append(f"unlisted: {rel}")
    return problems
