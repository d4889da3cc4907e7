"""Load a privacy or cookie policy as plain text that keeps its paragraphs.

`load_policy_text(source, fetch=None)` accepts a file (.txt, .md, .html, .htm)
or an http(s) URL. URLs are never fetched here: the caller injects `fetch`
(`url -> html`, normally backed by the scanner's Chromium).

HTML becomes readable text: headings, paragraphs, list items and table rows
stay on their own lines (cells joined by " | "), links keep their target as
`text (url)` (`text [link]` for script links, `text [button]` for buttons) so
the linter can tell a link from a bare mention. Scripts, styles, navigation
menus and cookie-banner overlays are dropped; footers are kept. Page text is
only ever read as text.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Callable

from bs4 import BeautifulSoup
from bs4.element import NavigableString, PreformattedString, Tag

from ..errors import UsageError

MAX_BYTES = 10_000_000

# Elements whose content is never policy text.
DROP_TAGS = ("script", "style", "noscript", "template", "svg", "canvas", "iframe",
             "object", "embed", "nav", "head", "select", "input", "textarea")
# Consent-banner overlays injected by CMP scripts (a rendered page carries them).
# The cookie *declarations* some CMPs render (#ot-sdk-cookie-policy,
# .CookieDeclaration) are policy content and are kept.
BANNER_IDS = ("onetrust-consent-sdk", "onetrust-banner-sdk", "onetrust-pc-sdk",
              "CybotCookiebotDialog", "didomi-host", "axeptio_overlay",
              "tarteaucitronRoot", "cmplz-cookiebanner-container", "usercentrics-root",
              "qc-cmp2-container", "cookie-law-info-bar")
# Block elements: each starts a new line; PARAGRAPHS also leave a blank line.
PARAGRAPHS = ("p", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol", "dl",
              "blockquote", "pre", "section", "article", "header", "footer",
              "main", "aside", "figure", "address", "hr", "details")
LINES = ("div", "li", "tr", "dt", "dd", "caption", "summary", "form", "fieldset",
         "legend", "figcaption")
# Break markers placed while walking the tree, resolved once the text is out:
# a run of markers and spaces becomes a blank line if it holds a paragraph
# break, else a line break. Source whitespace never becomes a line break.
_LINE, _PARA = "\x00", "\x01"
HTML_SUFFIXES = (".html", ".htm", ".xhtml")
TEXT_SUFFIXES = (".txt", ".text", "")
MARKDOWN_SUFFIXES = (".md", ".markdown")


class PolicyError(UsageError, ValueError):
    """A policy source that cannot be read; the message is one line."""


def load_policy_text(source: str, *, fetch: Callable[[str], str] | None = None
                     ) -> tuple[str, str]:
    """Return (plain text, origin) for a policy file path or http(s) URL."""
    source = (source or "").strip()
    if not source:
        raise PolicyError("no policy source given (expected a file path or an http(s) URL)")
    if re.match(r"(?i)https?://", source):
        return _load_url(source, fetch), source
    path = Path(source).expanduser()
    raw = _read_file(path)
    suffix = path.suffix.lower()
    if suffix in HTML_SUFFIXES or (suffix not in TEXT_SUFFIXES + MARKDOWN_SUFFIXES
                                   and _looks_like_html(raw)):
        text = html_to_text(raw)
    elif suffix in MARKDOWN_SUFFIXES:
        text = markdown_to_text(raw)
    else:
        text = normalise_text(raw)
    return text, str(path.resolve())


def _load_url(url: str, fetch: Callable[[str], str] | None) -> str:
    if fetch is None:
        raise PolicyError(f"fetching a URL needs the browser; pass fetch= or save the page "
                          f"and give its file path instead of {url}")
    try:
        html = fetch(url)
    except Exception as exc:  # the fetcher's own errors become one line
        raise PolicyError(f"could not fetch {url}: {_one_line(str(exc)) or type(exc).__name__}"
                          ) from exc
    if not isinstance(html, str):
        raise PolicyError(f"could not fetch {url}: the fetcher returned no HTML text")
    if len(html) > MAX_BYTES:
        raise PolicyError(f"policy page too large (> {MAX_BYTES} characters): {url}")
    return html_to_text(html)


def _read_file(path: Path) -> str:
    try:
        if not path.is_file():
            raise PolicyError(f"policy file not found: {path}")
        if path.stat().st_size > MAX_BYTES:
            raise PolicyError(f"policy file too large (> {MAX_BYTES} bytes): {path}")
        data = path.read_bytes()
    except OSError as exc:
        raise PolicyError(f"cannot read policy file {path}: {exc.strerror or exc}") from exc
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def _looks_like_html(raw: str) -> bool:
    return re.search(r"(?i)<(html|body|p|div|h[1-6]|table)\b", raw[:4000]) is not None


def _one_line(text: str) -> str:
    return " ".join(text.split())[:300]


def normalise_text(text: str) -> str:
    """Unify line ends, trim each line, keep at most one blank line in a row."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u00a0", " ")
    lines = [re.sub(r"[ \t\f\v]+", " ", line).strip() for line in text.split("\n")]
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    return "\n".join(out).strip("\n")


def markdown_to_text(md: str) -> str:
    """Strip the common Markdown markup; links become `text (url)`."""
    text = re.sub(r"!\[([^\]]*)\]\([^)]*\)", r"\1", md)
    text = re.sub(r"\[([^\]]+)\]\(([^)\s]+)[^)]*\)", r"\1 (\2)", text)
    text = re.sub(r"(?m)^[ \t]{0,3}#{1,6}[ \t]*", "", text)
    text = re.sub(r"(?m)^[ \t]{0,3}>[ \t]?", "", text)
    text = re.sub(r"(?m)^[ \t]*[-*+][ \t]+", "• ", text)
    text = re.sub(r"(?m)^[ \t]*\|?[ \t]*:?-{3,}.*$", "", text)  # table separator rows
    text = re.sub(r"(\*\*|__|`)", "", text)
    return normalise_text(text)


def html_to_text(html: str) -> str:
    """Readable text of an HTML page (see module docstring)."""
    soup = BeautifulSoup(html, "html.parser")
    text = _walk(soup)
    text = re.sub(rf"[ \t]*[{_LINE}{_PARA}][{_LINE}{_PARA} \t]*",
                  lambda m: "\n\n" if _PARA in m.group(0) else "\n", text)
    text = re.sub(r"[ \t]*\|[ \t]*$", "", text, flags=re.M)  # last cell separator of a row
    return normalise_text(text)


def _is_noise(tag: Tag) -> bool:
    if tag.name in DROP_TAGS or tag.get("id") in BANNER_IDS:
        return True
    return tag.get("aria-modal") == "true" and "cookie" in str(tag.get("id", "")).lower()


def _walk(root: Tag) -> str:
    """Text of the tree with break markers, depth-first without recursion or edits.

    Source whitespace is collapsed to spaces (except in <pre>), so every line
    break in the result comes from the document's structure.
    """
    out: list[str] = []
    stack: list[tuple[object, bool]] = [(root, False)]
    in_cell = in_pre = 0
    while stack:
        node, closing = stack.pop()
        if isinstance(node, PreformattedString):  # comments, doctype, CDATA, <?...?>
            continue
        if isinstance(node, NavigableString):
            chunk = re.sub(f"[{_LINE}{_PARA}]", "", str(node))
            out.append(chunk if in_pre else re.sub(r"\s+", " ", chunk))
            continue
        if not isinstance(node, Tag):
            continue
        name = node.name
        if closing:
            if name in ("td", "th"):
                in_cell -= 1
                out.append(" | ")
            elif name == "pre":
                in_pre -= 1
            elif name == "a":
                target = _link_target(node)
                if target and (not in_cell or target.startswith(" [") or "@" in target):
                    out.append(target)  # table cells keep only mail and script links
            elif name == "button":
                out.append(" [button]")  # a control the reader can use, e.g. "Cookie settings"
            out.append(_PARA if name in PARAGRAPHS else _LINE if name in LINES else "")
            continue
        if _is_noise(node):
            continue
        if name == "br":
            out.append(" / " if in_cell else _LINE)
            continue
        out.append(_PARA if name in PARAGRAPHS else _LINE if name in LINES else "")
        if name == "li":
            out.append("• ")
        in_cell += name in ("td", "th")
        in_pre += name == "pre"
        stack.append((node, True))
        stack.extend((child, False) for child in reversed(node.contents))
    return "".join(out)


def _link_target(a: Tag) -> str:
    """` (url)` for a real link, ` [link]` for a script/anchor link, else ''."""
    href = str(a.get("href") or "").strip()
    label = " ".join(a.get_text(" ").split())
    if re.match(r"(?i)(https?://|mailto:|tel:|/)", href):
        shown = re.sub(r"(?i)^mailto:", "", href).split("?")[0]
        if shown and shown.lower() not in label.lower():
            return f" ({shown[:300]})"
        return ""
    if href or a.get("onclick") or a.get("role") == "button":
        return " [link]"
    return ""
