"""Crawl: which pages to visit (same set in every consent state), bounded and normalised."""
from .urls import normalize_url, path_pattern, in_scope
from .frontier import Frontier
from .sitemaps import sitemap_urls_from_robots, locs_from_sitemap

__all__ = ["normalize_url", "path_pattern", "in_scope", "Frontier", "sitemap_urls_from_robots", "locs_from_sitemap"]
