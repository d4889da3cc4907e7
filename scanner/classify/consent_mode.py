"""Google Consent Mode: the consent signal a Google tag request carries (read from its URL when the
request is made, before URLs are redacted).

    decode("https://region1.google-analytics.com/g/collect?v=2&gcs=G100&gcd=13p3p3p2p5l1")
    -> {"ad_storage": "denied", "analytics_storage": "denied", "ad_user_data": "denied",
        "ad_personalization": "denied", "gcs": "G100", "gcd": "13p3p3p2p5l1", "npa": None, "dma": None}

Parameters (as Google tags send them; documented by Google's consent mode help pages and the
measurement community's references, e.g. "Consent Mode v2 parameters" guides):
* `gcs` "G1" + ad_storage + analytics_storage, each `1` granted, `0` denied, `-` not set
  (G100 both denied, G111 both granted, G101 analytics only, G110 ads only);
* `gcd` (Consent Mode v2) "1" + a digit, then one letter per signal, each followed by a digit:
  ad_storage, analytics_storage, ad_user_data, ad_personalization (letters at positions 2, 4, 6
  and 8). A letter tells the default and the update: `l` not set; `p` denied by default; `q`
  denied by default and by update; `t` granted by default; `r` denied by default, granted by
  update; `m` denied by update (no default); `n` granted by update (no default); `u` granted by
  default, denied by update; `v` granted by default and by update. The final value is what
  counts (the update, else the default);
* `npa=1`: non-personalised ads; `dma=1` with `dma_cps`: Digital Markets Act consent string.

Only requests with `gcs` or `gcd` get a signal; any other request gives None.
"""
from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

SIGNALS = ("ad_storage", "analytics_storage", "ad_user_data", "ad_personalization")
GCD_LETTERS = {"l": None, "p": "denied", "q": "denied", "t": "granted", "r": "granted", "m": "denied",
               "n": "granted", "u": "denied", "v": "granted"}
GCS_DIGITS = {"1": "granted", "0": "denied", "-": None}
# which consent purpose (scanner.vocabulary) each signal needs
PURPOSE = {"ad_storage": "marketing", "analytics_storage": "analytics", "ad_user_data": "marketing",
           "ad_personalization": "marketing"}


def decode(url: str) -> dict | None:
    try:
        query = parse_qs(urlsplit(url).query[:8192], keep_blank_values=True)
    except ValueError:
        return None
    gcs = (query.get("gcs") or [None])[0]
    gcd = (query.get("gcd") or [None])[0]
    if not gcs and not gcd:
        return None
    out: dict = dict.fromkeys(SIGNALS)
    if gcd and len(gcd) >= 9:
        for signal, letter in zip(SIGNALS, (gcd[2], gcd[4], gcd[6], gcd[8])):
            out[signal] = GCD_LETTERS.get(letter.lower())
    if gcs and len(gcs) >= 4 and gcs.startswith("G1"):   # gcs is the tag's current storage state
        for signal, digit in zip(SIGNALS[:2], gcs[2:4]):
            if digit in GCS_DIGITS and GCS_DIGITS[digit] is not None:
                out[signal] = GCS_DIGITS[digit]
    out.update(gcs=(gcs or None) and gcs[:16], gcd=(gcd or None) and gcd[:32],
               npa=(query.get("npa") or [None])[0], dma=(query.get("dma") or [None])[0])
    return out


def granted(signal: dict | None) -> list[str]:
    """The signals the request says are granted."""
    return [s for s in SIGNALS if (signal or {}).get(s) == "granted"]


def describe(signal: dict | None) -> str:
    """'ad_storage denied, analytics_storage granted, ad_user_data not set, ...'."""
    if not signal:
        return "no consent signal"
    return ", ".join(f"{s} {signal.get(s) or 'not set'}" for s in SIGNALS)
