"""Crawl: link discovery, sitemaps, normalisation, scope, traps, bounds; timers fast-forwarded."""
from __future__ import annotations

from scanner.crawl import Frontier, locs_from_sitemap, normalize_url, path_pattern, sitemap_urls_from_robots
from conftest import scan_site

HOME = "https://www.crawl.test/"


def test_normalisation_drops_fragments_tracking_and_sorts_query():
    assert normalize_url("HTTPS://WWW.Crawl.test:443/a?utm_source=x&b=2&a=1&gclid=9#top") == "https://www.crawl.test/a?a=1&b=2"
    assert normalize_url("/x?fbclid=1", base=HOME) == "https://www.crawl.test/x"
    assert normalize_url("mailto:a@b.c") is None and normalize_url("javascript:alert(1)") is None
    assert path_pattern("https://x.test/calendar/2024/05?day=3") == "/calendar/#/#?day"


def test_frontier_bounds():
    f = Frontier(start=HOME, max_pages=5, per_pattern_cap=2, max_depth=2)
    for month in range(1, 10):
        f.add(f"/calendar/2024/{month}", depth=1, base=HOME)
    assert len([p for p in f.pages if "/calendar/" in p]) == 2 and f.skipped["per-pattern cap"] == 7
    assert not f.add("https://www.other-site.test/", depth=1)
    assert not f.add("/too/deep", depth=3, base=HOME)
    assert f.add("/a", depth=1, base=HOME) and f.add("/b", depth=1, base=HOME)
    assert f.full and not f.add("/c", depth=1, base=HOME) and f.skipped["max pages"] == 1


def test_sitemap_parsing_is_text_only():
    assert sitemap_urls_from_robots("User-agent: *\nSitemap: https://a.test/s.xml\n sitemap:https://a.test/t.xml") == [
        "https://a.test/s.xml", "https://a.test/t.xml"]
    locs, index = locs_from_sitemap("<sitemapindex><sitemap><loc>https://a.test/p.xml</loc></sitemap></sitemapindex>")
    assert locs == ["https://a.test/p.xml"] and index is True
    locs, index = locs_from_sitemap("<urlset><url><loc> https://a.test/x?a=1&amp;b=2 </loc></url></urlset>")
    assert locs == ["https://a.test/x?a=1&b=2"] and index is False


def test_crawl_of_a_local_site(sites_server):
    result = scan_site(sites_server, HOME, states=("none",), max_pages=30, per_pattern_cap=3, keep_query=True,
                       extra_urls=("https://www.crawl.test/hidden.html",))
    pages = result["crawl"]["pages"]
    assert pages[0] == HOME
    assert pages.count("https://www.crawl.test/a?a=1&b=2") == 1 and not [p for p in pages if "utm_" in p or "#" in p]
    assert "https://www.crawl.test/from-sitemap-only.html" in pages          # from robots.txt -> sitemap index
    assert "https://www.crawl.test/hidden.html" in pages                     # --url
    assert "https://blog.crawl.test/" in pages                               # same registrable domain
    assert not [p for p in pages if "other-site" in p or p.endswith(".pdf")]
    assert len([p for p in pages if "/calendar/" in p]) == 3                 # trap capped
    assert result["crawl"]["skipped"]["out of scope"] >= 1
    assert "https://www.crawl.test/section/deeper.html" in pages
    # the same page set, each page recorded in its own entry
    recorded = [p["url"] for p in result["states"][0]["pages"]]
    assert recorded == pages
    deeper = [p for p in result["states"][0]["pages"] if p["url"].endswith("/section/deeper.html")][0]
    assert any(r["host"] == "www.facebook.com" for r in deeper["requests"])  # the deep-page tracker
    assert any(c["name"] == "fr" and c["party"] == "third" for c in deeper["cookies"])


def test_scope_host_depth_and_globs(sites_server):
    result = scan_site(sites_server, HOME, states=("none",), max_pages=30, scope="host", max_depth=1,
                       exclude=("/calendar/*",), include=())
    pages = result["crawl"]["pages"]
    assert "https://blog.crawl.test/" not in pages
    assert not [p for p in pages if "/calendar/" in p]
    assert "https://www.crawl.test/section/" in pages and "https://www.crawl.test/section/deep.html" not in pages


def _late(result):
    page = [p for p in result["states"][0]["pages"] if p["url"].endswith("/late.html")][0]
    return ({r["host"] for r in page["requests"] if r["party"] == "third"}, {c["name"] for c in page["cookies"]},
            {(f["rule"], f["subject"]["name"]) for f in result["findings"]})


def test_fast_forward_finds_what_waiting_in_real_time_finds(sites_server):
    url = "https://www.crawl.test/late.html"
    fast = _late(scan_site(sites_server, url, states=("none",), max_pages=1, fast_forward_s=10, quiet_ms=500))
    slow = _late(scan_site(sites_server, url, states=("none",), max_pages=1, fast_forward_s=0, quiet_ms=4800))
    blind = _late(scan_site(sites_server, url, states=("none",), max_pages=1, fast_forward_s=0, quiet_ms=500))
    assert "px.late-tracker.test" in fast[0] and "late_id" in fast[1]
    assert fast == slow                        # nothing lost by fast-forwarding instead of waiting
    assert "px.late-tracker.test" not in blind[0]   # a fixed short wait misses it


def test_slots_serve_consent_phases_then_discovery_then_visits_and_survive_cancellation():
    import asyncio
    from scanner.slots import DISCOVER, PHASE, VISIT, Slots

    async def run() -> tuple[list[str], int]:
        slots = Slots(1)
        order: list[str] = []
        await slots.acquire(VISIT)             # busy: everyone below queues

        async def job(name: str, priority: int) -> None:
            async with slots.hold(priority):
                order.append(name)
                await asyncio.sleep(0)

        tasks = [asyncio.ensure_future(job(n, p)) for n, p in
                 [("visit-1", VISIT), ("discover-1", DISCOVER), ("cancelled-phase", PHASE),
                  ("phase-1", PHASE), ("visit-2", VISIT)]]
        await asyncio.sleep(0)
        tasks[2].cancel()                     # a waiter cancelled before its turn gives up its place
        await asyncio.sleep(0)
        slots.release()
        await asyncio.gather(*tasks, return_exceptions=True)
        return order, slots.free

    order, free = asyncio.run(run())
    assert order == ["phase-1", "discover-1", "visit-1", "visit-2"]
    assert free == 1                          # every slot handed back
