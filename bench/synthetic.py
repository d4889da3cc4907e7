"""A synthetic site of N pages for the crawl benchmark, laid out for `scanner.demo.server.SiteServer`.

    python bench/synthetic.py --pages 50 --out /tmp/bench-site     # write it and print its layout

Hosts (one folder each under the site root):

  www.bench-site.test     the site: home -> sections -> categories -> articles (depth 3), a cookie
                          policy page, sitemap.xml listing every page, robots.txt naming it.
                          Every page carries the `<head>` of the demo's Micropep layout: GA gtag
                          (cookies + beacon before consent), the HubSpot loader (banner, and
                          analytics once consented), the site script (LinkedIn once consented),
                          plus a tracker firing 4 s after `load` (px.late-tracker.test).
                          Articles (depth 3 only) also fire a Facebook-pixel-like request to
                          www.facebook.com/tr. Home and sections embed the demo's YouTube player.
  <demo vendor hosts>     copied from scanner/demo/site/ (all but www.micropep.com)
  www.facebook.com        204 for any path, sets `fr` (SameSite=None; Secure)
  px.late-tracker.test    a 1x1 GIF for any path

Slugs are short words without digits, so the scanner's per-URL-pattern cap (look-alike pages
such as /post/123 and /post/456 count as one pattern) does not trim the page set: a crawl with
max_pages=N sees exactly the N pages.

Also written next to the site root: `bench-site.yaml`, the site's declaration (a copy of
rules/sites/micropep.yaml with the site and crawl keys changed), so the HubSpot toggles map to
the declared categories and the scan has the same six consent states as the demo.
"""
from __future__ import annotations

import argparse
import json
import random
import re
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from scanner.paths import demo_site_dir, rules_dir  # noqa: E402

HOST = "www.bench-site.test"
URL = f"https://{HOST}/"
LATE_HOST = "px.late-tracker.test"
DEEP_HOST = "www.facebook.com"
LATE_DELAY_MS = 4000
DEEP_DEPTH = 3
MIN_PAGES = 5  # home, cookie policy, one section, one category, one article

GIF_1X1 = bytes.fromhex("47494638396101000100800000000000ffffff21f90401000000002c00000000010001000002024401003b")

SECTION_NAMES = ["products", "solutions", "research", "company", "news", "support", "careers", "partners",
                 "events", "stories", "press", "learn"]
ADJECTIVES = ["green", "quiet", "rapid", "bright", "golden", "silver", "early", "late", "north", "south",
              "urban", "rural", "simple", "modern", "open", "hidden", "gentle", "bold", "clear", "steady",
              "young", "ancient", "little", "grand", "coastal", "alpine", "humble", "lucky", "plain", "swift",
              "warm", "cool", "wild", "calm", "sunny", "misty", "rustic", "noble", "vivid", "subtle"]
NOUNS = ["harvest", "meadow", "river", "garden", "valley", "orchard", "forest", "harbor", "bridge", "market",
         "season", "journey", "lantern", "compass", "field", "summit", "canyon", "prairie", "island", "signal",
         "pattern", "journal", "report", "update", "insight", "story", "review", "outlook", "roadmap", "chapter",
         "lesson", "method", "sample", "trial", "record", "window", "corner", "shelter", "pathway", "horizon"]
LOREM = ("peptide crop field trial growth yield soil water season farmer plant leaf root weed fungus result "
         "method sample partner market product research team data model network protocol measure impact "
         "climate region harvest protection biology chemistry discovery platform screening greenhouse").split()

# The late tracker: a plain timer after `load`, which a scanner only sees if it waits (or fast-forwards).
LATE_SCRIPT = (
    "<script>window.addEventListener('load', function () {\n"
    f"  setTimeout(function () {{ new Image().src = 'https://{LATE_HOST}/p.gif'; }}, {LATE_DELAY_MS});\n"
    "});</script>\n"
)
DEEP_SCRIPT = (
    "<!-- Facebook-pixel-like tag, on deep (article) pages only -->\n"
    "<script>new Image().src = 'https://" + DEEP_HOST + "/tr?id=918273645&ev=PageView&dl=' + "
    "encodeURIComponent(location.href);</script>\n"
)
YOUTUBE_EMBED = ('<section class="video"><h2>Watch</h2><iframe width="560" height="315" '
                 'src="https://www.youtube.com/embed/Zx8Wq2mP3kA" title="Video" allowfullscreen></iframe></section>\n')


@dataclass
class Page:
    path: str            # URL path, e.g. /s/news/green-harvest
    depth: int           # shortest click distance from the home page
    kind: str            # home | policy | section | category | article
    title: str
    children: list[str] = field(default_factory=list)
    parent: str | None = None


@dataclass
class SyntheticSite:
    root: Path                   # SiteServer root (one folder per host)
    declaration: Path            # bench-site.yaml
    pages: list[Page]
    url: str = URL

    @property
    def n_pages(self) -> int:
        return len(self.pages)

    def urls(self) -> list[str]:
        return [f"https://{HOST}{p.path}" for p in self.pages]

    def deep_urls(self) -> list[str]:
        return [f"https://{HOST}{p.path}" for p in self.pages if p.depth == DEEP_DEPTH]

    def summary(self) -> dict:
        kinds: dict[str, int] = {}
        for p in self.pages:
            kinds[p.kind] = kinds.get(p.kind, 0) + 1
        return {"root": str(self.root), "declaration": str(self.declaration), "url": self.url,
                "pages": self.n_pages, "kinds": kinds, "deep_pages": len(self.deep_urls()),
                "max_depth": max(p.depth for p in self.pages)}


# ---- page tree ---------------------------------------------------------------------------------
def plan_tree(n_pages: int) -> list[Page]:
    """Home + cookie policy + sections (depth 1) + categories (depth 2) + articles (depth 3) = n_pages."""
    if n_pages < MIN_PAGES:
        raise ValueError(f"a synthetic site needs at least {MIN_PAGES} pages, got {n_pages}")
    rest = n_pages - 2
    n_sections = max(1, min(len(SECTION_NAMES), round(rest ** (1 / 3))))
    n_categories = max(n_sections, round((rest - n_sections) * 0.2))
    n_articles = rest - n_sections - n_categories
    if n_articles < 1:  # tiny sites: one section, one category, the rest articles
        n_sections, n_categories, n_articles = 1, 1, rest - 2
    words = _slugs()
    home = Page("/", 0, "home", "Home")
    policy = Page("/cookie-policy", 1, "policy", "Cookie policy", parent="/")
    sections = [Page(f"/s/{SECTION_NAMES[i]}", 1, "section", SECTION_NAMES[i].capitalize(), parent="/")
                for i in range(n_sections)]
    home.children = [s.path for s in sections]
    categories = []
    for i in range(n_categories):
        section = sections[i % n_sections]
        slug = next(words)
        cat = Page(f"{section.path}/{slug}", 2, "category", slug.replace("-", " ").title(), parent=section.path)
        section.children.append(cat.path)
        categories.append(cat)
    articles = []
    for i in range(n_articles):
        cat = categories[i % n_categories]
        slug = next(words)
        art = Page(f"{cat.path}/{slug}", 3, "article", slug.replace("-", " ").capitalize(), parent=cat.path)
        cat.children.append(art.path)
        articles.append(art)
    pages = [home, policy, *sections, *categories, *articles]
    _check_slugs(pages)
    return pages


def _slugs():
    """Distinct adjective-noun slugs, shuffled deterministically."""
    pairs = [f"{a}-{n}" for a in ADJECTIVES for n in NOUNS]
    random.Random(1234).shuffle(pairs)
    yield from pairs
    raise ValueError("ran out of slugs")


def _check_slugs(pages: list[Page]) -> None:
    """Every path has its own shape: no digits, no 8+ hex run, no 24+ char segment."""
    for p in pages:
        for segment in p.path.strip("/").split("/"):
            if re.search(r"\d|[0-9a-f]{8,}", segment) or len(segment) >= 24:
                raise ValueError(f"slug {segment!r} would collapse into a URL pattern")
    if len({p.path for p in pages}) != len(pages):
        raise ValueError("duplicate page paths")


# ---- writing ----------------------------------------------------------------------------------
def _paragraphs(rng: random.Random, count: int) -> str:
    out = []
    for _ in range(count):
        words = [rng.choice(LOREM) for _ in range(rng.randint(60, 110))]
        out.append("<p>" + " ".join(words).capitalize() + ".</p>")
    return "\n".join(out) + "\n"


def _layout(nav: list[Page]) -> str:
    """The demo's Micropep `<head>` (GA, HubSpot loader, site script) + the late tracker."""
    demo_layout = (demo_site_dir() / "www.micropep.com" / "_layout.html").read_text(encoding="utf-8")
    head = re.search(r"<head>.*?</head>", demo_layout, re.S)
    if not head:
        raise RuntimeError("demo layout has no <head>")
    head_html = head.group(0).replace("| Micropep", "| Bench Site")
    head_html = head_html.replace("</head>", LATE_SCRIPT + "</head>")
    links = "\n".join(f'    <a href="{p.path}">{p.title}</a>' for p in nav)
    return f"""<!doctype html>
<html lang="en">
{head_html}
<body>
<header class="top">
  <a class="logo" href="/">bench site</a>
  <nav>
{links}
  </nav>
</header>
<main>
{{{{content}}}}
</main>
<footer>
  <p>Bench Site &middot; a synthetic site for the cookie-scanner benchmark</p>
  <p><a href="/cookie-policy">Cookie policy</a> &middot;
     <a id="hs_show_banner_button" href="#" onclick="(window._hsp = window._hsp || []).push(['showBanner']); return false;">Cookie settings</a></p>
</footer>
</body>
</html>
"""


def _page_html(page: Page, by_path: dict[str, Page], rng: random.Random) -> str:
    body = [f'<!--layout title="{page.title}"-->\n']
    if page.parent:
        crumbs, cur = [], by_path.get(page.parent)
        while cur is not None:
            crumbs.insert(0, f'<a href="{cur.path}">{cur.title}</a>')
            cur = by_path.get(cur.parent) if cur.parent else None
        body.append('<nav class="crumbs">' + " &rsaquo; ".join(crumbs) + "</nav>\n")
    body.append(f"<h1>{page.title}</h1>\n")
    if page.kind == "home":
        body.append(_paragraphs(rng, 2))
        body.append('<section class="grid">' + "".join(
            f'<article><h2><a href="{c}">{by_path[c].title}</a></h2><p>{" ".join(rng.choice(LOREM) for _ in range(20))}.</p></article>'
            for c in page.children) + "</section>\n")
        body.append(YOUTUBE_EMBED)
    elif page.kind == "policy":
        policy = (demo_site_dir() / "www.micropep.com" / "cookie-policy.html").read_text(encoding="utf-8")
        body = [f'<!--layout title="{page.title}"-->\n', re.sub(r"^<!--layout[^>]*-->\s*", "", policy)]
    elif page.kind in ("section", "category"):
        body.append(_paragraphs(rng, 2))
        body.append("<ul>" + "".join(f'<li><a href="{c}">{by_path[c].title}</a></li>' for c in page.children)
                    + "</ul>\n")
        if page.kind == "section":
            body.append(YOUTUBE_EMBED)
    else:  # article: long enough to need a few scroll steps; related articles stay at depth 3
        body.append(_paragraphs(rng, rng.randint(6, 10)))
        siblings = [s for s in by_path[page.parent].children if s != page.path][:3]
        if siblings:
            body.append("<h2>Related</h2><ul>" + "".join(
                f'<li><a href="{s}">{by_path[s].title}</a></li>' for s in siblings) + "</ul>\n")
        body.append(DEEP_SCRIPT)
    return "".join(body)


def _file_for(path: str) -> str:
    return "index.html" if path == "/" else path.lstrip("/") + ".html"


def _declaration(n_pages: int) -> dict:
    data = yaml.safe_load((rules_dir() / "sites" / "micropep.yaml").read_text(encoding="utf-8"))
    data["site"] = {"name": "Bench Site", "url": URL, "controller": "Bench Site (synthetic)", "country": "FR"}
    data.pop("policy", None)  # the Micropep policy file does not describe this site
    data["crawl"] = {"max_pages": n_pages}
    return data


def write_site(n_pages: int, out: Path | None = None) -> SyntheticSite:
    """Write the site (and its declaration) for `n_pages` pages; returns where and what."""
    base = Path(out) if out else Path(tempfile.mkdtemp(prefix=f"bench-site-{n_pages}-"))
    root = base / "site"
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    # Vendor hosts of the demo, as they are.
    for folder in sorted(demo_site_dir().iterdir()):
        if folder.is_dir() and folder.name != "www.micropep.com":
            shutil.copytree(folder, root / folder.name)
    # The two extra trackers.
    fb = root / DEEP_HOST
    fb.mkdir()
    (fb / "_fallback").write_bytes(b"")
    (fb / "_fallback.headers").write_text(
        "Status: 204\n"
        "Set-Cookie: fr=0Bq5Zt1bEnChS1tE.AWXbench.Bn0000.AAA.0.0.Bn0000.AWXbench; Max-Age=7776000; "
        "Domain=.facebook.com; Path=/; Secure; HttpOnly; SameSite=None\n", encoding="utf-8")
    late = root / LATE_HOST
    late.mkdir()
    (late / "_fallback").write_bytes(GIF_1X1)
    (late / "_fallback.headers").write_text("Content-Type: image/gif\n", encoding="utf-8")

    pages = plan_tree(n_pages)
    by_path = {p.path: p for p in pages}
    site = root / HOST
    (site / "assets").mkdir(parents=True)
    for name in ("site.css", "site.js"):
        shutil.copy(demo_site_dir() / "www.micropep.com" / "assets" / name, site / "assets" / name)
    nav = [p for p in pages if p.kind == "section"]
    layout = _layout(nav)
    rng = random.Random(n_pages)
    for page in pages:
        target = site / _file_for(page.path)
        if not target.parent.is_dir():
            target.parent.mkdir(parents=True)
        # SiteServer wraps a page with the _layout.html of the page's own folder.
        if not (target.parent / "_layout.html").is_file():
            (target.parent / "_layout.html").write_text(layout, encoding="utf-8")
        target.write_text(_page_html(page, by_path, rng), encoding="utf-8")
    (site / "index.html.headers").write_text(
        "Set-Cookie: PHPSESSID=5c1e0a9d8b7f6e5d4c3b2a1f0e9d8c7b; Path=/; Secure; HttpOnly; SameSite=Lax\n",
        encoding="utf-8")
    (site / "sitemap.xml").write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
        + "".join(f"  <url><loc>https://{HOST}{p.path}</loc></url>\n" for p in pages) + "</urlset>\n",
        encoding="utf-8")
    (site / "robots.txt").write_text(f"User-agent: *\nAllow: /\n\nSitemap: https://{HOST}/sitemap.xml\n",
                                     encoding="utf-8")
    declaration = base / "bench-site.yaml"
    declaration.write_text(
        "# Declaration of the synthetic benchmark site (written by bench/synthetic.py from\n"
        "# rules/sites/micropep.yaml: same categories and HubSpot toggles, site and crawl changed).\n"
        + yaml.safe_dump(_declaration(n_pages), sort_keys=False, allow_unicode=True), encoding="utf-8")
    return SyntheticSite(root=root, declaration=declaration, pages=pages)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=10)
    parser.add_argument("--out", type=Path, help="folder to write into (default: a new temp folder)")
    args = parser.parse_args(argv)
    site = write_site(args.pages, args.out)
    print(json.dumps(site.summary(), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
