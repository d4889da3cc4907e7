"""Gatherers: drive a real browser context and record what the site stores and contacts."""
from .recorder import ContextRecorder
from .visit import navigate, page_record, describe_error

__all__ = ["ContextRecorder", "navigate", "page_record", "describe_error"]
