"""Decode IAB TCF v2 TC strings (TCF v2.2: core segment version 2, tcfPolicyVersion 4 or 5).

Layout: IAB Tech Lab, "Transparency & Consent String with Global Vendor & CMP List Formats",
TCF v2 — sections "The core string", "Vendor Consent Section" / "Range Entry Section",
"Publisher Purposes Transparency and Consent" and "Disclosed Vendors"; checked against the
reference encoder @iabtcf/core 1.5.6 (encoder/BitLength.js, encoder/sequence/FieldSequence.js).

A TC string is one to four '.'-separated segments, each base64url without padding. The core
segment comes first and has no segment type; every other one starts with a 3-bit SegmentType
(1 disclosed vendors, 2 allowed vendors, 3 publisher TC).

The string comes from the scanned site, which may be hostile: the input length is capped, every
loop consumes bits of the (capped) input, and vendor ranges are kept as merged intervals and only
expanded up to MAX_IDS ids per list (`<list>_truncated` then says so; `<list>_count` is exact).
"""
from __future__ import annotations

import re
from datetime import datetime, timezone

__all__ = ["TCStringError", "decode", "summary", "ALL_CONSENT_PURPOSES", "MAX_LENGTH", "MAX_IDS"]

MAX_LENGTH = 20_000          # characters of the whole TC string
MAX_IDS = 5_000              # vendor ids kept per list
ALL_CONSENT_PURPOSES = range(1, 11)   # TCF purposes 1..10 (purpose 11 is new in v2.2, LI/consent optional)

_B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_BITS = {c: format(i, "06b") for i, c in enumerate(_B64)}
_SEGMENT_OK = re.compile(r"[A-Za-z0-9_-]+")
_SEGMENT_NAMES = {1: "disclosed_vendors", 2: "allowed_vendors", 3: "publisher_tc"}


class TCStringError(ValueError):
    """The string is not a well-formed TCF v2 TC string (the message is one line)."""


class _Bits:
    """Reads big-endian unsigned fields from a segment's bits (a '0'/'1' string)."""

    def __init__(self, segment: str, name: str):
        if not _SEGMENT_OK.fullmatch(segment):
            raise TCStringError(f"{name} segment is not base64url")
        self.bits = "".join(_BITS[c] for c in segment)
        self.pos = 0
        self.name = name

    def take(self, n: int, field: str) -> str:
        end = self.pos + n
        if end > len(self.bits):
            raise TCStringError(f"{self.name} segment truncated in {field} (bit {self.pos} of {len(self.bits)})")
        chunk, self.pos = self.bits[self.pos:end], end
        return chunk

    def int(self, n: int, field: str) -> int:
        return int(self.take(n, field), 2)

    def bool(self, field: str) -> bool:
        return self.take(1, field) == "1"

    def flags(self, n: int, field: str) -> list[int]:
        """A fixed bitfield: the 1-based positions that are set."""
        chunk = self.take(n, field)
        return [i + 1 for i, bit in enumerate(chunk) if bit == "1"]

    def letters(self, field: str) -> str:
        a, b = self.int(6, field), self.int(6, field)
        if a > 25 or b > 25:
            raise TCStringError(f"{field} is not two letters A-Z")
        return chr(65 + a) + chr(65 + b)


class _Ids:
    """A set of vendor ids kept as sorted, merged intervals; expanded with a cap."""

    def __init__(self) -> None:
        self.intervals: list[tuple[int, int]] = []

    def add(self, start: int, end: int) -> None:
        self.intervals.append((start, end))

    def merged(self) -> list[tuple[int, int]]:
        out: list[list[int]] = []
        for start, end in sorted(self.intervals):
            if out and start <= out[-1][1] + 1:
                out[-1][1] = max(out[-1][1], end)
            else:
                out.append([start, end])
        return [(s, e) for s, e in out]

    def result(self) -> tuple[list[int], int, bool]:
        """(ids up to MAX_IDS, exact count, truncated?)"""
        ids: list[int] = []
        count = 0
        for start, end in self.merged():
            count += end - start + 1
            room = MAX_IDS - len(ids)
            if room > 0:
                ids.extend(range(start, min(end, start + room - 1) + 1))
        return ids, count, count > len(ids)


def _range_entries(bits: _Bits, ids: _Ids, field: str, max_id: int | None = None) -> None:
    """NumEntries (12 bits), then entries: IsARange 1, StartOrOnlyVendorId 16, [EndVendorId 16]."""
    for _ in range(bits.int(12, f"{field} NumEntries")):   # each entry reads >= 17 bits: bounded by input
        is_range = bits.bool(f"{field} IsARange")
        start = bits.int(16, f"{field} vendor id")
        end = bits.int(16, f"{field} end vendor id") if is_range else start
        if start == 0:
            raise TCStringError(f"{field} has vendor id 0")
        if end < start:
            raise TCStringError(f"{field} range {start}-{end} ends before it starts")
        if max_id is not None and end > max_id:
            raise TCStringError(f"{field} vendor id {end} is above MaxVendorId {max_id}")
        ids.add(start, end)


def _vendor_section(bits: _Bits, field: str) -> _Ids:
    """MaxVendorId 16, IsRangeEncoding 1, then a bitfield of MaxVendorId bits or range entries."""
    max_id = bits.int(16, f"{field} MaxVendorId")
    ids = _Ids()
    if bits.bool(f"{field} IsRangeEncoding"):
        _range_entries(bits, ids, field, max_id)
    else:
        chunk = bits.take(max_id, f"{field} bitfield")
        i = chunk.find("1")
        while i >= 0:        # at most max_id (<= 65535) steps, over bits that are present
            j = chunk.find("0", i)
            j = len(chunk) if j < 0 else j
            ids.add(i + 1, j)
            i = chunk.find("1", j)
    return ids


def _put(out: dict, key: str, ids: _Ids) -> None:
    out[key], out[f"{key}_count"], out[f"{key}_truncated"] = ids.result()


def _iso(deciseconds: int) -> str:
    try:
        moment = datetime.fromtimestamp(deciseconds / 10, tz=timezone.utc)
    except (OverflowError, OSError, ValueError):
        raise TCStringError("date out of range") from None
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    return text + (f".{deciseconds % 10}" if deciseconds % 10 else "") + "Z"


def decode(tc_string: str) -> dict:
    """Decode a TCF v2 TC string. Raises TCStringError when it is malformed."""
    if not isinstance(tc_string, str):
        raise TCStringError("TC string is not text")
    text = tc_string.strip()
    if not text:
        raise TCStringError("empty TC string")
    if len(text) > MAX_LENGTH:
        raise TCStringError(f"TC string too long ({len(text)} characters, at most {MAX_LENGTH})")
    segments = [s.rstrip("=") for s in text.split(".")]
    if len(segments) > 4:
        raise TCStringError(f"{len(segments)} segments (at most 4)")
    if any(not s for s in segments):
        raise TCStringError("empty segment")

    bits = _Bits(segments[0], "core")
    version = bits.int(6, "Version")
    if version != 2:
        hint = " (a TCF v1 consent string)" if version == 1 else ""
        raise TCStringError(f"TC string version {version}, not 2{hint}")
    out: dict = {"version": version}
    out["created"] = _iso(bits.int(36, "Created"))
    out["last_updated"] = _iso(bits.int(36, "LastUpdated"))
    out["cmp_id"] = bits.int(12, "CmpId")
    out["cmp_version"] = bits.int(12, "CmpVersion")
    out["consent_screen"] = bits.int(6, "ConsentScreen")
    out["consent_language"] = bits.letters("ConsentLanguage")
    out["vendor_list_version"] = bits.int(12, "VendorListVersion")
    out["policy_version"] = bits.int(6, "TcfPolicyVersion")
    out["is_service_specific"] = bits.bool("IsServiceSpecific")
    out["use_non_standard_texts"] = bits.bool("UseNonStandardTexts")
    out["special_features"] = bits.flags(12, "SpecialFeatureOptIns")
    out["purpose_consents"] = bits.flags(24, "PurposesConsent")
    out["purpose_legitimate_interests"] = bits.flags(24, "PurposesLITransparency")
    out["purpose_one_treatment"] = bits.bool("PurposeOneTreatment")
    out["publisher_cc"] = bits.letters("PublisherCC")
    _put(out, "vendor_consents", _vendor_section(bits, "vendor consents"))
    _put(out, "vendor_legitimate_interests", _vendor_section(bits, "vendor legitimate interests"))

    restrictions = []
    kept = 0
    for _ in range(bits.int(12, "NumPubRestrictions")):      # each reads >= 20 bits: bounded by input
        purpose = bits.int(6, "restriction PurposeId")
        kind = bits.int(2, "RestrictionType")
        ids = _Ids()
        _range_entries(bits, ids, "publisher restriction")
        vendors, count, truncated = ids.result()
        vendors = vendors[:max(0, MAX_IDS - kept)]   # one budget for all restrictions together
        kept += len(vendors)
        restrictions.append({"purpose": purpose, "type": kind, "vendors": vendors,
                             "vendors_count": count, "vendors_truncated": truncated or len(vendors) < count})
    out["publisher_restrictions"] = restrictions

    out["disclosed_vendors"] = None
    out["allowed_vendors"] = None
    out["publisher_tc"] = None
    for segment in segments[1:]:
        bits = _Bits(segment, "optional")
        kind = bits.int(3, "SegmentType")
        name = _SEGMENT_NAMES.get(kind)
        if name is None:
            raise TCStringError(f"unknown segment type {kind}")
        if out[name] is not None:
            raise TCStringError(f"segment type {kind} appears twice")
        bits.name = name.replace("_", " ")
        if kind == 3:
            publisher = {"purpose_consents": bits.flags(24, "PubPurposesConsent"),
                         "purpose_legitimate_interests": bits.flags(24, "PubPurposesLITransparency")}
            custom = bits.int(6, "NumCustomPurposes")
            publisher["custom_purpose_consents"] = bits.flags(custom, "CustomPurposesConsent")
            publisher["custom_purpose_legitimate_interests"] = bits.flags(custom, "CustomPurposesLITransparency")
            out[name] = publisher
        else:
            ids = _vendor_section(bits, name.replace("_", " "))
            _put(out, name, ids)
    return out


def _numbers(values: list[int]) -> str:
    return ",".join(map(str, values)) if values else "none"


def summary(decoded: dict) -> str:
    """One line for a compliance officer, e.g. "TC string (CMP 300 v2, policy 4, created
    2026-12-04T07:00:00Z): purpose consents 1,2,3; legitimate interests 2,7; 12 vendors with consent"."""
    count = decoded.get("vendor_consents_count", len(decoded.get("vendor_consents") or []))
    vendors = "no vendor" if not count else f"{count} vendor{'s' if count != 1 else ''}"
    parts = [f"purpose consents {_numbers(decoded.get('purpose_consents') or [])}",
             f"legitimate interests {_numbers(decoded.get('purpose_legitimate_interests') or [])}",
             f"{vendors} with consent"]
    if decoded.get("special_features"):
        parts.append(f"special features {_numbers(decoded['special_features'])}")
    if decoded.get("publisher_restrictions"):
        parts.append(f"{len(decoded['publisher_restrictions'])} publisher restriction(s)")
    head = (f"TC string (CMP {decoded.get('cmp_id')} v{decoded.get('cmp_version')}, "
            f"policy {decoded.get('policy_version')}, created {decoded.get('created')}"
            + (", service-specific" if decoded.get("is_service_specific") else "") + ")")
    return f"{head}: " + "; ".join(parts)
