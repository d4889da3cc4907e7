"""The candidate record of a visitor's choice (scanner/consent/proof.py), and when the annotation
trusts it as the consent manager's record: a tracker written by an "accept" click must never be
taken for the record (that would hide it from every audit)."""
from __future__ import annotations

from scanner.classify.annotate import candidate_records
from scanner.classify.known_cookies import default_known_cookies
from scanner.classify.vendors import default_vendors
from scanner.consent.proof import candidate_record, changes
from scanner.states import known_tracker


def entry(kind, where, name, change="added"):
    return {"type": kind, "where": where, "name": name, "change": change}


def test_changes_are_what_appeared_or_changed():
    before = {("cookie", "shop.example", "a"): "1", ("cookie", "shop.example", "b"): "1"}
    after = {("cookie", "shop.example", "a"): "1", ("cookie", "shop.example", "b"): "2",
             ("localStorage", "https://shop.example", "c"): "1"}
    assert changes(before, after) == [entry("cookie", "shop.example", "b", "changed"),
                                      entry("localStorage", "https://shop.example", "c")]


def test_a_known_tracker_is_never_the_record():
    found = [entry("cookie", "www.shop.example", "_ga"), entry("cookie", "www.shop.example", "_fbp"),
             entry("cookie", "www.shop.example", "sel")]
    assert candidate_record(found, "shop.example", known_tracker)["name"] == "sel"
    # a generic name the knowledge base knows only on its platform's domain (Yahoo's `cmp`) is the site's own
    assert candidate_record([entry("cookie", "www.shop.example", "cmp")], "shop.example", known_tracker)["name"] == "cmp"
    assert candidate_record(found[:2], "shop.example", known_tracker) is None


def test_a_third_party_entry_is_never_the_record():
    found = [entry("cookie", "cmp.example.net", "consent"), entry("localStorage", "https://www.shop.example", "x1")]
    assert candidate_record(found, "shop.example", known_tracker)["name"] == "x1"


def test_a_name_about_consent_ranks_first():
    found = [entry("localStorage", "https://www.shop.example", "cart"),
             entry("cookie", "www.shop.example", "cookie_choice"),
             entry("sessionStorage", "https://www.shop.example", "tab")]
    assert candidate_record(found, "shop.example", known_tracker)["name"] == "cookie_choice"


def result_with(records: dict[str, dict]) -> dict:
    return {"states": [{"state": name, "reached": True, "proof": {"by": ["stored-choice"], "record": record}}
                       for name, record in records.items()]}


def test_annotation_trusts_a_record_written_by_a_refusal_or_named_for_consent():
    known, vendors = default_known_cookies(), default_vendors()
    sel = entry("cookie", "www.shop.example", "sel")
    # written by "accept" only, and its name says nothing: may be a tracker, not trusted
    assert candidate_records(result_with({"accept": sel}), known, vendors) == set()
    # the same name written by "reject": a refusal stores the choice, nothing else
    assert candidate_records(result_with({"accept": sel, "reject": sel}), known, vendors) == {("cookie", "sel")}
    named = entry("localStorage", "https://www.shop.example", "privacy-choice")
    assert candidate_records(result_with({"accept": named}), known, vendors) == {("storage", "privacy-choice")}


def test_annotation_never_trusts_a_known_tracker_as_the_record():
    known, vendors = default_known_cookies(), default_vendors()
    ga = entry("cookie", "www.shop.example", "_ga")
    assert candidate_records(result_with({"reject": ga, "withdraw": ga}), known, vendors) == set()
