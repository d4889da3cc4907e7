"""scanner.consent.tcf: TCF v2.2 TC strings made by the IAB's own encoder, and hostile ones."""
from __future__ import annotations

import random
import tracemalloc

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scanner.consent.tcf import ALL_CONSENT_PURPOSES, MAX_IDS, MAX_LENGTH, TCStringError, decode, summary

# Made by `node tools/tcf-strings.js` with @iabtcf/core 1.5.6 (tests/node_modules): TCModel +
# TCString.encode over a synthetic vendor list of vendors 1..1000 (CMP 300 v2, consent screen 1,
# created 2026-12-04T07:00:00Z, last updated 2026-12-05T00:00:00Z). The script also prints what
# @iabtcf/core decodes back from each string; the expectations below agree with it.
ACCEPT_ALL = "CQut_FgQuwUgAEsACBENCOEAAP_AAAAAAAqIGMwBIAAgAEABwBeYDGQAAAAA.IH0QAYAAgfQA"
REJECT_ALL = "CQut_FgQuwUgAEsACBENCOEAAAAAAAAAAAqIAAAAAAAA.IH0QAYAAgfQA"
ANALYTICS_ONLY = "CQut_FgQuwUgAEsACBENCOEAAAOAAAAAAAqIAEAEAAAAAAAA.IH0QAYAAgfQA"
MANY_VENDORS = "CQut_FgQuwUgAEsACBENCOEAAP_gAAAAAAqIH0QA4AAgHzAPsBkIEsAfQB9EAGAAIH0AAAAA.IH0QAYAAgfQA"
LEGITIMATE_INTERESTS = ("CQut_FgQuwUgAEsACBENCWFsAKAAAEPAAIYgF5wAgABALzAvOAFAAEAAgF5gBBIAUAAwAEAXmOAAgAKA"
                        ".eAAAAEAAAUAA")

COMMON = {"version": 2, "created": "2026-12-04T07:00:00Z", "last_updated": "2026-12-05T00:00:00Z",
          "cmp_id": 300, "cmp_version": 2, "consent_screen": 1, "consent_language": "EN"}
POLICY_4 = {**COMMON, "vendor_list_version": 142, "policy_version": 4, "is_service_specific": False,
            "use_non_standard_texts": False, "special_features": [], "purpose_legitimate_interests": [],
            "purpose_one_treatment": False, "publisher_cc": "FR", "publisher_restrictions": [],
            "allowed_vendors": None, "publisher_tc": None, "disclosed_vendors": list(range(1, 1001)),
            "disclosed_vendors_count": 1000, "disclosed_vendors_truncated": False}


def vendors(key: str, ids: list[int]) -> dict:
    return {key: ids, f"{key}_count": len(ids), f"{key}_truncated": False}


def test_accept_all():
    assert decode(ACCEPT_ALL) == {**POLICY_4, "purpose_consents": list(range(1, 11)),
                                  **vendors("vendor_consents", [1, 2, 28, 755, 793]),
                                  **vendors("vendor_legitimate_interests", [])}
    assert set(ALL_CONSENT_PURPOSES) <= set(decode(ACCEPT_ALL)["purpose_consents"])


def test_reject_all():
    assert decode(REJECT_ALL) == {**POLICY_4, "purpose_consents": [], **vendors("vendor_consents", []),
                                  **vendors("vendor_legitimate_interests", [])}


def test_analytics_only():
    assert decode(ANALYTICS_ONLY) == {**POLICY_4, "purpose_consents": [7, 8, 9], **vendors("vendor_consents", [8]),
                                      **vendors("vendor_legitimate_interests", [])}


def test_many_vendors_range_encoded():
    # 800 vendors in a bitfield would take 1000 bits (~170 characters): the encoder chose ranges
    assert len(MANY_VENDORS.split(".")[0]) < 80
    consents = [v for v in range(1, 1001) if v <= 400 and v != 250 or v >= 600]
    assert decode(MANY_VENDORS) == {**POLICY_4, "purpose_consents": list(range(1, 12)),
                                    **vendors("vendor_consents", consents),
                                    **vendors("vendor_legitimate_interests", list(range(1, 1001)))}


def test_legitimate_interests_restrictions_and_publisher_segment():
    assert decode(LEGITIMATE_INTERESTS) == {
        **COMMON, "vendor_list_version": 150, "policy_version": 5, "is_service_specific": True,
        "use_non_standard_texts": False, "special_features": [1, 2], "purpose_consents": [1, 3],
        "purpose_legitimate_interests": [2, 7, 8, 9, 10],     # no LI for purpose 1: the encoder drops it
        "purpose_one_treatment": True, "publisher_cc": "DE",
        **vendors("vendor_consents", [2, 755]), **vendors("vendor_legitimate_interests", [1, 2, 755]),
        "publisher_restrictions": [
            {"purpose": 2, "type": 1, "vendors": [3, 4, 755], "vendors_count": 3, "vendors_truncated": False},
            {"purpose": 7, "type": 0, "vendors": [10], "vendors_count": 1, "vendors_truncated": False}],
        "disclosed_vendors": None, "allowed_vendors": None,
        "publisher_tc": {"purpose_consents": [1, 2], "purpose_legitimate_interests": [7],
                         "custom_purpose_consents": [1], "custom_purpose_legitimate_interests": []}}


def test_summary_lines():
    assert summary(decode(ACCEPT_ALL)) == (
        "TC string (CMP 300 v2, policy 4, created 2026-12-04T07:00:00Z): purpose consents 1,2,3,4,5,6,7,8,9,10; "
        "legitimate interests none; 5 vendors with consent")
    assert summary(decode(REJECT_ALL)).endswith(
        "purpose consents none; legitimate interests none; no vendor with consent")
    assert summary(decode(ANALYTICS_ONLY)).endswith(
        "purpose consents 7,8,9; legitimate interests none; 1 vendor with consent")
    assert summary(decode(LEGITIMATE_INTERESTS)) == (
        "TC string (CMP 300 v2, policy 5, created 2026-12-04T07:00:00Z, service-specific): purpose consents 1,3; "
        "legitimate interests 2,7,8,9,10; 2 vendors with consent; special features 1,2; 2 publisher restriction(s)")
    assert "\n" not in summary(decode(MANY_VENDORS))


def test_tolerates_padding_and_whitespace():
    assert decode(f"  {ANALYTICS_ONLY.replace('.', '==.')}=\n") == decode(ANALYTICS_ONLY)


# ---- strings built bit by bit: the same layout, written independently of the decoder -------------

def b64(bits: str) -> str:
    bits += "0" * (-len(bits) % 6)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    return "".join(alphabet[int(bits[i:i + 6], 2)] for i in range(0, len(bits), 6))


def n(value: int, width: int) -> str:
    return format(value, f"0{width}b")


def header(version: int = 2, purposes: tuple[int, ...] = (1,), lang: str = "EN") -> str:
    letters = "".join(n(ord(c) - 65, 6) for c in lang)
    return (n(version, 6) + n(17000000000, 36) * 2 + n(7, 12) + n(1, 12) + n(0, 6) + letters + n(1, 12)
            + n(4, 6) + "00" + n(0, 12) + "".join("1" if p in purposes else "0" for p in range(1, 25))
            + "0" * 24 + "0" + n(ord("F") - 65, 6) + n(ord("R") - 65, 6))


def bitfield(ids: set[int]) -> str:
    top = max(ids, default=0)
    return n(top, 16) + "0" + "".join("1" if v in ids else "0" for v in range(1, top + 1))


def ranges(entries: list[tuple[int, int]], max_id: int | None = None) -> str:
    top = max_id if max_id is not None else max((e for _, e in entries), default=0)
    body = "".join("0" + n(s, 16) if s == e else "1" + n(s, 16) + n(e, 16) for s, e in entries)
    return n(top, 16) + "1" + n(len(entries), 12) + body


EMPTY_SECTION = n(0, 16) + "0"
NO_RESTRICTIONS = n(0, 12)


def core(consents: str = EMPTY_SECTION, li: str = EMPTY_SECTION, restrictions: str = NO_RESTRICTIONS, **kw) -> str:
    return b64(header(**kw) + consents + li + restrictions)


@settings(max_examples=150, deadline=None)
@given(st.sets(st.integers(1, 3000), max_size=200), st.booleans())
def test_round_trip_of_bitfields_and_ranges(ids, use_ranges):
    if use_ranges:
        spans, ordered = [], sorted(ids)
        for v in ordered:
            if spans and spans[-1][1] == v - 1:
                spans[-1][1] = v
            else:
                spans.append([v, v])
        section = ranges([tuple(s) for s in spans])
    else:
        section = bitfield(ids)
    out = decode(core(consents=section, li=section))
    assert out["vendor_consents"] == out["vendor_legitimate_interests"] == sorted(ids)
    assert out["vendor_consents_count"] == len(ids)


# ---- hostile input: a one-line TCStringError, with little memory (speed: bench/micro.py) --------------------------

def truncated_bitfield_65535() -> str:
    return core(consents=n(65535, 16) + "0" + "1" * 600)


HOSTILE = {
    "empty": "",
    "blank": "   ",
    "garbage": "hello, world!",
    "padding only": "====",
    "dots only": "...",
    "too many segments": ".".join([ACCEPT_ALL.split(".")[0]] * 5),
    "huge": "C" * (MAX_LENGTH + 1),
    "truncated valid": ACCEPT_ALL[:30],
    "truncated at vendor section": ACCEPT_ALL.split(".")[0][:40],
    "TCF v1 string": "BOEFEAyOEFEAyAHABDENAI4AAAB9vABAASA",
    "version 3": core(version=3),
    "bitfield MaxVendorId 65535 truncated": truncated_bitfield_65535(),
    "range start > end": core(consents=ranges([(900, 12)], max_id=900)),
    "range end above MaxVendorId": core(consents=ranges([(1, 2000)], max_id=10)),
    "vendor id 0": core(consents=ranges([(0, 0)], max_id=5)),
    "NumEntries 4095, 3 entries present":
        b64(header() + n(65535, 16) + "1" + n(4095, 12) + ("1" + n(1, 16) + n(65535, 16)) * 3),
    "NumPubRestrictions 4095, none present": core(restrictions=n(4095, 12)),
    "bad language letters": core(lang="[["),
    "unknown segment type": ANALYTICS_ONLY.split(".")[0] + "." + b64("111" + "0" * 21),
    "segment twice": ANALYTICS_ONLY + ".IH0QAYAAgfQA",
    "non-base64 in segment": ACCEPT_ALL.replace("Q", "+", 1),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_strings_raise(name):
    with pytest.raises(TCStringError) as error:
        decode(HOSTILE[name])
    assert isinstance(error.value, ValueError)
    message = str(error.value)
    assert message and "\n" not in message and len(message) < 200


def test_non_text_raises():
    with pytest.raises(TCStringError):
        decode(None)  # type: ignore[arg-type]


def measured(tc_string: str) -> tuple[dict, int]:
    """The decoded string and the decoder's peak traced memory: a capped decode never expands every id.
    (How fast: bench/micro.py.)"""
    tracemalloc.start()
    try:
        out = decode(tc_string)
        return out, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_huge_ranges_are_capped_not_expanded():
    # 600 entries, each 1..65535 (39 million ids if expanded one by one), in 3 300 characters
    entries = ranges([(1, 65535)] * 600)
    assert len(core(consents=entries)) < MAX_LENGTH
    out, peak = measured(core(consents=entries, li=ranges([(2, 65535)])))
    assert out["vendor_consents_count"] == 65535 and out["vendor_consents_truncated"] is True
    assert out["vendor_consents"] == list(range(1, MAX_IDS + 1))
    assert out["vendor_legitimate_interests_count"] == 65534
    assert peak < 20_000_000


def test_full_bitfield_is_capped():
    out, peak = measured(core(consents=bitfield(set(range(1, 65536)))))
    assert out["vendor_consents_count"] == 65535 and len(out["vendor_consents"]) == MAX_IDS
    assert out["vendor_consents_truncated"] is True
    assert peak < 20_000_000


def test_alternating_bitfield_is_fast():
    ids = set(range(1, 65536, 2))
    out, peak = measured(core(consents=bitfield(ids)))
    assert out["vendor_consents_count"] == len(ids) and out["vendor_consents"][:3] == [1, 3, 5]
    assert peak < 30_000_000


def test_restrictions_share_one_cap():
    restriction = n(2, 6) + n(1, 2) + n(1, 12) + "1" + n(1, 16) + n(65535, 16)
    out, _ = measured(core(restrictions=n(300, 12) + restriction * 300))
    kept = sum(len(r["vendors"]) for r in out["publisher_restrictions"])
    assert len(out["publisher_restrictions"]) == 300 and kept == MAX_IDS
    assert all(r["vendors_count"] == 65535 and r["vendors_truncated"] for r in out["publisher_restrictions"])


def test_maximum_length_input_of_single_entries():
    entries = [(v, v) for v in range(1, 4096)]           # 4095 entries x 17 bits, ~11 600 characters
    text = core(consents=ranges(entries, max_id=4095))
    out, _ = measured(text)
    assert out["vendor_consents_count"] == 4095


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_any_text_decodes_or_raises_tcstringerror(text):
    try:
        decode(text)
    except TCStringError:
        pass


@settings(max_examples=300, deadline=None)
@given(st.binary(min_size=0, max_size=400))
def test_any_bits_after_a_valid_header_decode_or_raise(tail):
    bits = header() + "".join(format(byte, "08b") for byte in tail)
    try:
        out = decode(b64(bits))
    except TCStringError:
        return
    assert len(out["vendor_consents"]) <= MAX_IDS


def test_random_mutations_of_real_strings():
    rng = random.Random(4242)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    for source in (ACCEPT_ALL, MANY_VENDORS, LEGITIMATE_INTERESTS):
        for _ in range(300):
            chars = list(source)
            for _ in range(rng.randint(1, 4)):
                i = rng.randrange(len(chars))
                if chars[i] != ".":
                    chars[i] = rng.choice(alphabet)
            try:
                decode("".join(chars))
            except TCStringError:
                pass
