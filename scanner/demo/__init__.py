"""The embedded demo site (a Micropep-like corporate site and its vendors) and the
local virtual-host HTTPS server that serves it, also used by the test suite."""
from .server import SiteServer

__all__ = ["SiteServer"]
