"""Lint a privacy or cookie policy against GDPR art. 13 and the CNIL's cookie guidance.

Every check is a small function over the policy text. What it looks for is
declared as keyword/regex families (English and French) in the tables below,
so each finding can be explained by pointing at a pattern and a quote. The
checks are heuristics: they read words, not intent. A finding quotes the words
it is about (or says what is missing) and gives the 1-based line.

`lint_policy(text, source=...)` returns findings shaped like the scanner's:
    {rule, severity, state: None, page, pages, subject: {kind: "policy", name},
     message, evidence: {quote, line}}
`POLICY_RULES` lists each rule's metadata (id, severity, title, description,
legal_source, remediation). Severity in the metadata is the highest a rule
emits; a finding may be lower (e.g. info when a check can only point at a link).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import islice
from typing import Any, Callable, Iterable, Iterator

from ..vocabulary import purposes_for_label as _vocabulary_purposes

Finding = dict[str, Any]

_I = re.IGNORECASE | re.MULTILINE


def _family(*patterns: str, flags: int = _I) -> re.Pattern[str]:
    """One regex out of alternatives (kept as a list so each is readable)."""
    return re.compile("|".join(f"(?:{p})" for p in patterns), flags)


_APOS = "['’]"

# --- channels: how a reader can reach someone -------------------------------
# Quantifiers are bounded so hostile text (a 100 000-character "word") stays linear.
EMAIL = _family(r"[\w.+-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63}){1,8}",
                r"\b[\w.+-]{1,64}\s{0,3}[\[(]\s{0,3}(?:at|@|arobase)\s{0,3}[\])]\s{0,3}[\w-]{1,63}"
                r"(?:\s{0,3}[\[(]?\s{0,3}(?:dot|point|\.)\s{0,3}[\])]?\s{0,3}\w{1,63}){1,8}")
URL = _family(r"\bhttps?://\S+", r"\bwww\.[\w-]{1,63}\.\S+", r"\[link\]",
              r"\b[\w-]{1,63}\.(?:com|fr|eu|org|net|io|de|be|ch)/\S*")
WEB_FORM = _family(r"\b(?:contact|web|online|electronic|request|dedicated)\s*form\b",
                   r"\bwebform\b", r"\bformulaire\b")
POSTAL = _family(r"\b\d{5}\b", r"\b(?:BP|CS|TSA)\s*\d+", r"\b[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2}\b",
                 r"\b\d+,?\s+(?:rue|avenue|av\.|boulevard|bd|place|impasse|allée|chemin|quai|route|"
                 r"street|st\.|road|rd\.|lane|square)\b", flags=re.IGNORECASE)

# Lead-ins that promise an address. Postal ones may be followed by a name and
# address lines; the others must be followed by an e-mail, a URL or a form.
CONTACT_LEADINS = _family(
    r"\b(?:by (?:sending (?:us )?)?|send(?:ing)? (?:us )?)(?:an |a )?e-?mail (?:to|at)(?: us)?(?: at)?"
    r"(?: the following (?:e-?mail )?address)?\s*:",
    r"\b(?:at|to) the following (?:e-?mail |postal |electronic )?address\s*:",
    r"\b(?:e-?mail|write to|contact|reach) (?:us|him|her|them)(?: at| on| via)?\s*:",
    r"\b(?:e-?mail(?: address)?|adresse (?:e-?mail|électronique|mail|de courriel))\s*:",
    rf"\bpar (?:e-?mail|courriel|mail|courrier électronique) (?:à|a|au|envoyé à)(?: l{_APOS}adresse(?: suivante)?)?\s*:",
    rf"\bà l{_APOS}adresse(?: (?:suivante|e-?mail|électronique|postale))?(?: suivante)?\s*:",
    r"\ben (?:envoyant|adressant) un (?:e-?mail|courriel|mail) à\s*:",
    r"\ben (?:nous )?écrivant à\s*:",
)
# Lead-ins that name e-mail need an e-mail/URL/form right after; the others
# ("at the following address:", "by writing to us at:") may also be followed by a postal address.
EMAIL_LEADIN = re.compile(r"e-?mail|courriel|électronique|\bmail\b", re.I)
# Two alternatives with nothing between them: the address was deleted.
EITHER_OR = _family(r"\b(?:with|by|via|using|at) either\s+or\b", r"\bsoit\s+ou\b")
# A link whose target vanished, leaving an opening bracket: "Contact – X ( or".
DANGLING_BRACKET = re.compile(r"[^\s(]\s\((?:\s+(?=(?:or|ou)\b)|[ \t]*$)", re.I | re.M)

# --- controller ---------------------------------------------------------------
LEGAL_FORM = _family(
    r"\b(?:S\.?A\.?S\.?U?|S\.A\.R\.L\.?|SARL|S\.A\.|SA|SE|SNC|SCOP|GIE|GmbH|AG|Ltd\.?|LLP|LLC|Inc\.?|"
    r"PLC|plc|B\.V\.?|BV|N\.V\.?|NV|S\.p\.A\.?|SpA|S\.L\.?|S\.r\.l\.?|Sàrl)\b", flags=re.MULTILINE)
LEGAL_FORM_WORDS = _family(r"société (?:par actions simplifiée|anonyme|à responsabilité limitée|civile)",
                           r"\b(?:limited company|incorporated|public limited company|association loi 1901)\b")
REGISTERED = _family(
    r"\bregistered (?:office|address|seat|at|in|with|under)\b", r"\bhead office\b",
    r"\bcompany (?:number|registration|no\b)", r"\bRCS\b", r"\bSIRE[NT]\b", r"\bsiège social\b",
    r"\bimmatriculée?\b", r"\bcapital (?:social )?de\b", r"\bshare capital\b", r"\bCompanies House\b",
    r"\bVAT (?:number|no)\b", r"\bHandelsregister\b", r"\bKvK\b", r"\bheadquarter\w*\b",
    r"\bprincipal place of business\b")
GROUP_VAGUENESS = _family(r"\band (?:all )?its (?:subsidiaries|affiliates|group companies)\b",
                          r"\bet (?:toutes )?ses filiales\b", r"\bdata controller\b",
                          r"\bresponsable (?:du|des) traitements?\b")

# --- DPO --------------------------------------------------------------------
DPO = _family(r"\bDPO\b", r"\bdata protection officer\b", r"\bDPD\b",
              r"\bdélégué(?:e)? (?:à|a) la protection des données\b")

# --- purposes and legal bases --------------------------------------------------
VAGUE_PURPOSE = _family(
    r"\bany other (?:legitimate )?purposes?\b[^.;\n]{0,60}", r"\bfor the purposes of (?:the )?[\w’']+ business\b",
    r"\bany other personal data that may be relevant\b", r"\bfor (?:business|commercial) purposes\b",
    r"\btoute autre finalité\b[^.;\n]{0,60}", r"\btoutes? autres? données? (?:utiles|pertinentes)\b",
    r"\bà toutes fins utiles\b")
LEGAL_BASIS_TERM = _family(
    r"\blegal bas[ie]s\b", r"\blawful bas[ie]s\b", r"\blegal grounds?\b", r"\bbasis (?:for|of) (?:the |this )?processing\b",
    r"\bbases? (?:légales?|juridiques?)\b", r"\bfondements? (?:juridiques?|légaux|légal)\b",
    r"\bart(?:icle|\.)?\s*6\s*(?:\(1\)|\.1|§\s*1)")
LEGAL_BASIS_NAME = _family(
    r"\b(?:based on|on the basis of|relying on|grounded on) (?:your |our |a |the )?(?:consent|contract|legal obligation|"
    r"legitimate interests?|performance of a contract)\b",
    r"\b(?:fondée?s?|reposant) sur (?:votre |notre |une |l['’]|le |la )?(?:consentement|contrat|obligation légale|"
    r"intérêts? légitimes?|exécution)\b",
    r"\bsur la base (?:de votre consentement|d['’]une obligation légale|de notre intérêt légitime|du contrat)\b")
LI_TRIGGER = _family(r"\blegitimate (?:needs?|purposes?|interests?)\b", r"\boutweigh\b",
                     r"\bintérêts? légitimes?\b", r"\bbesoins? légitimes?\b")
LI_NAMED = _family(
    r"\blegitimate interests? (?:in|to|of|consist\w*|is|are|lies|pursued|:|namely|\(|which is|being)",
    r"\bintérêts? légitimes? (?:à|de|d['’]|consist\w*|:|tenant|lié|qui|\(|est|sont)")
OBJECTION_CONTEXT = _family(r"\bobject", r"\boppos")

# --- recipients and transfers ----------------------------------------------------
GENERIC_RECIPIENTS = _family(r"\bthird[- ]part(?:y|ies)(?: service providers?)?\b", r"\bservice providers?\b",
                             r"\bpartners\b", r"\bprestataires?\b", r"\bsous-traitants?\b", r"\bpartenaires\b",
                             r"\btiers\b")
RECIPIENT_CONTEXT = _family(
    r"\b(?:share|shares|shared|sharing|disclose|discloses|disclosed|disclosure)\b[^.\n]{0,80}\b(?:with|to)\b",
    r"\brecipients?\b", r"\b(?:sub-?)?processors?\b", r"\bservice providers?\b",
    r"\bdestinataires?\b", r"\bsous-traitants?\b", r"\bprestataires?\b",
    r"\b(?:transmises?|communiquées?|partagées?)\s+(?:à|avec)\b")
# Organisations established outside the EEA that websites commonly use (the
# processor named is usually a US company). Browser names are excluded:
# "Google Chrome" in cookie-deletion instructions is not a recipient.
NON_EEA_VENDORS: dict[str, str] = {
    "HubSpot": r"\bhub\s?spot\b",
    "Google": r"\bgoogle\b(?!\s+chrome)|\byoutube\b|\bdoubleclick\b",
    "Meta": r"\bmeta\b(?![\s-]?data)|\bfacebook\b|\binstagram\b|\bwhatsapp\b",
    "LinkedIn": r"\blinkedin\b",
    "Mailchimp": r"\bmail\s?chimp\b",
    "Salesforce": r"\bsalesforce\b|\bpardot\b",
    "Microsoft": r"\bmicrosoft\b(?!\s+(?:edge|internet))|\bbing\b|\bmicrosoft clarity\b",
    "Amazon Web Services": r"\bamazon web services\b|\bAWS\b",
    "X (Twitter)": r"\btwitter\b",
    "TikTok": r"\btiktok\b",
    "Pinterest": r"\bpinterest\b",
    "Snapchat": r"\bsnapchat\b",
    "Intercom": r"\bintercom\b",
    "Zendesk": r"\bzendesk\b",
    "Stripe": r"\bstripe\b",
    "Cloudflare": r"\bcloudflare\b",
    "Vimeo": r"\bvimeo\b",
    "Calendly": r"\bcalendly\b",
    "Adobe": r"\badobe\b|\bmarketo\b",
    "Zoom": r"\bzoom video\b|\bzoom\.us\b",
}
NON_EEA_VENDOR = {name: re.compile(p, re.I) for name, p in NON_EEA_VENDORS.items()}
TRANSFER_WORDING = _family(
    r"\boutside (?:of )?the (?:European|EU\b|EEA\b)", r"\bthird[- ]countr", r"\binternational (?:data )?transfers?\b",
    r"\bUnited States\b", r"\bUSA\b", rf"\bhors (?:de )?l{_APOS}(?:Union|UE|EEE|Espace)", r"\bhors (?:UE|EEE)\b",
    rf"\ben dehors de l{_APOS}(?:Union|UE|EEE|Espace)", r"\bpays tiers?\b", r"\btransferts? internationa",
    r"\bÉtats-Unis\b|\bEtats-Unis\b")
SAFEGUARDS = _family(
    r"\bstandard contractual clauses\b", r"\bSCCs?\b", r"\bData Privacy Framework\b", r"\badequacy\b",
    r"\bclauses contractuelles types\b", r"\badéquation\b", r"\bbinding corporate rules\b",
    r"\brègles d['’]entreprise contraignantes\b", r"\bappropriate safeguards\b", r"\bgaranties appropriées\b",
    r"\bart(?:icle|\.)?\s*4[5-9]\b")
# Any organisation name next to a recipient statement counts as naming it.
NAMED_ORG = _family(*NON_EEA_VENDORS.values(),
                    r"\b(?:OVH\w*|Scaleway|Brevo|Sendinblue|Matomo|Piwik PRO|AT Internet|Piano|Axeptio|Didomi|"
                    r"Cookiebot|Usercentrics|OneTrust|Hotjar|Typeform|Qonto|Payfit|Pipedrive|Personio|"
                    r"Welcome to the Jungle|Teamtailor|Lemlist|Webflow|WordPress|Wix|Squarespace|Shopify)\b",
                    f"(?-i:{LEGAL_FORM.pattern})")  # "SA", "SE" only in capitals

# --- retention ---------------------------------------------------------------
RETENTION_CONTEXT = _family(r"\bretain\w*\b", r"\bretention\b", r"\bkeep\b|\bkept\b", r"\bstored? for\b",
                            r"\bconserv\w*\b", r"\barchiv\w*\b", r"\bdeleted? after\b", r"\bsupprimée?s? (?:après|au bout)\b",
                            r"\bhow long\b")
RETENTION_HEADING = _family(r"\bretention\b", r"\bhow long\b", r"\bdurées? de conservation\b",
                            r"\bconservation des données\b")
DURATION = _family(
    r"\b\d+\s*(?:days?|weeks?|months?|years?|jours?|semaines?|mois|ans?|années?)\b",
    r"\b(?:one|two|three|four|five|six|ten|twelve|thirteen|twenty-five|un|une|deux|trois|quatre|cinq|six|"
    r"dix|douze|treize|vingt-cinq)\s+(?:days?|weeks?|months?|years?|jours?|semaines?|mois|ans?|années?)\b")
RETENTION_CRITERIA = _family(
    r"\bstatut(?:e|ory) (?:of )?limitations?\b", r"\blimitation period\b", r"\bprescription\b",
    r"\bend of (?:the |our |your )?(?:contract|contractual relationship|business relationship|relationship|"
    r"employment|recruitment process)\b",
    r"\blast (?:contact|interaction|activity|login|purchase|visit)\b", r"\bdernier contact\b",
    r"\bfin de (?:la |notre )?relation\b", r"\bà compter (?:du|de la|de votre)\b", r"\bdurée légale\b")
AS_LONG_AS_NECESSARY = _family(r"\b(?:for )?as long as (?:is |it is )?(?:necessary|needed|required)\b[^.\n]{0,80}",
                               r"\baussi longtemps que (?:nécessaire|requis)\b[^.\n]{0,80}",
                               r"\b(?:pendant |pour )?(?:le temps|la durée) nécessaire\b[^.\n]{0,80}")

# --- rights ------------------------------------------------------------------
RIGHTS: dict[str, re.Pattern[str]] = {
    "access": _family(r"\bright (?:of|to) access\b", r"\baccess (?:to )?your (?:personal )?data\b",
                      rf"\bdroit d{_APOS}accès\b", r"\baccéder à vos données\b", r"\bright to access\b"),
    "rectification": _family(r"\brectif"),
    "erasure": _family(r"\berasure\b", r"\bright to (?:be forgotten|delete|deletion)\b", r"\beffacement\b",
                       r"\bdroit (?:à|de) (?:la )?suppression\b"),
    "restriction": _family(r"\brestrict(?:ion)?\b", r"\blimit(?:ation)? (?:of |to )?(?:the )?processing\b",
                           r"\blimitation du traitement\b", r"\blimiter le traitement\b"),
    "portability": _family(r"\bportab"),
    "objection": _family(r"\bright to object\b", r"\bobject to\b", rf"\bdroit d{_APOS}opposition\b",
                         r"\bvous opposer\b", r"\bs['’]opposer\b"),
}
WITHDRAWAL = _family(
    r"\b(?:right to|can|may|able to|free to|at any time)\W+(?:\w+\W+){0,4}?withdraw",
    r"\bwithdraw\w*\s+(?:your\s+|their\s+|this\s+)?consent\s+at any (?:time|moment)\b",
    r"\bwithdrawal of (?:your |their )?consent\b",
    r"\b(?:droit de|pouvez|pourrez|possibilité de)\W+(?:\w+\W+){0,4}?retirer\b",
    r"\bretirer (?:votre|son) consentement à tout moment\b",
    r"\bretrait (?:de votre|du) consentement\b")
WITHDRAW_HINT = _family(r"\bwithdraw\w*\b", r"\bretir\w*\b")  # where to point when withdrawal is missing
COMPLAINT = _family(r"\b(?:lodge|file|make|submit|bring) a complaint\b", r"\bcomplaint (?:with|to)\b",
                    r"\b(?:réclamation|plainte) auprès\b", r"\bintroduire une réclamation\b",
                    r"\bsaisir la CNIL\b", r"\badresser une réclamation\b")
AUTHORITY = _family(r"\bCNIL\b", r"\bCommission Nationale de l['’]Informatique", r"\bsupervisory authority\b",
                    r"\bdata protection authority\b", r"\bautorité de contrôle\b", r"\bautorité de protection\b")

# --- cookies -----------------------------------------------------------------
COOKIES = _family(r"\bcookies?\b", r"\btraceurs?\b", r"\btrackers?\b")
KNOWN_COOKIE_NAMES = _family(
    r"\b_ga\w*", r"\b_gid\b", r"\b_gcl_\w+", r"\b_fbp\b", r"\b_fbc\b", r"\b__hs\w+", r"\bhubspotutk\b",
    r"\b_hj\w+", r"\bPHPSESSID\b", r"\bJSESSIONID\b", r"\bASP\.NET_SessionId\b", r"\b__cf_bm\b", r"\b_cfuvid\b",
    r"\bCookieConsent\b", r"\bOptanon\w+", r"\bdidomi_token\b", r"\beuconsent-v2\b", r"\baxeptio_\w+",
    r"\b_pk_\w+", r"\b_pcid\b", r"\bli_sugr\b", r"\bbcookie\b", r"\blidc\b", r"\bUserMatchHistory\b",
    r"\bIDE\b", r"\bNID\b", r"\btest_cookie\b", r"\bAnalyticsSyncHistory\b", r"\bMUID\b", r"\b_clck\b",
    r"\b_clsk\b", r"\b_uet\w+", r"\bwp-settings-\w+", r"\bwordpress_\w+", r"\bcsrftoken\b", r"\bsessionid\b",
    r"\bxsrf-token\b", r"\bXSRF-TOKEN\b", r"\blang\b", r"\btarteaucitron\b", flags=re.MULTILINE)
GENERIC_COOKIE_NAME = re.compile(r"(?<![\w@./-])_{1,2}[A-Za-z][\w-]{1,40}\b|\b[a-z]+(?:_[a-z0-9]+){1,4}\b")
COOKIE_CATEGORY_HINT = _family(r"\bcategor\w*\b", r"\bcatégor\w*\b")
COOKIE_LIST_POINTER = _family(r"\bcookie (?:policy|declaration|list|notice|table)\b", r"\blist of (?:the )?cookies\b",
                              r"\bliste des (?:cookies|traceurs)\b", r"\bpolitique (?:de |des |relative aux )?cookies\b",
                              r"\bpolitique de gestion des cookies\b")
REFUSAL = _family(r"\brefus(?:e|al|ing)\b", r"\breject\w*\b", r"\bdecline\b", r"\bopt[- ]out\b", r"\bdeny\b",
                  r"\bdisable\b", r"\bblock\b",
                  r"\b(?:turn|switch) (?:them|it|these(?: cookies)?|cookies) off\b",
                  r"\b(?:turn|switch) off (?:the |these |all |non-essential |optional )?cookies\b",
                  r"\brefuser\b", r"\brefus\b", r"\bcontinuer sans accepter\b", r"\bdésactiver\b", r"\bbloquer\b")
CONSENT_CONTEXT = _family(r"\bconsent\w*", r"\bbanner\b", r"\bbandeau\b", r"\bnavigat(?:eur|or)\b",
                          r"\bbrowser\b")
PREFERENCES_MENTION = _family(
    r"\bcookie preferences? (?:manager|cent(?:er|re)|panel|tool)\b",
    r"\bpreferences? (?:manager|cent(?:er|re)|panel|tool)\b", r"\bcookie (?:settings|preferences?|management tool|banner)\b",
    r"\bmanage (?:your )?(?:cookies|cookie preferences|consent)\b", r"\bprivacy settings\b", r"\bconsent manager\b",
    r"\bgestionnaire (?:de |des )?(?:préférences|cookies|consentements?)\b", r"\bparamètres (?:des |de )?cookies\b",
    r"\bpréférences (?:de |en matière de )?cookies\b", r"\bgérer (?:mes|vos) (?:cookies|préférences|choix)\b",
    r"\bcentre de (?:préférences|confidentialité)\b", r"\bpanneau de gestion\b", r"\bgestion des cookies\b")
LINK_OR_INSTRUCTION = _family(
    URL.pattern, r"\bclick\w*\b", r"\bcliqu\w*\b", r"\bat the bottom of\b", r"\bfooter\b", r"\bpied de page\b",
    r"\bbas de (?:chaque |la )?page\b", r"\bicon\b", r"\bicône\b", r"\bbutton\b", r"\bbouton\b", r"\blink\b",
    r"\blien\b", r"\bwidget\b", r"\bmenu\b")

# What a category description says it does.
ANALYTICS_WORDS = _family(
    r"\bstatistics?\b", r"\baudience\b", r"\btraffic\b", r"\banaly[sz]e (?:your|the|how)\b[^.\n]{0,20}",
    r"\banalysis of\b", r"\bhow (?:our|the|this) (?:site|website) is used\b",
    r"\bmost (?:frequently |often )?(?:visited|consulted|read|popular)\b", r"\bcount(?:ing)? (?:visits|visitors)\b",
    r"\bnumber of visit", r"\bmeasure (?:the )?(?:audience|traffic|performance|use)\b", r"\bmonitor the use\b",
    r"\bstatistiques?\b", r"\bmesure d['’]audience\b", r"\bfréquentation\b", r"\btrafic\b",
    r"\banalyser (?:l['’]utilisation|votre|la navigation)\b", r"\bnombre de visites\b",
    r"\bpages les plus (?:consultées|visitées)\b")
MARKETING_WORDS = _family(
    r"\badvertis\w*", r"\bads\b", r"\btargeted\b", r"\btargeting\b", r"\bretarget\w*", r"\bremarketing\b",
    r"\bpersonali[sz]ed (?:ads|advertising|content|offers)\b", r"\binterest-based\b", r"\bprofil\w*",
    r"\bcampaigns?\b", r"\bpublicit\w*", r"\bciblé\w*", r"\bciblage\b", r"\bannonces?\b", r"\breciblage\b",
    r"\boffres personnalisées\b")

# --- drafting ----------------------------------------------------------------
WRONG_GDPR_NUMBER = re.compile(r"(?:\b(?:EC|EU|CE|UE) {1,3})?(?:\b(?:Regulation|[Rr]èglement) {0,3})?"
                               r"(?:\((?:EU|EC|UE|CE)\) {0,3})?(?:No\.? {0,3}|n° {0,3})?\b679 {0,3}/ {0,3}2016\b")
MISSPELLINGS: dict[str, str] = {
    "wesite": "website", "autority": "authority", "functionnal": "functional", "personnal": "personal",
    "recieve": "receive", "occured": "occurred", "thrid": "third", "adress": "address",
    "priviledge": "privilege", "responsability": "responsibility", "online from": "online form",
    "confidentialy": "confidentially", "fonctionnalitées": "fonctionnalités",
}


# --- rule metadata --------------------------------------------------------------

def _meta(rule_id: str, severity: str, title: str, description: str, legal_source: str,
          remediation: str) -> dict[str, str]:
    return {"id": rule_id, "severity": severity, "title": title, "description": description,
            "legal_source": legal_source, "remediation": remediation}


# --- the document ----------------------------------------------------------------

SENTENCE_MAX = 1500  # a "sentence" never reaches further than this from its match
MAX_MATCHES = 200    # occurrences examined (and reported) per pattern and rule

@dataclass(frozen=True)
class _Doc:
    text: str
    source: str

    def line(self, pos: int) -> int:
        return self.text.count("\n", 0, max(0, pos)) + 1

    def sentence(self, pos: int, end: int | None = None) -> tuple[int, int]:
        """Bounds of the sentence (or line) around text[pos:end]."""
        end = pos if end is None else end
        lo, hi = max(0, pos - SENTENCE_MAX), min(len(self.text), end + SENTENCE_MAX)
        starts = [self.text.rfind(c, lo, pos) for c in (". ", "! ", "? ", "\n", "; ")]
        start = max(starts)
        start = lo if start < 0 else start + (1 if self.text[start] == "\n" else 2)
        stops = [i for i in (self.text.find(c, end, hi) for c in (". ", ".\n", "\n", "; ")) if i >= 0]
        stop = min(stops) + 1 if stops else hi
        return start, stop

    def quote(self, start: int, end: int, limit: int = 200) -> str:
        """The words of text[start:end], never starting or ending mid-word."""
        if 0 < start < end and not self.text[start - 1].isspace():  # cut inside a word
            space = self.text.find(" ", start, end)
            start = space + 1 if space >= 0 else start
        if start < end < len(self.text) and not self.text[end].isspace():
            space = self.text.rfind(" ", start, end)
            end = space if space > start else end
        words = " ".join(self.text[start:end].split())
        return words if len(words) <= limit else words[: limit - 1].rstrip() + "…"

    def sentence_quote(self, start: int, end: int, limit: int = 200) -> str:
        s, e = self.sentence(start, end)
        if e - s > limit:  # centre the quote on the match
            s = max(s, start - (limit - (end - start)) // 2)
            e = min(e, s + limit)
        return self.quote(s, e, limit).rstrip(" ;")

    def paragraph_after(self, pos: int, limit: int = 400) -> str:
        stop = self.text.find("\n\n", pos)
        stop = len(self.text) if stop < 0 else stop
        return self.text[pos:min(stop, pos + limit)]

    def finding(self, meta: dict[str, str], name: str, message: str, quote: str = "",
                line: int | None = None, severity: str | None = None) -> Finding:
        return {"rule": meta["id"], "severity": severity or meta["severity"], "state": None,
                "page": self.source, "pages": [self.source],
                "subject": {"kind": "policy", "name": name}, "message": message,
                "evidence": {"quote": quote, "line": line}}

    def finding_at(self, meta: dict[str, str], name: str, message: str, match: re.Match[str] | None,
                   severity: str | None = None) -> Finding:
        if match is None:
            return self.finding(meta, name, message, severity=severity)
        return self.finding(meta, name, message, self.sentence_quote(match.start(), match.end()),
                            self.line(match.start()), severity)


def _matches(pattern: re.Pattern[str], text: str) -> Iterator[re.Match[str]]:
    """At most MAX_MATCHES matches: a real policy has far fewer; a hostile page stays fast."""
    return islice(pattern.finditer(text), MAX_MATCHES)


def _has_channel(snippet: str) -> bool:
    return bool(EMAIL.search(snippet) or URL.search(snippet) or WEB_FORM.search(snippet))


# --- checks -------------------------------------------------------------------

EMPTY_CONTACT = _meta(
    "policy-empty-contact", "violation", "Contact placeholder with no address",
    "The policy introduces a contact channel (\"by sending an email to:\", \"at the following address:\", "
    "\"with either or\") but the address itself is missing, so readers are told to write somewhere that is not given.",
    "GDPR art. 12(2) (facilitate the exercise of rights), 13(1)(a)-(b), 13(2)(b)",
    "Put the actual e-mail address, web-form link or postal address after each lead-in, and check the "
    "published page: addresses are often lost when e-mail links are stripped by the CMS.")


def _contact_subject(context: str) -> str:
    low = context.lower()
    if DPO.search(context):
        return "DPO contact"
    if "complaint" in low or "réclamation" in low or "compromised" in low:
        return "complaints contact e-mail"
    if "cookie" in low:
        return "cookie management contact"
    if "right" in low or "droit" in low:
        return "rights contact e-mail"
    return "contact address"


def check_empty_contact(doc: _Doc) -> list[Finding]:
    out: list[Finding] = []
    for m in _matches(CONTACT_LEADINS, doc.text):
        after = doc.text[m.end():m.end() + 300]
        if EMAIL_LEADIN.search(m.group(0)):
            if _has_channel(after.lstrip()[:80]):
                continue
        elif POSTAL.search(after[:250]) or _has_channel(after[:250]):
            continue
        s, _ = doc.sentence(m.start(), m.end())
        tail = " ".join(after.split("\n", 1)[0].split()[:2])  # what actually follows, if anything
        quote = doc.quote(max(s, m.start() - 120), m.end()) + (f" {tail}" if tail else "")
        follows = f'is followed by "{tail}…"' if tail else "is followed by nothing"
        out.append(doc.finding(EMPTY_CONTACT, _contact_subject(doc.text[s:m.end()]),
                               f'"{" ".join(m.group(0).split())}" {follows}: the address is missing.',
                               quote, doc.line(m.start())))
    for m in _matches(EITHER_OR, doc.text):
        s, e = doc.sentence(m.start(), m.end())
        out.append(doc.finding(EMPTY_CONTACT, _contact_subject(doc.text[s:e]),
                               f'"{m.group(0)}" has nothing between its alternatives: the contact details were left out.',
                               doc.sentence_quote(m.start(), m.end()), doc.line(m.start())))
    for m in _matches(DANGLING_BRACKET, doc.text):
        s, e = doc.sentence(m.start(), m.end())
        out.append(doc.finding(EMPTY_CONTACT, _contact_subject(doc.text[s:e]),
                               "An opening bracket is followed by nothing: a link or address was lost here.",
                               doc.quote(max(s, m.start() - 60), min(e, m.end() + 25)), doc.line(m.start())))
    return sorted(out, key=lambda f: f["evidence"]["line"] or 0)


NO_CONTACT_CHANNEL = _meta(
    "policy-no-contact-channel", "violation", "No usable contact channel",
    "The policy gives no e-mail address, web form or link anywhere, so there is no practical way to exercise "
    "rights or ask questions.",
    "GDPR art. 12(2), 13(1)(a), 13(2)(b); recital 59 (requests made electronically)",
    "Give at least one e-mail address or web form for privacy requests, and name it where rights are described.")


def check_contact_channel(doc: _Doc) -> list[Finding]:
    if EMAIL.search(doc.text) or WEB_FORM.search(doc.text):
        return []
    return [doc.finding(NO_CONTACT_CHANNEL, "privacy contact",
                        "No e-mail address or web form appears anywhere in the policy.")]


CONTROLLER_IDENTITY = _meta(
    "policy-controller-identity", "violation", "Controller not identified",
    "The reader must be able to tell which legal entity is responsible: its legal name and form and its "
    "registered address. A brand name, or \"X and all its subsidiaries\", does not say who the controller is.",
    "GDPR art. 13(1)(a)",
    "State the controller's full legal name and form (e.g. \"Example SAS\"), registered office address and "
    "registration number; if group companies are joint controllers, name each one.")


def check_controller_identity(doc: _Doc) -> list[Finding]:
    has_form = bool(LEGAL_FORM.search(doc.text) or LEGAL_FORM_WORDS.search(doc.text))
    has_seat = bool(REGISTERED.search(doc.text))
    if has_form and has_seat:
        return []
    missing = [w for w, ok in (("legal form", has_form), ("registered address", has_seat)) if not ok]
    return [doc.finding_at(CONTROLLER_IDENTITY, "controller identity",
                           f"The policy does not give the controller's {' or '.join(missing)}.",
                           GROUP_VAGUENESS.search(doc.text))]


NO_DPO_CONTACT = _meta(
    "policy-no-dpo-contact", "violation", "DPO named without a usable contact",
    "When a data protection officer is mentioned, the policy must say how to reach them. A name, or a postal "
    "address alone, is not enough for requests that are normally made online.",
    "GDPR art. 13(1)(b), 37(7), 12(2); recital 59",
    "Publish a dedicated DPO e-mail address (e.g. dpo@…) or a web form next to the DPO's name.")


def check_dpo_contact(doc: _Doc) -> list[Finding]:
    mentions = list(_matches(DPO, doc.text))
    if not mentions:
        return [doc.finding(NO_DPO_CONTACT, "DPO contact",
                            "No data protection officer is mentioned; fine if none is designated, otherwise "
                            "give their contact details.", severity="info")]
    postal_only: re.Match[str] | None = None
    for m in mentions:
        window = doc.text[max(0, m.start() - 150):m.end() + 400]
        if _has_channel(window):
            return []
        s, e = doc.sentence(m.start(), m.end())
        if postal_only is None and e - s >= 30 and POSTAL.search(doc.text[m.end():m.end() + 250]):
            postal_only = m  # quote a sentence, not the "Contact DPO" heading
    if postal_only is not None:
        return [doc.finding_at(NO_DPO_CONTACT, "DPO contact e-mail",
                               "The data protection officer can only be reached by post: no e-mail address or "
                               "web form is given.", postal_only)]
    return [doc.finding_at(NO_DPO_CONTACT, "DPO contact e-mail",
                           "The data protection officer is mentioned but no way to contact them is given.",
                           mentions[0])]


VAGUE_PURPOSES = _meta(
    "policy-vague-purpose", "warning", "Open-ended purpose or data category",
    "Catch-all wording such as \"any other purpose related to our activity\" or \"any other personal data that "
    "may be relevant\" does not tell the reader what their data is used for.",
    "GDPR art. 5(1)(b), 13(1)(c)",
    "Replace catch-all phrases with the closed list of purposes (and data categories) actually pursued.")


def check_vague_purposes(doc: _Doc) -> list[Finding]:
    return [doc.finding(VAGUE_PURPOSES, "purposes",
                        f'"{" ".join(m.group(0).split())}" is an open-ended purpose or data category.',
                        doc.sentence_quote(m.start(), m.end()), doc.line(m.start()))
            for m in _matches(VAGUE_PURPOSE, doc.text)]


NO_LEGAL_BASIS = _meta(
    "policy-no-legal-basis", "violation", "No legal basis per purpose",
    "Each purpose must be tied to its legal basis (consent, contract, legal obligation, legitimate interests…). "
    "Mentioning a basis in passing, for example in the retention section, does not tell which processing relies on it.",
    "GDPR art. 13(1)(c), 6(1)",
    "Add a table or list: purpose → legal basis (→ retention period) for every processing the policy covers.")


def check_legal_basis(doc: _Doc) -> list[Finding]:
    if LEGAL_BASIS_TERM.search(doc.text):
        return []
    passing = LEGAL_BASIS_NAME.search(doc.text)
    if passing:
        return [doc.finding_at(NO_LEGAL_BASIS, "legal basis per purpose",
                               "Legal bases are only mentioned in passing and never linked to the purposes "
                               "they cover.", passing)]
    return [doc.finding(NO_LEGAL_BASIS, "legal basis per purpose",
                        "The policy never states the legal basis of any processing.")]


LEGITIMATE_INTEREST = _meta(
    "policy-legitimate-interest-unnamed", "warning", "Legitimate interests relied on but not named",
    "When processing rests on legitimate interests, the policy must say which interests. Balancing-test wording "
    "(\"legitimate need\", \"outweigh your interests\") without naming the interest leaves the reader unable to object "
    "in an informed way.",
    "GDPR art. 13(1)(d), 6(1)(f), 21(1)",
    "Name each legitimate interest (e.g. \"our legitimate interest in securing the site against fraud\") next "
    "to the processing that relies on it.")


def check_legitimate_interest(doc: _Doc) -> list[Finding]:
    if LI_NAMED.search(doc.text):
        return []
    for m in _matches(LI_TRIGGER, doc.text):
        s, e = doc.sentence(m.start(), m.end())
        if OBJECTION_CONTEXT.search(doc.text[s:e]):
            continue  # describing the right to object, not relying on the basis
        return [doc.finding_at(LEGITIMATE_INTEREST, "legitimate interests",
                               f'"{m.group(0)}" suggests processing on legitimate interests, but no interest '
                               "is named.", m)]
    return []


RECIPIENTS_UNNAMED = _meta(
    "policy-recipients-unnamed", "warning", "Recipients not named",
    "Recipients are described only generically (\"third party service providers\"). For cookies the CNIL expects "
    "an exhaustive, up-to-date list of the companies involved; for other data, vague categories hide who gets it.",
    "GDPR art. 13(1)(e); CNIL LD 2020-091 §§24-25",
    "List the recipients (or precise categories) and name the processors, e.g. CRM, hosting and recruiting tools.")


def check_recipients(doc: _Doc) -> list[Finding]:
    first: re.Match[str] | None = None     # any recipient statement
    generic: re.Match[str] | None = None   # "third party service providers", "prestataires"...
    for m in _matches(RECIPIENT_CONTEXT, doc.text):
        s, e = doc.sentence(m.start(), m.end())
        if NAMED_ORG.search(doc.text[s:e + 300]):
            return []
        first = first or m
        generic = generic or GENERIC_RECIPIENTS.search(doc.text, s, e)
    if first is None:
        return [doc.finding(RECIPIENTS_UNNAMED, "recipients",
                            "The policy does not say who receives the data.", severity="info")]
    return [doc.finding_at(RECIPIENTS_UNNAMED, "recipients",
                           "Recipients are described only generically; no company is named.", generic or first)]


UNDISCLOSED_TRANSFER = _meta(
    "policy-undisclosed-transfer", "violation", "Transfer outside the EEA not disclosed",
    "The policy names a provider established outside the EU/EEA (typically in the US) but says nothing about "
    "transfers to third countries, or mentions transfers without the safeguard relied on (adequacy decision such "
    "as the EU-US Data Privacy Framework, standard contractual clauses).",
    "GDPR art. 13(1)(f), 44-46, 49; Commission Implementing Decision (EU) 2023/1795",
    "Say which recipients are outside the EEA, the safeguard for each (DPF certification, SCCs) and how to "
    "obtain a copy of the safeguards.")


def check_transfers(doc: _Doc) -> list[Finding]:
    transfer = TRANSFER_WORDING.search(doc.text)
    safeguard = SAFEGUARDS.search(doc.text)
    if transfer and safeguard:
        return []
    if transfer:
        return [doc.finding_at(UNDISCLOSED_TRANSFER, "third-country transfer safeguards",
                               "Transfers outside the EEA are mentioned without saying which safeguard covers them.",
                               transfer)]
    if safeguard:
        return []
    for name, pattern in NON_EEA_VENDOR.items():
        m = pattern.search(doc.text)
        if m:
            return [doc.finding_at(UNDISCLOSED_TRANSFER, f"transfer to {name}",
                                   f"{name} (established outside the EEA) is named, but the policy never "
                                   "mentions transfers outside the EU/EEA or their safeguards.", m)]
    return []


NO_RETENTION = _meta(
    "policy-no-retention", "violation", "No retention periods",
    "Each category of data needs a retention period, or the criteria used to set it. \"For as long as necessary\" "
    "is neither.",
    "GDPR art. 13(2)(a), 5(1)(e)",
    "Give a period per purpose (e.g. applicants: 2 years after the last contact; cookies: 13 months) or "
    "objective criteria such as the legal limitation period.")


def check_retention(doc: _Doc) -> list[Finding]:
    for m in _matches(RETENTION_CONTEXT, doc.text):
        s, e = doc.sentence(m.start(), m.end())
        if DURATION.search(doc.text[s:e + 200]) or RETENTION_CRITERIA.search(doc.text[s:e + 200]):
            return []
    for m in _matches(RETENTION_HEADING, doc.text):
        if DURATION.search(doc.text[m.end():m.end() + 1500]):
            return []
    hint = AS_LONG_AS_NECESSARY.search(doc.text) or RETENTION_CONTEXT.search(doc.text)
    return [doc.finding_at(NO_RETENTION, "retention periods",
                           "No retention period or criterion is given; the policy only says data is kept as long "
                           "as necessary." if hint and AS_LONG_AS_NECESSARY.search(doc.text) else
                           "No retention period or criterion is given.", hint)]


RIGHTS_INCOMPLETE = _meta(
    "policy-rights-incomplete", "warning", "Data-subject rights missing",
    "The policy should list the rights of access, rectification, erasure, restriction, portability and objection.",
    "GDPR art. 13(2)(b), 15-21",
    "List every right with one sentence each and the channel to exercise it.")


def check_rights(doc: _Doc) -> list[Finding]:
    missing = [name for name, pattern in RIGHTS.items() if not pattern.search(doc.text)]
    if not missing:
        return []
    return [doc.finding(RIGHTS_INCOMPLETE, "data-subject rights",
                        f"The policy does not mention the right(s) of {', '.join(missing)}.")]


NO_WITHDRAWAL = _meta(
    "policy-no-withdrawal", "violation", "Right to withdraw consent not stated",
    "Where processing relies on consent (cookies, newsletters…), the policy must say consent can be withdrawn at "
    "any time, as easily as it was given.",
    "GDPR art. 13(2)(c), 7(3); CNIL LD 2020-091 §31",
    "Add: \"You can withdraw your consent at any time, without affecting processing done before, via …\" and "
    "name the tool (e.g. the cookie settings link in every page footer).")


def check_withdrawal(doc: _Doc) -> list[Finding]:
    if WITHDRAWAL.search(doc.text):
        return []
    hint = WITHDRAW_HINT.search(doc.text)
    return [doc.finding_at(NO_WITHDRAWAL, "withdrawal of consent",
                           "The policy never says that consent can be withdrawn at any time, or how.", hint)]


NO_COMPLAINT_RIGHT = _meta(
    "policy-no-complaint-right", "violation", "Right to complain to the CNIL not stated",
    "Readers must be told they can lodge a complaint with a supervisory authority (the CNIL in France).",
    "GDPR art. 13(2)(d), 77",
    "Add a sentence on the right to lodge a complaint with the CNIL (www.cnil.fr) or another EU authority.")


def check_complaint(doc: _Doc) -> list[Finding]:
    if COMPLAINT.search(doc.text) and AUTHORITY.search(doc.text):
        return []
    return [doc.finding(NO_COMPLAINT_RIGHT, "right to lodge a complaint",
                        "The policy does not mention the right to lodge a complaint with the CNIL or another "
                        "supervisory authority.")]


NO_COOKIE_LIST = _meta(
    "policy-no-cookie-list", "violation", "No cookie list",
    "A cookie policy must list the trackers: name, purpose, lifetime and the third party that can read each "
    "one, so that consent is informed.",
    "CNIL LD 2020-091 §§24-25; CJEU C-673/17 Planet49, op. pt 2; GDPR art. 13(2)(a)",
    "Publish a table of cookies (name, provider, purpose, category, duration) and keep it in sync with the site, "
    "or link to the CMP's generated declaration.")


def _cookie_names(text: str) -> list[str]:
    prose = URL.sub(" ", EMAIL.sub(" ", text))
    found = [m.group(0) for m in _matches(KNOWN_COOKIE_NAMES, prose)]
    found += [m.group(0) for m in _matches(GENERIC_COOKIE_NAME, prose)]
    return found


def check_cookie_list(doc: _Doc) -> list[Finding]:
    if not COOKIES.search(doc.text):
        return []
    names, durations = _cookie_names(doc.text), DURATION.search(doc.text)
    if names and durations:
        return []
    missing = " and ".join(w for w, ok in (("names", names), ("durations", durations)) if not ok)
    for m in _matches(COOKIE_LIST_POINTER, doc.text):
        s, e = doc.sentence(m.start(), m.end())
        if URL.search(doc.text[s:e + 120]):
            return [doc.finding_at(NO_COOKIE_LIST, "cookie list",
                                   f"No cookie {missing} are listed here; check the linked cookie page.", m,
                                   severity="info")]
    hint = COOKIE_LIST_POINTER.search(doc.text) or COOKIE_CATEGORY_HINT.search(doc.text)
    return [doc.finding_at(NO_COOKIE_LIST, "cookie list",
                           f"The policy describes cookies but lists no cookie {missing}.", hint)]


NO_COOKIE_REFUSAL = _meta(
    "policy-no-cookie-refusal", "warning", "How to refuse cookies not explained",
    "Readers must learn that non-essential cookies need their consent, that they can refuse them, and what "
    "refusing changes.",
    "CNIL LD 2020-091 §§24-25; CNIL Reco 2020-092 pts 2.1-2.3; GDPR art. 4(11), 7",
    "Explain that refusing is as easy as accepting (\"Reject all\" button), that refusal has no effect on access "
    "to the site, and what stops working if functional cookies are refused.")


def check_cookie_refusal(doc: _Doc) -> list[Finding]:
    if not COOKIES.search(doc.text):
        return []
    for m in _matches(REFUSAL, doc.text):
        s, e = doc.sentence(m.start(), m.end())
        if COOKIES.search(doc.text[s:e]) or CONSENT_CONTEXT.search(doc.text[s:e]):
            return []
    return [doc.finding_at(NO_COOKIE_REFUSAL, "refusing cookies",
                           "The policy never says that cookies can be refused or what refusing changes.",
                           PREFERENCES_MENTION.search(doc.text) or COOKIES.search(doc.text))]


NO_PREFERENCES_LINK = _meta(
    "policy-no-preferences-link", "violation", "Cookie settings mentioned without a link",
    "The policy sends readers to a cookie preferences manager but gives no link or instruction to open it, so "
    "withdrawing consent is harder than giving it.",
    "GDPR art. 7(3); CNIL LD 2020-091 §31; CNIL Reco 2020-092 art. 3",
    "Link the words to the CMP (e.g. a link that reopens the consent panel) and say where the permanent "
    "\"Cookie settings\" link is (e.g. in the footer of every page).")


def check_preferences_link(doc: _Doc) -> list[Finding]:
    mentions = list(_matches(PREFERENCES_MENTION, doc.text))
    if not mentions:
        return []
    for m in mentions:
        s, _ = doc.sentence(m.start(), m.end())
        if LINK_OR_INSTRUCTION.search(doc.text[s:m.start()] + doc.paragraph_after(m.start())):
            return []
    return [doc.finding_at(NO_PREFERENCES_LINK, "cookie preferences link",
                           f'"{mentions[0].group(0)}" is mentioned but no link or instruction says how to open it.',
                           mentions[0])]


CATEGORY_MISMATCH = _meta(
    "policy-category-mismatch", "violation", "Cookie category described as something else",
    "A cookie category's description contradicts its label, e.g. a \"Marketing\" section that only describes "
    "audience statistics, or a \"Functional\" section that describes analysing how the site is used. Consent given "
    "per category is then not specific or informed.",
    "GDPR art. 4(11); CNIL LD 2020-091 §§22, 24-25; EDPB Cookie Banner Taskforce report ¶¶26-29",
    "Describe each category by what its cookies actually do, and move trackers to the category that matches "
    "their purpose (audience measurement under Analytics, advertising under Marketing).")


def purposes_for_label(label: str) -> list[str]:
    """Standard purposes (necessary|preferences|analytics|marketing|media) a category label names.

    Delegates to the shared vocabulary (rules/categories.yaml, five languages), so the linter,
    the importer and the consent engine read labels the same way.
    """
    return _vocabulary_purposes(label)


_LABEL_LINE = re.compile(r"^(?:[•*\-–]\s*|\d+(?:\.\d+)*\.?\s+)?(?P<label>[^\n:–—.]{2,70}?)\s*(?:[:–—]\s+(?P<body>.+))?$")


@dataclass(frozen=True)
class _Section:
    label: str
    purposes: tuple[str, ...]
    start: int  # offset of the body
    body: str


def _category_sections(doc: _Doc) -> list[_Section]:
    """Cookie-category headings ("Marketing Cookies", "• Cookies de mesure d'audience : …") and their text."""
    sections: list[_Section] = []
    offset = 0
    lines = doc.text.split("\n")
    for i, line in enumerate(lines):
        here, offset = offset, offset + len(line) + 1
        if len(line) > 400 or "|" in line:  # "|" = a table row, not a heading
            continue
        m = _LABEL_LINE.match(line.strip())
        if not m:
            continue
        label = m.group("label").strip()
        purposes = purposes_for_label(label)
        standalone = m.group("body") is None
        cookieish = COOKIES.search(label) or (standalone and len(label.split()) <= 3)
        if not purposes or not cookieish or (standalone and line.rstrip().endswith((".", ",", ";"))):
            continue
        if m.group("body"):
            body, start = m.group("body"), here + line.index(m.group("body"))
        else:
            body, start = _body_after(lines, i + 1), offset
        sections.append(_Section(label, tuple(purposes), start, body))
    return sections


def _body_after(lines: list[str], j: int, max_paragraphs: int = 2, max_chars: int = 1500) -> str:
    """Paragraphs after a heading, up to the next heading-like short line."""
    out: list[str] = []
    paragraphs = size = 0
    for k in range(j, len(lines)):
        line = lines[k]
        stripped = line.strip()
        if not stripped:
            if out and out[-1]:
                paragraphs += 1
                if paragraphs >= max_paragraphs:
                    break
            out.append("")
            continue
        if len(stripped) <= 70 and not stripped.endswith((".", ",", ";", ":")) and size:
            break  # next heading
        out.append(line)
        size += len(line)
        if size > max_chars:
            break
    return "\n".join(out).rstrip("\n")  # leading blank lines kept: offsets stay exact


def check_category_mismatch(doc: _Doc) -> list[Finding]:
    out: list[Finding] = []
    for sec in _category_sections(doc)[:MAX_MATCHES]:
        analytics = [m for m in _matches(ANALYTICS_WORDS, sec.body)]
        marketing = [m for m in _matches(MARKETING_WORDS, sec.body)]
        offending: list[re.Match[str]] = []
        what, severity = "", "violation"
        if "necessary" in sec.purposes and (analytics or marketing):
            offending, what = analytics + marketing, "measurement or advertising, which needs consent"
        elif "marketing" in sec.purposes and "analytics" not in sec.purposes and analytics and not marketing:
            offending, what = analytics, "audience statistics, not advertising"
        elif "preferences" in sec.purposes and "analytics" not in sec.purposes and analytics:
            offending, what = analytics, "audience measurement, not functionality"
        elif sec.purposes == ("analytics",) and marketing:
            offending, what, severity = marketing, "advertising as well as measurement", "warning"
        if not offending:
            continue
        first = min(offending, key=lambda m: m.start())
        pos = sec.start + first.start()
        words = list(dict.fromkeys(" ".join(m.group(0).split()) for m in sorted(offending, key=lambda m: m.start())))
        out.append(doc.finding(
            CATEGORY_MISMATCH, f"{sec.label} category",
            f'The "{sec.label}" category describes {what} ({", ".join(repr(w) for w in words[:4])}).',
            doc.sentence_quote(pos, pos + len(first.group(0))), doc.line(pos), severity))
    return out


DRAFTING = _meta(
    "policy-drafting", "info", "Drafting error",
    "Wrong legal references and typos undermine trust in the policy and can mislead readers about the law "
    "that applies.",
    "GDPR art. 12(1) (concise, intelligible, clear and plain language)",
    "Cite the GDPR as \"Regulation (EU) 2016/679\" and proofread the text.")


def check_drafting(doc: _Doc) -> list[Finding]:
    out: list[Finding] = []
    for m in _matches(WRONG_GDPR_NUMBER, doc.text):
        cited = " ".join(m.group(0).split())
        out.append(doc.finding(DRAFTING, "GDPR citation",
                               f'"{cited}" inverts the GDPR\'s number: it is Regulation (EU) 2016/679.',
                               doc.sentence_quote(m.start(), m.end()), doc.line(m.start())))
    for wrong, right in MISSPELLINGS.items():
        hits = list(re.finditer(rf"\b{re.escape(wrong)}\b", doc.text, re.I))
        if hits:
            times = f" ({len(hits)} times)" if len(hits) > 1 else ""
            out.append(doc.finding(DRAFTING, "spelling", f'"{hits[0].group(0)}" should be "{right}"{times}.',
                                   doc.sentence_quote(hits[0].start(), hits[0].end()), doc.line(hits[0].start())))
    return out


# --- registry --------------------------------------------------------------------

Check = Callable[[_Doc], list[Finding]]
_CHECKS: tuple[tuple[dict[str, str], Check], ...] = (
    (EMPTY_CONTACT, check_empty_contact),
    (NO_CONTACT_CHANNEL, check_contact_channel),
    (CONTROLLER_IDENTITY, check_controller_identity),
    (NO_DPO_CONTACT, check_dpo_contact),
    (VAGUE_PURPOSES, check_vague_purposes),
    (NO_LEGAL_BASIS, check_legal_basis),
    (LEGITIMATE_INTEREST, check_legitimate_interest),
    (RECIPIENTS_UNNAMED, check_recipients),
    (UNDISCLOSED_TRANSFER, check_transfers),
    (NO_RETENTION, check_retention),
    (RIGHTS_INCOMPLETE, check_rights),
    (NO_WITHDRAWAL, check_withdrawal),
    (NO_COMPLAINT_RIGHT, check_complaint),
    (NO_COOKIE_LIST, check_cookie_list),
    (NO_COOKIE_REFUSAL, check_cookie_refusal),
    (NO_PREFERENCES_LINK, check_preferences_link),
    (CATEGORY_MISMATCH, check_category_mismatch),
    (DRAFTING, check_drafting),
)
POLICY_RULES: list[dict[str, str]] = [dict(meta) for meta, _ in _CHECKS]


def lint_policy(text: str, *, source: str = "", rules: Iterable[str] | None = None) -> list[Finding]:
    """Findings for a policy text; `rules` restricts the run to some rule ids."""
    wanted = set(rules) if rules is not None else None
    doc = _Doc(text.replace("\r\n", "\n").replace("\r", "\n"), source)
    findings: list[Finding] = []
    for meta, check in _CHECKS:
        if wanted is None or meta["id"] in wanted:
            findings.extend(check(doc))
    return findings
