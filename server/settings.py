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

from server import setting_values as read

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
DEFAULT_DRAIN_SECONDS = 10.0  # after SIGTERM, how long calls in progress have to hand back their job
DEFAULT_HTTP_MAX_SESSIONS = 2000  # live MCP sessions (2025-11-25 clients) one replica keeps
DEFAULT_HTTP_SESSION_IDLE_SECONDS = 1800.0
DEFAULT_FAL_JWKS_URL = "https://rest.fal.ai/.well-known/jwks.json"  # the keys fal signs its webhooks with
DEFAULT_WEBHOOK_FALLBACK_SECONDS = 300.0  # after a job's submit, how long its webhook is waited for
DEFAULT_LINK_TTL_SECONDS = 7 * 86400.0  # how long a signed download link works
# Over HTTP, what one person may do unless the operator says otherwise; on stdio the person owns the machine.
HTTP_USER_MAX_JOBS_IN_FLIGHT = 5
HTTP_USER_CALLS_PER_MINUTE = 120
LogFormat = Literal["text", "json"]
Transport = Literal["stdio", "http"]
DEFAULT_HTTP_MAX_BODY_MB = 48.0  # a 30 MB image as a data: URI is 40 MB of base64


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
    transport: Transport = "stdio"  # set by the command: limits per person are on by default only over HTTP
    user_max_jobs_in_flight: int | None = None  # None: the transport's default; 0: no limit
    user_calls_per_minute: int | None = None
    drain_seconds: float = DEFAULT_DRAIN_SECONDS
    metrics_token: str | None = field(default=None, repr=False)  # lets a caller not on loopback read /metrics
    log_format: LogFormat = "text"
    http_max_sessions: int = DEFAULT_HTTP_MAX_SESSIONS
    http_session_idle_seconds: float = DEFAULT_HTTP_SESSION_IDLE_SECONDS
    public_url: str | None = None  # where the hosts reach this server: when set over HTTP, they call back
    fal_jwks_url: str = DEFAULT_FAL_JWKS_URL
    runflow_webhook_secrets: tuple[str, ...] = field(default=(), repr=False)  # newest first
    webhook_fallback_seconds: float = DEFAULT_WEBHOOK_FALLBACK_SECONDS
    link_ttl_seconds: float = DEFAULT_LINK_TTL_SECONDS
    storage_url: str | None = None  # s3://bucket/prefix: saved copies go to the bucket, not output_dir

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
            fal_queue_url=read.base_url(env, "SEEDANCE_FAL_QUEUE_URL", DEFAULT_FAL_QUEUE_URL),
            fal_region=region,
            fal_rest_url=read.base_url(env, "SEEDANCE_FAL_REST_URL", DEFAULT_FAL_REST_URL),
            runflow_url=read.base_url(env, "SEEDANCE_RUNFLOW_URL", DEFAULT_RUNFLOW_URL),
            ark_url=read.base_url(env, "SEEDANCE_ARK_URL", DEFAULT_ARK_URL),
            ark_model=env.get("SEEDANCE_ARK_MODEL", "").strip() or None,
            ark_fast_model=env.get("SEEDANCE_ARK_FAST_MODEL", "").strip() or None,
            allowed_dirs=read.folders(env, "SEEDANCE_ALLOWED_DIRS") or (Path.home(),),
            shared_dirs=read.folders(env, "SEEDANCE_SHARED_DIRS"),
            private_media_hosts=read.hosts(env, "SEEDANCE_PRIVATE_MEDIA_HOSTS"),
            home=Path(home).expanduser() if home else default_home(),
            wait_seconds=read.number(env, "SEEDANCE_WAIT_SECONDS", DEFAULT_WAIT_SECONDS, 0, MAX_WAIT_SECONDS),
            heartbeat_seconds=read.number(env, "SEEDANCE_HEARTBEAT_SECONDS", DEFAULT_HEARTBEAT_SECONDS, 0.05, 10),
            log_level=(env.get("SEEDANCE_LOG_LEVEL", "").strip() or "INFO").upper(),
            fal_timeout=read.number(env, "SEEDANCE_FAL_TIMEOUT_SECONDS", DEFAULT_FAL_TIMEOUT_SECONDS, 1, 600),
            dedup_seconds=read.number(env, "SEEDANCE_DEDUP_SECONDS", DEFAULT_DEDUP_SECONDS, 0, 7 * 86400),
            http_token=read.token(env, "SEEDANCE_HTTP_TOKEN"),
            http_allowed_hosts=tuple(
                h.strip() for h in env.get("SEEDANCE_HTTP_ALLOWED_HOSTS", "").split(",") if h.strip()
            ),
            http_max_body_mb=read.number(env, "SEEDANCE_HTTP_MAX_BODY_MB", DEFAULT_HTTP_MAX_BODY_MB, 1, 1024),
            output_dir=None
            if env.get("SEEDANCE_DOWNLOAD", "1").strip().lower() in ("0", "false", "no", "off")
            else Path(env["SEEDANCE_OUTPUT_DIR"]).expanduser()
            if env.get("SEEDANCE_OUTPUT_DIR", "").strip()
            else default_output_dir(),
            max_usd_per_job=read.number(env, "SEEDANCE_MAX_USD_PER_JOB", DEFAULT_MAX_USD_PER_JOB, 0, 10_000),
            daily_budget_usd=read.number(env, "SEEDANCE_DAILY_BUDGET_USD", 0, 0, 1_000_000) or None,
            user_daily_budget_usd=read.number(env, "SEEDANCE_USER_DAILY_BUDGET_USD", 0, 0, 1_000_000) or None,
            confirm_above_usd=read.number(env, "SEEDANCE_CONFIRM_ABOVE_USD", DEFAULT_CONFIRM_ABOVE_USD, 0, 10_000),
            media_origins=read.origins(env, "SEEDANCE_MEDIA_ORIGINS"),
            database_url=read.database_url(env),
            lease_seconds=read.number(env, "SEEDANCE_LEASE_SECONDS", DEFAULT_LEASE_SECONDS, 3, 600),
            request_state_keys=read.shared_secrets(env, "SEEDANCE_REQUEST_STATE_KEYS"),
            oauth_issuer=read.public_url(env, "SEEDANCE_OAUTH_ISSUER"),
            oauth_resource=read.public_url(env, "SEEDANCE_OAUTH_RESOURCE"),
            oauth_audience=env.get("SEEDANCE_OAUTH_AUDIENCE", "").strip() or None,
            oauth_scope=env.get("SEEDANCE_OAUTH_SCOPE", DEFAULT_OAUTH_SCOPE).strip(),
            oauth_admin_scope=env.get("SEEDANCE_OAUTH_ADMIN_SCOPE", "").strip() or DEFAULT_OAUTH_ADMIN_SCOPE,
            oauth_client_id=env.get("SEEDANCE_OAUTH_CLIENT_ID", "").strip() or None,
            oauth_client_secret=env.get("SEEDANCE_OAUTH_CLIENT_SECRET", "").strip() or None,
            user_max_jobs_in_flight=read.whole_number(env, "SEEDANCE_USER_MAX_JOBS_IN_FLIGHT", 0, 100_000),
            user_calls_per_minute=read.whole_number(env, "SEEDANCE_USER_CALLS_PER_MINUTE", 0, 1_000_000),
            drain_seconds=read.number(env, "SEEDANCE_DRAIN_SECONDS", DEFAULT_DRAIN_SECONDS, 0, 3600),
            metrics_token=read.token(env, "SEEDANCE_METRICS_TOKEN"),
            log_format=read.choice(env, "SEEDANCE_LOG_FORMAT", ("text", "json")),  # type: ignore[arg-type]
            http_max_sessions=read.whole_number(env, "SEEDANCE_HTTP_MAX_SESSIONS", 1, 1_000_000)
            or DEFAULT_HTTP_MAX_SESSIONS,
            http_session_idle_seconds=read.number(
                env, "SEEDANCE_HTTP_SESSION_IDLE_SECONDS", DEFAULT_HTTP_SESSION_IDLE_SECONDS, 10, 7 * 86400
            ),
            public_url=read.public_url(env, "SEEDANCE_PUBLIC_URL"),
            fal_jwks_url=read.public_url(env, "SEEDANCE_FAL_JWKS_URL") or DEFAULT_FAL_JWKS_URL,
            runflow_webhook_secrets=read.shared_secrets(env, "SEEDANCE_RUNFLOW_WEBHOOK_SECRET"),
            webhook_fallback_seconds=read.number(
                env, "SEEDANCE_WEBHOOK_FALLBACK_SECONDS", DEFAULT_WEBHOOK_FALLBACK_SECONDS, 0.1, 7 * 86400
            ),
            link_ttl_seconds=read.number(env, "SEEDANCE_LINK_TTL_SECONDS", DEFAULT_LINK_TTL_SECONDS, 60, 365 * 86400),
            storage_url=read.storage_url(env, "SEEDANCE_STORAGE_URL"),
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
    def jobs_in_flight_cap(self) -> int | None:
        """The most unfinished paid jobs one person may have; None: no limit."""
        return _cap(self.user_max_jobs_in_flight, HTTP_USER_MAX_JOBS_IN_FLIGHT, self.transport)

    @property
    def calls_per_minute_cap(self) -> int | None:
        """The most tool calls one person may make in a minute; None: no limit."""
        return _cap(self.user_calls_per_minute, HTTP_USER_CALLS_PER_MINUTE, self.transport)

    @property
    def callback_base(self) -> str | None:
        """Where new jobs ask their host to call back, when they do: over HTTP, with a public URL. On stdio
        the server is one person's, on their machine, and no host can reach it."""
        return self.public_url.rstrip("/") if self.public_url is not None and self.transport == "http" else None

    @property
    def webhooks(self) -> bool:
        return self.callback_base is not None

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


def _cap(given: int | None, over_http: int, transport: Transport) -> int | None:
    """A limit per person as set (0: none), or when unset, on over HTTP and off on stdio."""
    if given is None:
        return over_http if transport == "http" else None
    return given or None
