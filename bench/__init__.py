"""Benchmark of the crawl engine (see bench/README.md)."""
