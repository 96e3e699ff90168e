"""Which network addresses are public, and every spelling a host name can hide an address behind.

A URL's host is read the way the system's resolver would read it (inet_aton's decimal, hex, octal and
short forms: `2130706433`, `0x7f.0.0.1`, `0177.0.0.1` and `127.1` are all 127.0.0.1), so that no spelling
slips past the check and still reaches the address it names.
"""

from __future__ import annotations

import ipaddress
import re

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_CGNAT = ipaddress.IPv4Network("100.64.0.0/10")
_PROTOCOL_ASSIGNMENTS = ipaddress.IPv4Network("192.0.0.0/24")  # IETF's own; not all Pythons count it as private
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_PART = re.compile(r"0[xX][0-9a-fA-F]*|0[0-7]*|[1-9][0-9]*")


def _number(part: str) -> int:
    if part[:2].lower() == "0x":
        return int(part[2:] or "0", 16)
    return int(part, 8) if part.startswith("0") else int(part)


def _inet_aton(host: str) -> ipaddress.IPv4Address | None:
    """`host` as inet_aton reads it: one to four parts, each decimal, 0x-hex or 0-octal, the last filling
    the bytes that remain; None when it is not such a number."""
    parts = host.split(".")
    if not 1 <= len(parts) <= 4 or not all(_PART.fullmatch(part) for part in parts):
        return None
    *head, last = (_number(part) for part in parts)
    if any(n > 255 for n in head) or last >= 256 ** (4 - len(head)):
        return None
    value = 0
    for number in head:
        value = value << 8 | number
    return ipaddress.IPv4Address(value << 8 * (4 - len(head)) | last)


def normal_host(host: str) -> str:
    """The host as the resolver will see it: IDNA-folded (`localhost` in fullwidth letters is `localhost`),
    lower case, without brackets or a final dot. ValueError when it is no host name at all."""
    host = host.strip().removeprefix("[").removesuffix("]")
    if not host or "%" in host or any(c.isspace() for c in host):
        raise ValueError("not a host name")
    if ":" not in host:
        host = host.encode("idna").decode("ascii")
    return host.lower().rstrip(".")


def literal_address(host: str) -> IPAddress | None:
    """The address a normalised host spells out, in any form the resolver accepts; None for a name."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return _inet_aton(host)


def _embedded(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one carries: mapped, compatible, 6to4 or NAT64."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if int(address) >> 32 == 0 and int(address) > 1:  # ::a.b.c.d, the deprecated IPv4-compatible form
        return ipaddress.IPv4Address(int(address))
    return None


def not_public(address: IPAddress) -> str | None:
    """Why nothing should be fetched from `address` on a caller's behalf, or None when it is public."""
    if isinstance(address, ipaddress.IPv6Address) and (inner := _embedded(address)) is not None:
        why = not_public(inner)
        return f"{why} (inside an IPv6 address)" if why else None
    checks = (
        (address.is_unspecified, "an unspecified address"),
        (address.is_loopback, "a loopback address"),
        (address.is_link_local, "a link-local address"),
        (address.is_multicast, "a multicast address"),
        (address == ipaddress.IPv4Address("255.255.255.255"), "the broadcast address"),
        (isinstance(address, ipaddress.IPv4Address) and address in _CGNAT, "a shared (carrier-grade NAT) address"),
        (address.is_private, "a private address"),
        (address.is_reserved, "a reserved address"),
        (isinstance(address, ipaddress.IPv4Address) and address in _PROTOCOL_ASSIGNMENTS, "a reserved address"),
        (not address.is_global, "not a public address"),
    )
    return next((why for failed, why in checks if failed), None)


def special_name(host: str) -> str | None:
    """Names that never leave this machine, whatever DNS says (RFC 6761): `localhost` and `*.localhost`."""
    return "a loopback address" if host == "localhost" or host.endswith(".localhost") else None
