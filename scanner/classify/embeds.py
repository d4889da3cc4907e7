"""Third-party content that sends the visitor's IP for no necessary purpose (rules/embeds.yaml).

    embeds = default_embeds()
    embeds.kind_of(url, host, vendor_name)   # "font" | "map" | "video" | "social" | "audio" | "captcha" | None
    embeds.severity("font")                  # "warning"
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from scanner.paths import rules_dir

FILE_NAME = "embeds.yaml"


@dataclass(frozen=True)
class Embeds:
    by_vendor: dict[str, str]
    by_host: dict[str, str]
    by_url: tuple[tuple[str, str], ...]
    severities: dict[str, str]

    @classmethod
    def load(cls, path: str | Path | None = None) -> "Embeds":
        data = yaml.safe_load(Path(path or rules_dir() / FILE_NAME).read_text(encoding="utf-8")) or {}
        by_vendor, by_host, by_url = {}, {}, []
        for entry in data.get("embeds") or []:
            kind = str(entry["kind"])
            if entry.get("vendor"):
                by_vendor[str(entry["vendor"])] = kind
            for host in entry.get("hosts") or []:
                by_host[str(host).lower()] = kind
            for url in entry.get("urls") or []:
                by_url.append((str(url), kind))
        return cls(by_vendor, by_host, tuple(by_url), {str(k): str(v) for k, v in (data.get("severities") or {}).items()})

    def kind_of(self, url: str, host: str, vendor: str | None) -> str | None:
        if vendor and vendor in self.by_vendor:
            return self.by_vendor[vendor]
        host = (host or "").lower()
        while host:
            if host in self.by_host:
                return self.by_host[host]
            host = host.partition(".")[2]
        for prefix, kind in self.by_url:
            if (url or "").startswith(prefix):
                return kind
        return None

    def severity(self, kind: str) -> str:
        return self.severities.get(kind, "violation")


@lru_cache(maxsize=1)
def default_embeds() -> Embeds:
    return Embeds.load()
