"""How a setting's text becomes its value: each reader refuses what the server cannot use, in one line
naming the variable, what was given (never a secret) and what is allowed, and stops the start."""

from __future__ import annotations

import importlib.util
import os
import re
from collections.abc import Mapping
from pathlib import Path

MIN_SECRET_LENGTH = 32  # a shared secret's shortest: characters for a token, bytes for a key
MAKE_A_SECRET = 'e.g. from: python3 -c "import secrets; print(secrets.token_hex(32))"'
ORIGIN = re.compile(r"https?://(\*\.)?[A-Za-z0-9.-]+(:[0-9]{1,5})?")  # a CSP host source: scheme, host, port


def number(env: Mapping[str, str], name: str, default: float, low: float, high: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")
    if not low <= value <= high:
        raise SystemExit(
            f"seedance-mcp: {name}={raw[:80]!r} is not a number from {low:g} to {high:g}: set one in that range"
        )
    return value


def whole_number(env: Mapping[str, str], name: str, low: int, high: int) -> int | None:
    """A count, or None when unset (the setting's default then depends on how the server runs)."""
    raw = env.get(name, "").strip()
    if not raw:
        return None
    if not (raw.isascii() and raw.isdigit() and low <= int(raw) <= high):
        raise SystemExit(
            f"seedance-mcp: {name}={raw[:80]!r} is not a whole number from {low} to {high}: set one in that range"
        )
    return int(raw)


def choice(env: Mapping[str, str], name: str, choices: tuple[str, ...]) -> str:
    """One of `choices`, the first being the default."""
    raw = env.get(name, "").strip().lower() or choices[0]
    if raw not in choices:
        raise SystemExit(f"seedance-mcp: {name}={raw[:80]!r} is not one of {', '.join(choices)}")
    return raw


def origins(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    origins = tuple(o.strip().rstrip("/") for o in env.get(name, "").split(",") if o.strip())
    for origin in origins:
        if not ORIGIN.fullmatch(origin):
            raise SystemExit(
                f"seedance-mcp: {name} holds {origin!r}, which is not an origin such as https://media.example.com, "
                "https://*.example.com or http://127.0.0.1:8080 (scheme and host, no path)"
            )
    return origins


def database_url(env: Mapping[str, str]) -> str | None:
    url = env.get("SEEDANCE_DATABASE_URL", "").strip()
    if url and not url.startswith(("postgresql://", "postgres://")):
        raise SystemExit(
            "seedance-mcp: SEEDANCE_DATABASE_URL must be a PostgreSQL URL such as "
            "postgresql://seedance@db.internal:5432/seedance; leave it unset for the embedded SQLite ledger"
        )
    if url:
        try:
            import psycopg  # noqa: F401  (the `postgres` extra: asked for only when it is needed)
            import psycopg_pool  # noqa: F401
        except ImportError:
            raise SystemExit(
                "seedance-mcp: SEEDANCE_DATABASE_URL needs the postgres extra, which is not installed: "
                "pip install 'seedance-mcp[postgres]' (or uv tool install 'seedance-mcp[postgres]')"
            ) from None
    return url or None


def shared_secrets(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    """Shared secrets, comma-separated, newest first: each one must be long enough to be a key."""
    secrets = tuple(s.strip() for s in env.get(name, "").split(",") if s.strip())
    for index, secret in enumerate(secrets):
        if len(secret.encode()) < MIN_SECRET_LENGTH:
            raise SystemExit(
                f"seedance-mcp: {name} entry {index + 1} is {len(secret.encode())} bytes; each key must be at least "
                f"{MIN_SECRET_LENGTH} bytes of randomness, {MAKE_A_SECRET}"
            )
    return secrets


def token(env: Mapping[str, str], name: str) -> str | None:
    """A shared secret a caller must present: long enough that it cannot be guessed, since it opens the server
    to any address."""
    token = env.get(name, "").strip()
    if token and len(token) < MIN_SECRET_LENGTH:
        raise SystemExit(
            f"seedance-mcp: {name} is {len(token)} characters; it must be at least {MIN_SECRET_LENGTH} random ones, "
            + MAKE_A_SECRET
        )
    return token or None


def public_url(env: Mapping[str, str], name: str) -> str | None:
    """An https URL, or http on this machine only: tokens and their keys must not travel in clear. Kept as
    written: an issuer is compared with a token's `iss` character for character."""
    url = env.get(name, "").strip()
    if not url:
        return None
    loopback = re.fullmatch(r"http://(127\.0\.0\.1|localhost|\[::1\])(:[0-9]+)?(/.*)?", url)
    if not (url.startswith("https://") or loopback):
        raise SystemExit(f"seedance-mcp: {name}={url!r} must be an https:// URL (http:// only on 127.0.0.1)")
    return url


def storage_url(env: Mapping[str, str], name: str) -> str | None:
    """`s3://bucket` or `s3://bucket/prefix`, with the prefix's slashes trimmed."""
    url = env.get(name, "").strip()
    if not url:
        return None
    found = re.fullmatch(r"s3://([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(/[^?#]*)?", url)
    if found is None:
        raise SystemExit(
            f"seedance-mcp: {name}={url!r} must be s3://<bucket> or s3://<bucket>/<prefix> (a bucket name is "
            "3 to 63 lower-case letters, digits, dots and hyphens)"
        )
    if importlib.util.find_spec("obstore") is None:  # found, not loaded: it is imported when the bucket is used
        raise SystemExit(
            f"seedance-mcp: {name} needs the storage extra, which is not installed: "
            "pip install 'seedance-mcp[storage]' (or uv tool install 'seedance-mcp[storage]')"
        )
    prefix = (found[2] or "").strip("/")
    return f"s3://{found[1]}" + (f"/{prefix}" if prefix else "")


def folders(env: Mapping[str, str], name: str) -> tuple[Path, ...]:
    """Folders separated by the platform's path separator; each must be absolute, since the server's own
    working folder means nothing to the person who set it."""
    folders = tuple(Path(d.strip()).expanduser() for d in env.get(name, "").split(os.pathsep) if d.strip())
    for folder in folders:
        if not folder.is_absolute():
            raise SystemExit(f"seedance-mcp: {name} holds {str(folder)!r}, which is not an absolute path")
    return folders


def hosts(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    """Host names or addresses, comma-separated, as the server will compare them: lower case, no brackets."""
    from server.trust.addresses import literal_address, normal_host

    hosts = []
    for raw in (h.strip() for h in env.get(name, "").split(",") if h.strip()):
        try:
            host = normal_host(raw)
        except (ValueError, UnicodeError):
            raise SystemExit(f"seedance-mcp: {name} holds {raw!r}, which is not a host name or address") from None
        address = literal_address(host)
        hosts.append(str(address) if address is not None else host)
    return tuple(hosts)


def base_url(env: Mapping[str, str], name: str, default: str) -> str:
    return (env.get(name, "").strip() or default).rstrip("/")
