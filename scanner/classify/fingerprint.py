"""Which scripts fingerprint the device, from the page's device-property reads (rules/fingerprinting.yaml).

    rules = default_fingerprint_rules()
    rules.scripts(page["device_reads"])   # [{script, apis, signals, fingerprinting}] one per script

A script fingerprints when it made one strong read (canvas read-back of drawn text, offline audio
rendering of an oscillator, font probing) or at least `weak_needed` distinct weak ones. Scripts
with reads below that are listed too (`fingerprinting: false`): the report shows what they read,
no audit flags them.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from ..paths import rules_dir
from ..yaml_lines import BoundedSafeLoader

FILE_NAME = "fingerprinting.yaml"
MAX_SCRIPTS = 200


@dataclass(frozen=True)
class FingerprintRules:
    strength: dict[str, str]
    labels: dict[str, str]
    weak_needed: int

    @classmethod
    def load(cls, path: str | Path | None = None) -> "FingerprintRules":
        data = yaml.load(Path(path or rules_dir() / FILE_NAME).read_text(encoding="utf-8"), Loader=BoundedSafeLoader) or {}
        apis = data.get("apis") or {}
        return cls({str(k): str(v.get("strength")) for k, v in apis.items()},
                   {str(k): str(v.get("label")) for k, v in apis.items()}, int(data.get("weak_needed") or 3))

    def scripts(self, reads) -> list[dict]:
        by_script: dict[str, list[str]] = {}
        for read in reads or []:
            if not isinstance(read, dict) or str(read.get("api")) not in self.strength:
                continue
            apis = by_script.setdefault(str(read.get("script") or ""), [])
            if read["api"] not in apis:
                apis.append(str(read["api"]))
        out = []
        for script, apis in list(by_script.items())[:MAX_SCRIPTS]:
            strong = [a for a in apis if self.strength[a] == "strong"]
            weak = [a for a in apis if self.strength[a] == "weak"]
            out.append({"script": script, "apis": apis, "signals": [self.labels[a] for a in apis],
                        "fingerprinting": bool(strong) or len(weak) >= self.weak_needed})
        return out


@lru_cache(maxsize=1)
def default_fingerprint_rules() -> FingerprintRules:
    return FingerprintRules.load()
