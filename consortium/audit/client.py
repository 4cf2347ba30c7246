"""The client's address, trusting forwarding headers only from configured proxies."""

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def _in_trusted(addr: str) -> bool:
    try:
        ip = ipaddress.ip_address(addr)
    except ValueError:
        return False
    for entry in settings.TRUSTED_PROXIES:
        try:
            if ip in ipaddress.ip_network(entry, strict=False):
                return True
        except ValueError:
            continue
    return False


def client_address(request: HttpRequest | None) -> str | None:
    """REMOTE_ADDR, or the last untrusted hop of X-Forwarded-For when REMOTE_ADDR is a trusted proxy."""
    if request is None:
        return None
    remote = request.META.get("REMOTE_ADDR") or None
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if remote and forwarded and _in_trusted(remote):
        # Walk from the right: the nearest hop not itself a trusted proxy is the client.
        for hop in reversed([h.strip() for h in forwarded.split(",") if h.strip()]):
            if not _in_trusted(hop):
                try:
                    return str(ipaddress.ip_address(hop))
                except ValueError:
                    return remote
    return remote
