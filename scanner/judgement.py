"""One judgement: is this item allowed in this consent state, and why.

    model = ConsentModel.from_report(report)          # the site's categories, from report.json
    judge("cookie", cookie, "only:marketing", model)  # Judgement(status, severity, reason, rule)

Every audit that depends on a consent state and the consent matrix call `judge`; nothing else
decides. It reads only the item's annotation (scanner.classify.annotate) and the declaration's
categories as report.json carries them, so a stored report is judged exactly as the live scan was.

What an item needs:
* the consent manager's own record of the choice needs nothing;
* the site's declaration decides: an item (or the vendor of a request) declared in a category
  follows that category in every state. The knowledge base only challenges it where the law
  cares: an item declared strictly necessary that is known to need consent still needs it;
  an item declared in an optional category that is known to be strictly necessary is exempt
  (a declaration stricter than needed is never a violation); any other declared item follows
  its declared category, whatever the knowledge base calls it;
* undeclared, the knowledge base decides (known cookie table, vendor of the host): necessary
  and first-party preferences are exempt (CNIL LD 2020-091 §49); analytics, marketing,
  embedded media and third-party preferences need consent;
* an item nobody can place is unknown: third-party, it is treated as needing consent; first-party,
  it is a warning (it may be strictly necessary; only the site can say);
* a cookie the browser refused (`stored: false`) was never present: it needs nothing;
* tracking without cookies is judged the same way: a fingerprinting script (kind `script`), a third
  party's tracking pixel or beacon, or a third-party request or outgoing link (kind `link`) that
  carries an identifier needs the consent of its vendor's declared category, else of the purposes
  known (a cookie value's purpose is the cookie's), else it is tracking of unknown purpose.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .classify.consent_mode import PURPOSE as CONSENT_MODE_PURPOSE, SIGNALS, describe as describe_signal
from .consent_states import ALL, NOTHING, allows, only_category
from .vocabulary import OPTIONAL_PURPOSES, purposes_for_label

ALLOWED, NOT_ALLOWED, WARNING, PRESENT = "allowed", "not-allowed", "warning", "present"
# an embedded-content kind whose severity is a warning (rules/embeds.yaml)
_WARNING_EMBEDS = ("font", "captcha")


@dataclass(frozen=True)
class Need:
    """What an item needs before it may be present."""
    exempt: bool
    reason: str
    category: str | None = None          # declared in this site category: only its consent allows it
    purposes: frozenset[str] = frozenset()  # else: any accepted category covering one of these
    unknown: bool = False                # nobody can tell its purpose
    severity: str = "violation"          # when present without what it needs
    rule: str = "consent"                # "consent" | "unknown" | "embed": which audit reports it

    @property
    def needs_consent(self) -> bool:
        """Needs some consent (unknown third-party items included); False for exempt items and for
        first-party items of unknown purpose."""
        return not self.exempt and self.severity == "violation"


@dataclass(frozen=True)
class Judgement:
    status: str       # allowed | not-allowed | warning | present
    reason: str
    severity: str | None = None   # "violation" or "warning" when not allowed
    rule: str | None = None       # which audit family reports it (Need.rule)
    judged: bool = True           # False: a request that is neither a tracker nor embedded content


class ConsentModel:
    """The site's consent categories: id -> label, essential flag and standard purposes."""

    def __init__(self, categories: dict[str, dict[str, Any]] | None = None, *,
                 cookieless_pings: str | None = None) -> None:
        self.categories = categories or {}
        # severity of Google tag pings with every consent signal denied, sent without consent
        self.cookieless_pings = cookieless_pings if cookieless_pings in ("violation", "warning") else "warning"

    @classmethod
    def from_report(cls, report: dict) -> "ConsentModel":
        """The declaration's categories, plus those the consent manager offered that it lacks
        (`banner.categories` of the first state: a label, purposes read from it)."""
        decl = report.get("declaration") or {}
        categories = {str(c.get("id")): c for c in decl.get("categories") or [] if isinstance(c, dict)}
        for state in report.get("states") or []:
            for offered in ((state or {}).get("banner") or {}).get("categories") or []:
                if isinstance(offered, dict) and offered.get("id") and str(offered["id"]) not in categories:
                    categories[str(offered["id"])] = {"id": offered["id"], "label": offered.get("label"),
                                                      "essential": bool(offered.get("required")), "offered_only": True}
        return cls(categories, cookieless_pings=decl.get("cookieless_pings"))

    def label(self, category: str) -> str:
        return str((self.categories.get(category) or {}).get("label") or category)

    def essential(self, category: str) -> bool:
        return bool((self.categories.get(category) or {}).get("essential"))

    def purposes(self, category: str) -> frozenset[str]:
        """The purposes a category covers: declared, else read from its label or id (a consent
        manager's category the declaration lacks, e.g. `only:video`). A marketing category also
        covers embedded media: players and widgets are commonly consented to as marketing."""
        entry = self.categories.get(category)
        found: list[str] = list((entry or {}).get("purposes") or [])
        for text in ((entry or {}).get("label"), category.replace("-", " ").replace("_", " ")):
            if found:
                break
            found = purposes_for_label(str(text or ""))
        return frozenset(found) | ({"media"} if "marketing" in found else set())


def law_needs_consent(purpose: str | None, party: str | None) -> bool | None:
    """Whether a standard purpose needs consent (CNIL LD 2020-091 §49); None when unknown."""
    if purpose == "necessary":
        return False
    if purpose == "preferences":
        return party == "third"
    if purpose in OPTIONAL_PURPOSES:
        return True
    return None


def known_category(item: dict) -> str | None:
    """What the knowledge base says of an item (reports before `known_category` existed: the
    category when it came from the knowledge base)."""
    if "known_category" in item:
        return item["known_category"]
    return item.get("category") if item.get("category_source") in ("known", "vendor") else None


def need_of(kind: str, item: dict, model: ConsentModel) -> Need | None:
    """What `item` needs; None for a request that is neither a tracker nor embedded content
    (loaders, the site's own assets, CDNs): those are not judged."""
    if kind == "request":
        return _request_need(item, model)
    if kind == "script":
        return _script_need(item, model)
    if kind == "link":
        return _link_need(item, model)
    if kind == "cookie" and item.get("stored") is False:
        # a Set-Cookie line or script write the browser refused: never stored, nothing to consent to
        # (its attributes are still audited: insecure-cookie)
        return Need(True, "refused by the browser, never stored")
    if item.get("category_source") == "cmp-record":
        return Need(True, "the consent manager's record of the visitor's choice (exempt)")
    known = known_category(item)
    party = item.get("party")
    vendor = item.get("vendor")
    purposes = frozenset(p for p in (known, "media" if item.get("embed") else None) if p in OPTIONAL_PURPOSES)
    known_text = f"known as {known}" + (f" ({vendor})" if vendor else "")
    declared = item.get("declared_as")
    if declared is not None:
        return _declared_need(declared, known, party, purposes, known_text, model)
    by_law = law_needs_consent(known, party)
    if by_law is None:
        if party == "third":
            return Need(False, "a third party's item of unknown purpose: treated as needing consent", unknown=True)
        return Need(False, "a first-party item of unknown purpose: it may be strictly necessary, only the site "
                    "can say (declare it)", unknown=True, severity="warning", rule="unknown")
    if not by_law:
        return Need(True, f"{known_text}: exempt from consent")
    return Need(False, known_text, purposes=purposes)


def _declared_need(declared: str, known: str | None, party: str | None, purposes: frozenset[str],
                   known_text: str, model: ConsentModel, *, severity: str = "violation", rule: str = "consent") -> Need:
    label = model.label(declared)
    by_law = law_needs_consent(known, party)
    if model.essential(declared):
        if by_law:  # the knowledge base challenges the declaration where the law cares
            return Need(False, f"declared as {label} (strictly necessary) but {known_text}: needs consent",
                        purposes=purposes, severity=severity, rule=rule)
        return Need(True, f"declared as {label} (strictly necessary)")
    if known == "necessary":
        return Need(True, f"{known_text}: exempt from consent (declared as {label}, stricter than needed)")
    return Need(False, f"declared as {label}", category=declared, purposes=purposes, severity=severity, rule=rule)


def _request_need(request: dict, model: ConsentModel) -> Need | None:
    vendor = request.get("vendor") or request.get("host")
    if request.get("tracker"):
        purpose = request.get("category")
        purposes = frozenset([purpose]) if purpose in OPTIONAL_PURPOSES else frozenset()
        text = f"tracker request to {vendor} ({purpose})"
        if request.get("declared_as") is not None:
            return _declared_need(request["declared_as"], purpose, "third", purposes, f"{vendor} is a {purpose} tracker",
                                  model)
        return Need(False, text, purposes=purposes)
    embed = request.get("embed")
    if embed and request.get("party") == "third":
        severity = "warning" if embed in _WARNING_EMBEDS else "violation"
        text = f"{vendor} {embed} loaded from the provider: the visitor's IP address reaches it"
        purposes = frozenset({"media"})
        if request.get("declared_as") is not None:
            return _declared_need(request["declared_as"], "media", "third", purposes, text, model,
                                  severity=severity, rule="embed")
        return Need(False, text, purposes=purposes, severity=severity, rule="embed")
    if request.get("party") != "third":
        return None
    if request.get("pixel"):
        what = "a beacon" if request.get("resource_type") != "image" else "a tracking pixel"
        return _tracking_need(request, f"{what} sent to {vendor}", _purposes([request.get("category")]), model,
                              "tracking-pixel")
    if request.get("identifiers"):
        return _tracking_need(request, f"a request to {vendor} carries {_identifier_words(request['identifiers'])}",
                              _purposes(i.get("purpose") for i in request["identifiers"]), model, "link-decoration")
    return None


def _link_need(link: dict, model: ConsentModel) -> Need:
    """An outgoing link the site decorated with an identifier (EDPB Guidelines 2/2023 §§ 44-46)."""
    text = f"a link to {link.get('vendor') or link.get('host')} carries {_identifier_words(link.get('identifiers'))}"
    return _tracking_need(link, text, _purposes(i.get("purpose") for i in link.get("identifiers") or []), model,
                          "link-decoration")


def _purposes(values) -> frozenset[str]:
    return frozenset(v for v in values if isinstance(v, str) and v in OPTIONAL_PURPOSES)


def _identifier_words(identifiers) -> str:
    words = []
    for entry in identifiers or []:
        if not isinstance(entry, dict):
            continue
        kind = str(entry.get("kind"))
        cookie = f" of cookie {entry['cookie']}" if kind == "cookie-value" and entry.get("cookie") else ""
        words.append(f"{entry.get('param')} ({IDENTIFIER_KINDS.get(kind, kind)}{cookie})")
    return ", ".join(words) or "an identifier"


# kinds of identifiers found in URLs (scanner.classify.url_tracking)
IDENTIFIER_KINDS = {"click-id": "click identifier", "user-id": "user identifier", "email": "e-mail address",
                    "email-hash": "hashed e-mail address", "cookie-value": "the value"}


def _tracking_need(item: dict, text: str, purposes: frozenset[str], model: ConsentModel, rule: str) -> Need:
    """A third party reached without cookies (pixel, identifier in a URL): it follows its vendor's
    declared category, else the purposes known, else it is tracking of unknown purpose."""
    if item.get("declared_as") is not None:
        known = next(iter(sorted(purposes)), None)
        return _declared_need(item["declared_as"], known, "third", purposes, text, model, rule=rule)
    return Need(False, text, purposes=purposes, unknown=not purposes, rule=rule)


def _script_need(script: dict, model: ConsentModel) -> Need | None:
    """A script that fingerprints the device needs consent (ePrivacy art. 5(3), EDPB Guidelines
    2/2023): for its vendor's purpose when known, else for a purpose nobody can tell. A script that
    only read a few device properties is not judged."""
    if not script.get("fingerprinting"):
        return None
    purpose = script.get("category")
    purposes = frozenset([purpose]) if purpose in OPTIONAL_PURPOSES else frozenset()
    who = script.get("vendor") or script.get("host") or "a script"
    text = f"{who} fingerprints the device ({', '.join(script.get('signals') or [])})"
    if script.get("declared_as") is not None:
        return _declared_need(script["declared_as"], purpose, script.get("party"), purposes, text, model,
                              rule="fingerprinting")
    return Need(False, text, purposes=purposes, unknown=not purposes, rule="fingerprinting")


def judge(kind: str, item: dict, state: str, model: ConsentModel) -> Judgement:
    """Status of `item` (kind: cookie | storage | request | script | link), PRESENT in `state`."""
    found = _judge(kind, item, state, model)
    if kind == "request" and item.get("consent_mode") and found.judged and allows(state) != ALL:
        return _consent_mode(item, state, model, found)
    return found


def _consent_mode(request: dict, state: str, model: ConsentModel, found: Judgement) -> Judgement:
    """A Google tag request judged by the Consent Mode signal it carries, in a state short of
    'accept all': a signal granted that the visitor's choice does not cover is a violation
    (consent-mode-granted), even on a request the choice allows (an Analytics hit telling Google
    ad_storage is granted when only statistics were accepted). A request the choice does not allow,
    with every signal it does not cover denied, is a cookieless ping (consent-mode-ping), at the
    severity the declaration sets (default warning)."""
    signal = request["consent_mode"]
    chosen = only_category(state)
    covered = model.purposes(chosen) if chosen is not None else frozenset()
    wrong = [s for s in SIGNALS if signal.get(s) == "granted" and CONSENT_MODE_PURPOSE[s] not in covered]
    if wrong:
        return Judgement(NOT_ALLOWED, f"{found.reason}; the request signals {', '.join(wrong)} granted",
                         "violation", "consent-mode-granted")
    if found.status not in (NOT_ALLOWED, WARNING) or found.rule == "embed":
        return found
    severity = model.cookieless_pings
    return Judgement(NOT_ALLOWED if severity == "violation" else WARNING,
                     f"{found.reason}; a cookieless ping: the request signals {describe_signal(signal)}",
                     severity, "consent-mode-ping")


def _judge(kind: str, item: dict, state: str, model: ConsentModel) -> Judgement:
    need = need_of(kind, item, model)
    if need is None:
        return Judgement(ALLOWED if item.get("category") == "necessary" else PRESENT,
                         "not judged: neither a tracker nor embedded content", judged=False)
    if need.exempt:
        return Judgement(ALLOWED, need.reason)
    scope = allows(state)
    if scope == ALL:
        return Judgement(ALLOWED, "the visitor accepted everything")
    if item.get("leftover"):
        # a third party's cookie from an earlier choice, not sent again: the site cannot delete it
        return Judgement(ALLOWED, f"{need.reason}; left in the browser from an earlier choice, "
                         "never sent to its owner in this state")
    if scope == NOTHING:
        return _refused(need, "no consent in force")
    chosen = only_category(state)
    if chosen is not None:
        label = model.label(chosen)
        if need.unknown:
            return Judgement(WARNING, f"{need.reason}; cannot tell whether {label} covers it", "warning", "unknown")
        if need.category is not None:
            if need.category == chosen:
                return Judgement(ALLOWED, f"{need.reason}, accepted")
            return _refused(need, f"only {label} accepted")
        covered = model.purposes(chosen)
        if need.purposes & covered:
            return Judgement(ALLOWED, f"{need.reason}; {label} covers {', '.join(sorted(need.purposes & covered))}")
        if not covered:
            return Judgement(WARNING, f"{need.reason}; the purposes of {label} are unknown", "warning", "unknown")
        return _refused(need, f"only {label} accepted")
    return Judgement(PRESENT, "not judged in this state")


def _refused(need: Need, why: str) -> Judgement:
    status = NOT_ALLOWED if need.severity == "violation" else WARNING
    return Judgement(status, f"{need.reason}; {why}", need.severity, need.rule)
