"""Settings, read once from the environment: the server is configured by a client's `env` block."""

from __future__ import annotations

import os
import random
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

ProviderName = Literal["fal", "runflow", "ark", "local"]
PROVIDERS: tuple[ProviderName, ...] = ("fal", "runflow", "ark", "local")  # also the order keys are looked for
KEYS: dict[ProviderName, str] = {"fal": "FAL_KEY", "runflow": "RUNFLOW_API_KEY", "ark": "ARK_API_KEY"}
FalRegion = Literal["global", "us"]
FAL_REGIONS: tuple[FalRegion, ...] = ("global", "us")

DEFAULT_FAL_QUEUE_URL = "https://queue.fal.run"
DEFAULT_FAL_REST_URL = "https://rest.fal.ai"
DEFAULT_RUNFLOW_URL = "https://api.runflow.io"
DEFAULT_ARK_URL = "https://ark.ap-southeast.bytepluses.com/api/v3"  # BytePlus ModelArk, international
DEFAULT_POLL_INTERVAL = (2.0, 10.0)  # first and longest pause between status polls of a job
DEFAULT_WAIT_SECONDS = 45.0
DEFAULT_HEARTBEAT_SECONDS = 5.0
MAX_WAIT_SECONDS = 600.0
DEFAULT_FAL_TIMEOUT_SECONDS = 60.0
DEFAULT_DEDUP_SECONDS = 600.0
DEFAULT_MAX_USD_PER_JOB = 5.0
DEFAULT_LEASE_SECONDS = 15.0  # a replica that stops renewing its leases for this long loses its jobs to another
DEFAULT_CONFIRM_ABOVE_USD = 1.0
DEFAULT_OAUTH_SCOPE = "seedance"
DEFAULT_OAUTH_ADMIN_SCOPE = "seedance:admin"
PLACEHOLDER = re.compile(r"\$\{[^}]*\}")
DEFAULT_HTTP_MAX_BODY_MB = 48.0  # a 30 MB image as a data: URI is 40 MB of base64
MIN_SECRET_LENGTH = 32  # a shared secret's shortest: characters for a token, bytes for a key
MAKE_A_SECRET = 'e.g. from: python3 -c "import secrets; print(secrets.token_hex(32))"'
ORIGIN = re.compile(r"https?://(\*\.)?[A-Za-z0-9.-]+(:[0-9]{1,5})?")  # a CSP host source: scheme, host, port


def default_home() -> Path:
    """The per-user data folder each platform expects, so the ledger survives reinstalls."""
    home = Path.home()
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or home / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = home / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_DATA_HOME") or home / ".local" / "share")
    return base / "seedance-mcp"


def _float(env: Mapping[str, str], name: str, default: float, low: float, high: float) -> float:
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


def _origins(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    origins = tuple(o.strip().rstrip("/") for o in env.get(name, "").split(",") if o.strip())
    for origin in origins:
        if not ORIGIN.fullmatch(origin):
            raise SystemExit(
                f"seedance-mcp: {name} holds {origin!r}, which is not an origin such as https://media.example.com, "
                "https://*.example.com or http://127.0.0.1:8080 (scheme and host, no path)"
            )
    return origins


def _database_url(env: Mapping[str, str]) -> str | None:
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


def _secrets(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    """Shared secrets, comma-separated, newest first: each one must be long enough to be a key."""
    secrets = tuple(s.strip() for s in env.get(name, "").split(",") if s.strip())
    for index, secret in enumerate(secrets):
        if len(secret.encode()) < MIN_SECRET_LENGTH:
            raise SystemExit(
                f"seedance-mcp: {name} entry {index + 1} is {len(secret.encode())} bytes; each key must be at least "
                f"{MIN_SECRET_LENGTH} bytes of randomness, {MAKE_A_SECRET}"
            )
    return secrets


def _token(env: Mapping[str, str], name: str) -> str | None:
    """A shared secret a caller must present: long enough that it cannot be guessed, since it opens the server
    to any address."""
    token = env.get(name, "").strip()
    if token and len(token) < MIN_SECRET_LENGTH:
        raise SystemExit(
            f"seedance-mcp: {name} is {len(token)} characters; it must be at least {MIN_SECRET_LENGTH} random ones, "
            + MAKE_A_SECRET
        )
    return token or None


def _public_url(env: Mapping[str, str], name: str) -> str | None:
    """An https URL, or http on this machine only: tokens and their keys must not travel in clear. Kept as
    written: an issuer is compared with a token's `iss` character for character."""
    url = env.get(name, "").strip()
    if not url:
        return None
    loopback = re.fullmatch(r"http://(127\.0\.0\.1|localhost|\[::1\])(:[0-9]+)?(/.*)?", url)
    if not (url.startswith("https://") or loopback):
        raise SystemExit(f"seedance-mcp: {name}={url!r} must be an https:// URL (http:// only on 127.0.0.1)")
    return url


def _folders(env: Mapping[str, str], name: str) -> tuple[Path, ...]:
    """Folders separated by the platform's path separator; each must be absolute, since the server's own
    working folder means nothing to the person who set it."""
    folders = tuple(Path(d.strip()).expanduser() for d in env.get(name, "").split(os.pathsep) if d.strip())
    for folder in folders:
        if not folder.is_absolute():
            raise SystemExit(f"seedance-mcp: {name} holds {str(folder)!r}, which is not an absolute path")
    return folders


def _hosts(env: Mapping[str, str], name: str) -> tuple[str, ...]:
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


def _url(env: Mapping[str, str], name: str, default: str) -> str:
    return (env.get(name, "").strip() or default).rstrip("/")


MAX_RETRY_AFTER = 30.0  # seconds: a longer `Retry-After` is waited this long, then asked again


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 5
    initial_delay: float = 0.5
    max_delay: float = 8.0

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to sleep before attempt `attempt + 1` (attempts count from 1)."""
        if retry_after is not None:
            return min(retry_after, MAX_RETRY_AFTER)
        base = min(self.initial_delay * 2.0 ** (attempt - 1), self.max_delay)
        return base * random.uniform(0.75, 1.25)


def default_output_dir() -> Path:
    """The platform's videos folder, under Seedance."""
    home = Path.home()
    if sys.platform == "darwin":
        return home / "Movies" / "Seedance"
    if sys.platform.startswith("linux"):
        dirs = home / ".config" / "user-dirs.dirs"
        if dirs.is_file():
            match = re.search(r'^XDG_VIDEOS_DIR="(.+)"$', dirs.read_text(encoding="utf-8"), re.MULTILINE)
            if match:
                return Path(match.group(1).replace("$HOME", str(home))) / "Seedance"
    return home / "Videos" / "Seedance"


@dataclass(frozen=True)
class Settings:
    """Everything the server reads from its environment; see docs/settings.md, written from server/variables.py."""

    fal_key: str | None = field(default=None, repr=False)
    runflow_key: str | None = field(default=None, repr=False)
    ark_key: str | None = field(default=None, repr=False)
    provider: ProviderName = "local"
    fal_queue_url: str = DEFAULT_FAL_QUEUE_URL
    fal_region: FalRegion = "global"  # "us": fal's jobs go to its US copies of the models, at their price
    fal_rest_url: str = DEFAULT_FAL_REST_URL
    runflow_url: str = DEFAULT_RUNFLOW_URL
    ark_url: str = DEFAULT_ARK_URL
    ark_model: str | None = None  # an operator's own id for Seedance 2.0 (an endpoint, say); None: the catalog's
    ark_fast_model: str | None = None
    poll_interval: tuple[float, float] = DEFAULT_POLL_INTERVAL
    allowed_dirs: tuple[Path, ...] = field(default_factory=lambda: (Path.home(),))
    shared_dirs: tuple[Path, ...] = ()  # folders whose files remote callers may name by path; none by default
    private_media_hosts: tuple[str, ...] = ()  # private hosts callers' URLs may name (a LAN asset server)
    home: Path = field(default_factory=default_home)
    wait_seconds: float = DEFAULT_WAIT_SECONDS
    heartbeat_seconds: float = DEFAULT_HEARTBEAT_SECONDS
    log_level: str = "INFO"
    fal_timeout: float = DEFAULT_FAL_TIMEOUT_SECONDS
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    dedup_seconds: float = DEFAULT_DEDUP_SECONDS
    http_token: str | None = field(default=None, repr=False)
    http_allowed_hosts: tuple[str, ...] = ()
    http_max_body_mb: float = DEFAULT_HTTP_MAX_BODY_MB
    output_dir: Path | None = None  # where finished videos are saved; None: not saved (SEEDANCE_DOWNLOAD=0)
    max_usd_per_job: float = DEFAULT_MAX_USD_PER_JOB
    daily_budget_usd: float | None = None
    user_daily_budget_usd: float | None = None  # each signed-in person's, beside the team's
    confirm_above_usd: float = DEFAULT_CONFIRM_ABOVE_USD
    media_origins: tuple[str, ...] = ()  # more origins the job card may play videos from (a proxy, a mirror)
    database_url: str | None = field(default=None, repr=False)  # PostgreSQL, shared by replicas; None: SQLite
    lease_seconds: float = DEFAULT_LEASE_SECONDS  # a replica that stops renewing for this long loses its jobs
    request_state_keys: tuple[str, ...] = field(default=(), repr=False)  # seal the cost question's state; first seals
    oauth_issuer: str | None = None  # sign-in: the identity provider whose access tokens are accepted
    oauth_resource: str | None = None  # this server's public MCP URL, as clients and tokens name it
    oauth_audience: str | None = None  # the `aud` a token must carry; None: oauth_resource
    oauth_scope: str = DEFAULT_OAUTH_SCOPE  # needed for any call; "" for none
    oauth_admin_scope: str = DEFAULT_OAUTH_ADMIN_SCOPE  # sees every person's jobs
    oauth_client_id: str | None = None  # for token introspection (opaque tokens)
    oauth_client_secret: str | None = field(default=None, repr=False)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        # A bundle host may pass an optional setting the user left empty as its bare `${user_config.x}`.
        env = {name: value for name, value in env.items() if not PLACEHOLDER.fullmatch(value.strip())}
        home = env.get("SEEDANCE_HOME", "").strip()
        keys = {name: env.get(variable, "").strip() or None for name, variable in KEYS.items()}
        default = next((name for name in PROVIDERS if keys.get(name)), "local")
        provider = env.get("SEEDANCE_PROVIDER", "").strip().lower() or default
        if provider not in PROVIDERS:
            raise SystemExit(f"seedance-mcp: SEEDANCE_PROVIDER={provider!r} is not one of {', '.join(PROVIDERS)}")
        region = env.get("SEEDANCE_FAL_REGION", "").strip().lower() or "global"
        if region not in FAL_REGIONS:
            raise SystemExit(f"seedance-mcp: SEEDANCE_FAL_REGION={region!r} is not one of {', '.join(FAL_REGIONS)}")
        return cls(
            fal_key=keys["fal"],
            runflow_key=keys["runflow"],
            ark_key=keys["ark"],
            provider=provider,
            fal_queue_url=_url(env, "SEEDANCE_FAL_QUEUE_URL", DEFAULT_FAL_QUEUE_URL),
            fal_region=region,
            fal_rest_url=_url(env, "SEEDANCE_FAL_REST_URL", DEFAULT_FAL_REST_URL),
            runflow_url=_url(env, "SEEDANCE_RUNFLOW_URL", DEFAULT_RUNFLOW_URL),
            ark_url=_url(env, "SEEDANCE_ARK_URL", DEFAULT_ARK_URL),
            ark_model=env.get("SEEDANCE_ARK_MODEL", "").strip() or None,
            ark_fast_model=env.get("SEEDANCE_ARK_FAST_MODEL", "").strip() or None,
            allowed_dirs=_folders(env, "SEEDANCE_ALLOWED_DIRS") or (Path.home(),),
            shared_dirs=_folders(env, "SEEDANCE_SHARED_DIRS"),
            private_media_hosts=_hosts(env, "SEEDANCE_PRIVATE_MEDIA_HOSTS"),
            home=Path(home).expanduser() if home else default_home(),
            wait_seconds=_float(env, "SEEDANCE_WAIT_SECONDS", DEFAULT_WAIT_SECONDS, 0, MAX_WAIT_SECONDS),
            heartbeat_seconds=_float(env, "SEEDANCE_HEARTBEAT_SECONDS", DEFAULT_HEARTBEAT_SECONDS, 0.05, 10),
            log_level=(env.get("SEEDANCE_LOG_LEVEL", "").strip() or "INFO").upper(),
            fal_timeout=_float(env, "SEEDANCE_FAL_TIMEOUT_SECONDS", DEFAULT_FAL_TIMEOUT_SECONDS, 1, 600),
            dedup_seconds=_float(env, "SEEDANCE_DEDUP_SECONDS", DEFAULT_DEDUP_SECONDS, 0, 7 * 86400),
            http_token=_token(env, "SEEDANCE_HTTP_TOKEN"),
            http_allowed_hosts=tuple(
                h.strip() for h in env.get("SEEDANCE_HTTP_ALLOWED_HOSTS", "").split(",") if h.strip()
            ),
            http_max_body_mb=_float(env, "SEEDANCE_HTTP_MAX_BODY_MB", DEFAULT_HTTP_MAX_BODY_MB, 1, 1024),
            output_dir=None
            if env.get("SEEDANCE_DOWNLOAD", "1").strip().lower() in ("0", "false", "no", "off")
            else Path(env["SEEDANCE_OUTPUT_DIR"]).expanduser()
            if env.get("SEEDANCE_OUTPUT_DIR", "").strip()
            else default_output_dir(),
            max_usd_per_job=_float(env, "SEEDANCE_MAX_USD_PER_JOB", DEFAULT_MAX_USD_PER_JOB, 0, 10_000),
            daily_budget_usd=_float(env, "SEEDANCE_DAILY_BUDGET_USD", 0, 0, 1_000_000) or None,
            user_daily_budget_usd=_float(env, "SEEDANCE_USER_DAILY_BUDGET_USD", 0, 0, 1_000_000) or None,
            confirm_above_usd=_float(env, "SEEDANCE_CONFIRM_ABOVE_USD", DEFAULT_CONFIRM_ABOVE_USD, 0, 10_000),
            media_origins=_origins(env, "SEEDANCE_MEDIA_ORIGINS"),
            database_url=_database_url(env),
            lease_seconds=_float(env, "SEEDANCE_LEASE_SECONDS", DEFAULT_LEASE_SECONDS, 3, 600),
            request_state_keys=_secrets(env, "SEEDANCE_REQUEST_STATE_KEYS"),
            oauth_issuer=_public_url(env, "SEEDANCE_OAUTH_ISSUER"),
            oauth_resource=_public_url(env, "SEEDANCE_OAUTH_RESOURCE"),
            oauth_audience=env.get("SEEDANCE_OAUTH_AUDIENCE", "").strip() or None,
            oauth_scope=env.get("SEEDANCE_OAUTH_SCOPE", DEFAULT_OAUTH_SCOPE).strip(),
            oauth_admin_scope=env.get("SEEDANCE_OAUTH_ADMIN_SCOPE", "").strip() or DEFAULT_OAUTH_ADMIN_SCOPE,
            oauth_client_id=env.get("SEEDANCE_OAUTH_CLIENT_ID", "").strip() or None,
            oauth_client_secret=env.get("SEEDANCE_OAUTH_CLIENT_SECRET", "").strip() or None,
        )

    @property
    def host(self) -> str:
        """The host new jobs go to, as the catalog and the ledger name it: the provider, with fal's region."""
        return "fal-us" if self.provider == "fal" and self.fal_region == "us" else self.provider

    def __post_init__(self) -> None:
        if (self.oauth_issuer is None) != (self.oauth_resource is None):
            raise SystemExit(
                "seedance-mcp: sign-in needs both SEEDANCE_OAUTH_ISSUER (the identity provider) and "
                "SEEDANCE_OAUTH_RESOURCE (this server's public URL, e.g. https://mcp.team.example/mcp)"
            )

    @property
    def audience(self) -> str | None:
        """The `aud` an access token must name: SEEDANCE_OAUTH_AUDIENCE, else this server's public URL."""
        return self.oauth_audience or self.oauth_resource

    @property
    def ledger_path(self) -> Path:
        return self.home / "jobs.sqlite3"

    @property
    def previews_dir(self) -> Path:
        return self.home / "previews"

    @property
    def posters_dir(self) -> Path:
        return self.home / "posters"

    @property
    def frames_dir(self) -> Path:
        """Frames taken from earlier jobs to start new ones (`seedance://jobs/.../frames/last`)."""
        return self.home / "frames"

    @property
    def cache_dir(self) -> Path:
        """Videos fetched again from their host because no saved copy was at hand."""
        return self.home / "cache"

    @property
    def films_dir(self) -> Path:
        """Where make_film writes: beside the videos, or under SEEDANCE_HOME when videos are not saved."""
        return self.output_dir if self.output_dir is not None else self.home / "films"

    @property
    def films_setting(self) -> str:
        """The setting that chose `films_dir`, for a message about it."""
        return "SEEDANCE_OUTPUT_DIR" if self.output_dir is not None else "SEEDANCE_HOME"
