"""`--resolve HOST=IP[:PORT]` -> Chromium's --host-resolver-rules."""
from __future__ import annotations

import ipaddress
import re

from .errors import UsageError

_HOST = re.compile(r"^(\*|(\*\.)?[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*\.?)$")


def parse_resolve(entry: str) -> tuple[str, str, int | None]:
    """'www.example.com=127.0.0.1:8443' -> ('www.example.com', '127.0.0.1', 8443)."""
    host, sep, target = (entry or "").partition("=")
    host, target = host.strip(), target.strip()
    if not sep or not host or not target:
        raise UsageError(f"bad --resolve {entry!r}: expected HOST=IP[:PORT], e.g. www.example.com=127.0.0.1:8443")
    if not _HOST.match(host):
        raise UsageError(f"bad --resolve {entry!r}: {host!r} is not a host name or wildcard")
    port: int | None = None
    ip = target
    if target.startswith("["):  # [::1]:8443
        ip, _, rest = target[1:].partition("]")
        if rest:
            port = _port(entry, rest.lstrip(":"))
    elif target.count(":") == 1:
        ip, port_text = target.split(":")
        port = _port(entry, port_text)
    try:
        ipaddress.ip_address(ip)
    except ValueError:
        raise UsageError(f"bad --resolve {entry!r}: {ip!r} is not an IP address") from None
    return host, ip, port


def _port(entry: str, text: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise UsageError(f"bad --resolve {entry!r}: {text!r} is not a port")
    return int(text)


def host_resolver_rules(entries: tuple[str, ...] | list[str]) -> str:
    """Build the --host-resolver-rules value; specific hosts before wildcards."""
    rules = []
    for entry in entries:
        host, ip, port = parse_resolve(entry)
        addr = f"[{ip}]" if ":" in ip else ip
        rank = 2 if host == "*" else (1 if host.startswith("*") else 0)
        rules.append((rank, f"MAP {host} {addr}{f':{port}' if port else ''}"))
    rules.sort(key=lambda r: r[0])  # Chromium applies the first matching rule: exact hosts first
    return ", ".join(rule for _, rule in rules)
