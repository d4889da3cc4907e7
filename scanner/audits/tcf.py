"""IAB TCF audits: what the site's TC string allows each vendor, against the requests the vendors
receive and the TCF signals those requests carry (scanner.classify.tcf_vendors).

They only speak where the site runs a TCF consent manager (a state's proof holds its TC string),
or where a request carries a TCF signal itself; a vendor request that the consent judgement
already reports as not allowed is not reported again here.
"""
from __future__ import annotations

from .. import consent_states
from ..classify.tcf_vendors import basis
from ..consent_states import is_no_consent, only_category
from ..judgement import NOT_ALLOWED, ConsentModel, judge
from .checks import observations, subject_of
from .registry import audit

TCF_POLICIES = "IAB Europe TCF v2.2 Policies (Appendix A: purposes; vendors' legal bases)"


def _vendor_text(request: dict) -> str:
    vendor = request.get("tcf_vendor") or {}
    return f"{vendor.get('name') or request.get('vendor') or request.get('host')} (TCF vendor {vendor.get('id')})"


def _requests(result: dict):
    """(state record, page, request) for every request of a reached state."""
    return ((state, page, item) for state, page, kind, item in observations(result) if kind == "request")


def _site_tc(state: dict) -> dict | None:
    tc = (state.get("proof") or {}).get("tc_string")
    return tc if isinstance(tc, dict) else None


def _when(state: str, model: ConsentModel) -> str:
    category = only_category(state)
    return consent_states.when(state, model.label(category) if category else None)


@audit("tcf-vendor-without-basis", "violation", "TCF vendor contacted without a legal basis in the TC string",
       "The site's consent manager records the visitor's choice as an IAB TCF TC string, and a vendor of the TCF "
       "receives requests although that string gives it neither consent nor legitimate interest (with the vendor "
       "list given to the scanner: for none of the purposes the vendor declares). The visitor's choice is the TC "
       "string: a vendor outside it has no basis, even where the site's own categories were accepted.",
       f"ePrivacy Directive art. 5(3); GDPR art. 6(1) and 7(1); {TCF_POLICIES}",
       "Load each vendor's tag only when the TC string gives that vendor consent (or the legitimate interest it "
       "declares): check `vendor.consents[id]` in the TC data, or let the ad stack (Prebid's consent management, "
       "Google Ad Manager) do it; add every vendor the site uses to the consent manager's vendor list.")
def tcf_vendor_without_basis(result, declaration, findings):
    model = ConsentModel.from_report(result)
    declared = (result.get("tcf") or {}).get("vendors") or {}
    for state, page, request in _requests(result):
        vendor = request.get("tcf_vendor")
        tc = _site_tc(state)
        if not isinstance(vendor, dict) or tc is None:
            continue
        if judge("request", request, state["state"], model).status == NOT_ALLOWED:
            continue   # already a consent finding in this state
        ok, why = basis(int(vendor["id"]), tc, declared.get(str(vendor["id"])))
        if ok is False:
            findings.add("tcf-vendor-without-basis", "violation", state["state"], page["url"], subject_of("request", request),
                         f"{_vendor_text(request)} receives requests {_when(state['state'], model)}: the TC string "
                         f"gives {why.replace('for the vendor', 'for it')}",
                         {"url": request.get("url"), "why": why, "tc_string": tc.get("summary")})


@audit("tcf-consent-string-mismatch", "violation", "Ad request carries a consent the visitor did not give",
       "An ad request passes a TC string to its vendor (the `gdpr_consent` parameter) that grants more than the "
       "visitor chose: purposes the site's consent manager did not record as consented, or consent to the vendor "
       "where the manager's string gives none, or any consent before the visitor answered. The vendor is told it "
       "may track: a stale, hard-coded or forged consent string.",
       f"GDPR art. 7(1) (consent must be demonstrable); ePrivacy Directive art. 5(3); {TCF_POLICIES}",
       "Pass the consent manager's current TC string (from __tcfapi) to every ad request; never cache or hard-code "
       "one.")
def tcf_consent_string_mismatch(result, declaration, findings):
    model = ConsentModel.from_report(result)
    for state, page, request in _requests(result):
        signal = request.get("tcf")
        if not isinstance(signal, dict) or "purpose_consents" not in signal:
            continue
        name = state["state"]
        tc = _site_tc(state)
        claimed = set(signal.get("purpose_consents") or [])
        if tc is None and not is_no_consent(name):
            continue   # no TC string of the site's to compare with
        allowed = set(tc.get("purpose_consents") or []) if tc is not None else set()
        problems = []
        extra = sorted(claimed - allowed)
        if extra:
            problems.append(f"consent to purpose(s) {','.join(map(str, extra))}")
        vendor = request.get("tcf_vendor")
        if (signal.get("vendor_consent") and isinstance(vendor, dict)
                and (tc is None or (vendor["id"] not in (tc.get("vendor_consents") or [])
                                    and (tc.get("vendor_consents_count") or 0) <= len(tc.get("vendor_consents") or [])))):
            problems.append("consent to the vendor")
        if problems:
            mine = tc.get("summary") if tc is not None else "no TC string: the visitor has not answered"
            findings.add("tcf-consent-string-mismatch", "violation", name, page["url"], subject_of("request", request),
                         f"a request to {_vendor_text(request) if vendor else request.get('host')} "
                         f"{_when(name, model)} claims {' and '.join(problems)}",
                         {"url": request.get("url"), "why": "the request's gdpr_consent grants more than the visitor chose",
                          "tc_string": mine})


@audit("tcf-gdpr-not-applied", "warning", "Ad request tells its vendor that the GDPR does not apply",
       "On a site whose consent manager runs the IAB TCF, an ad request carries `gdpr=0`: the vendor is told "
       "the visitor is outside the GDPR's reach and may ignore the consent string. For a visitor the consent "
       "manager treats as covered by the GDPR, the flag is wrong.",
       f"GDPR art. 3 (territorial scope); {TCF_POLICIES}",
       "Set the `gdpr` parameter from the consent manager's `gdprApplies` (TC data), never as a constant.")
def tcf_gdpr_not_applied(result, declaration, findings):
    model = ConsentModel.from_report(result)
    if not any(_site_tc(s) is not None for s in result.get("states") or []):
        return   # no TCF consent manager seen: the scanner cannot tell whether the GDPR applies
    for state, page, request in _requests(result):
        signal = request.get("tcf")
        if isinstance(signal, dict) and signal.get("gdpr") == "0":
            who = _vendor_text(request) if request.get("tcf_vendor") else request.get("host")
            findings.add("tcf-gdpr-not-applied", "warning", state["state"], page["url"], subject_of("request", request),
                         f"a request to {who} {_when(state['state'], model)} says gdpr=0",
                         {"url": request.get("url"), "why": "gdpr=0 on a site running a TCF consent manager"})
