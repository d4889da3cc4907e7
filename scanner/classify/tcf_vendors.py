"""IAB TCF vendors: the Global Vendor List id a request goes to (rules/tcf-vendors.yaml), what the
vendor declares in the GVL (a copy the user gives with --gvl), and the TCF signals an ad request
carries in its URL (`gdpr`, `gdpr_consent`).

    vendors = default_tcf_vendors()
    vendors.for_host("securepubads.g.doubleclick.net")     # -> (755, "Google Advertising Products")
    gvl = load_gvl("vendor-list.json")                      # {755: {"name", "purposes", "legIntPurposes", ...}}
    request_signal(url, vendor_id=755)                      # the request's own TC string, decoded
    basis(755, tc, gvl.get(755))                            # (True, "consent") / (False, "no consent ...")

`request_signal` reads the URL as the browser sent it (the recorder calls it before URLs are
redacted): the TC string itself is never kept, only what it says.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import yaml

from ..consent import tcf
from ..errors import UsageError
from ..paths import rules_dir
from ..yaml_lines import BoundedSafeLoader

FILE_NAME = "tcf-vendors.yaml"
MAX_GVL_BYTES = 64 * 1024 * 1024
GVL_FIELDS = ("purposes", "legIntPurposes", "flexiblePurposes", "specialPurposes")


class GvlError(UsageError):
    """A --gvl file that is not a Global Vendor List (one line; the CLI exits 2)."""


@dataclass(frozen=True)
class TcfVendors:
    by_domain: dict[str, tuple[int, str]]

    @classmethod
    def load(cls, path: str | Path | None = None) -> "TcfVendors":
        data = yaml.load(Path(path or rules_dir() / FILE_NAME).read_text(encoding="utf-8"),
                         Loader=BoundedSafeLoader) or {}
        table: dict[str, tuple[int, str]] = {}
        for entry in data.get("vendors") or []:
            for domain in entry.get("domains") or []:
                table[str(domain).lower()] = (int(entry["id"]), str(entry["name"]))
        return cls(table)

    def for_host(self, host: str) -> tuple[int, str] | None:
        """(GVL id, name) of the vendor whose domain `host` is, or a subdomain of; None otherwise."""
        labels = (host or "").lower().rstrip(".").split(".")
        for i in range(len(labels) - 1):
            found = self.by_domain.get(".".join(labels[i:]))
            if found:
                return found
        return None


@lru_cache(maxsize=1)
def default_tcf_vendors() -> TcfVendors:
    return TcfVendors.load()


def load_gvl(path: str | Path) -> dict:
    """The parts of a GVL (v2 or v3 JSON) the audits use: {"vendor_list_version", "vendors": {id:
    {name, purposes, legIntPurposes, flexiblePurposes, specialPurposes}}}. Raises GvlError."""
    file = Path(path)
    try:
        size = file.stat().st_size
        if size > MAX_GVL_BYTES:
            raise GvlError(f"{file}: {size} bytes, more than a vendor list ({MAX_GVL_BYTES} at most)")
        data = json.loads(file.read_bytes())
    except OSError as exc:
        raise GvlError(f"{file}: cannot read it ({exc.strerror or exc})") from None
    except ValueError as exc:
        raise GvlError(f"{file}: not JSON ({str(exc).splitlines()[0][:120]})") from None
    vendors = data.get("vendors") if isinstance(data, dict) else None
    if not isinstance(vendors, dict):
        raise GvlError(f"{file}: not a Global Vendor List (no \"vendors\" object)")
    out: dict[int, dict] = {}
    for key, entry in vendors.items():
        if not isinstance(entry, dict) or not str(key).isdigit() or entry.get("deletedDate"):
            continue
        out[int(key)] = {"name": str(entry.get("name") or "")[:200],
                         **{f: sorted({int(n) for n in entry.get(f) or [] if isinstance(n, int) and 0 < n < 100})
                            for f in GVL_FIELDS}}
    version = data.get("vendorListVersion")
    return {"vendor_list_version": version if isinstance(version, int) else None, "vendors": out}


def request_signal(url: str, vendor_id: int | None = None) -> dict | None:
    """What a request's URL tells its vendor about the TCF: `gdpr` ("1", "0" or what was sent) and,
    when `gdpr_consent` holds a TC string, its purpose consents and whether it gives `vendor_id`
    consent or legitimate interest; None when the URL carries neither parameter."""
    try:
        pairs = parse_qsl(urlsplit(url[:tcf.MAX_LENGTH + 4096]).query, keep_blank_values=True)[:200]
    except ValueError:
        return None
    params = {k.lower(): v for k, v in pairs if k.lower() in ("gdpr", "gdpr_consent")}
    if not params:
        return None
    signal: dict = {"gdpr": params.get("gdpr", None), "consent_string": bool(params.get("gdpr_consent"))}
    if signal["gdpr"] is not None:
        signal["gdpr"] = signal["gdpr"][:20]
    text = params.get("gdpr_consent") or ""
    if text:
        try:
            decoded = tcf.decode(text)
        except tcf.TCStringError as exc:
            signal["error"] = str(exc)[:200]
            return signal
        signal["purpose_consents"] = list(decoded.get("purpose_consents") or [])
        if vendor_id is not None:
            signal["vendor_consent"] = _holds(decoded, "vendor_consents", vendor_id)
            signal["vendor_legitimate_interest"] = _holds(decoded, "vendor_legitimate_interests", vendor_id)
    return signal


def _holds(decoded: dict, key: str, vendor_id: int) -> bool | None:
    """Whether the list has the id; None when the list was cut short before it (cannot tell)."""
    ids = decoded.get(key) or []
    if vendor_id in ids:
        return True
    return None if decoded.get(f"{key}_truncated") else False


def basis(vendor_id: int, tc: dict, declared: dict | None = None) -> tuple[bool | None, str]:
    """Whether the TC string `tc` (states[].proof.tc_string) gives the vendor a legal basis to be
    contacted: consent (the vendor's bit, and with the GVL at least one of its consent purposes
    consented) or legitimate interest (the vendor's bit, and with the GVL at least one of its
    legitimate-interest purposes established). None when the lists were cut short (cannot tell)."""
    consents = tc.get("vendor_consents") or []
    interests = tc.get("vendor_legitimate_interests") or []
    purposes = set(tc.get("purpose_consents") or [])
    li_purposes = set(tc.get("purpose_legitimate_interests") or [])
    consent = vendor_id in consents
    interest = vendor_id in interests
    if declared:
        consent = consent and (not declared.get("purposes") or bool(purposes & set(declared["purposes"])))
        wanted = set(declared.get("legIntPurposes") or []) | set(declared.get("flexiblePurposes") or [])
        interest = interest and bool(li_purposes & wanted)
    if consent:
        return True, "consent"
    if interest:
        return True, "legitimate interest"
    truncated = (tc.get("vendor_consents_count") or 0) > len(consents) or (
        tc.get("vendor_legitimate_interests_count") or 0) > len(interests)
    if truncated:
        return None, "the TC string's vendor lists were too long to read whole"
    if vendor_id in consents:
        return False, "consent to the vendor, but to none of the purposes it declares in the vendor list"
    if vendor_id in interests:
        return False, "legitimate interest for the vendor, but for none of its declared purposes"
    return False, "neither consent nor legitimate interest for the vendor"
