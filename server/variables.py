"""The environment variables the server reads, each with the setting it fills and what it does.

`Settings.from_env` reads them; the documentation's settings page is written from this list and from the
defaults `Settings` computes (`python -m scripts.reference`), and a test holds the two to the same names.
"""

from __future__ import annotations

from typing import NamedTuple


class Variable(NamedTuple):
    name: str
    setting: str  # the `Settings` field it fills
    what: str  # Markdown, for the settings page


VARIABLES: tuple[Variable, ...] = (
    Variable(
        "FAL_KEY",
        "fal_key",
        "Your fal API key. Sent only in the `Authorization` header to fal; never written to results, errors, "
        "logs or the ledger. The same holds for the two keys below.",
    ),
    Variable("RUNFLOW_API_KEY", "runflow_key", "Your Runflow API key, for Seedance 2.0 on Runflow."),
    Variable("ARK_API_KEY", "ark_key", "Your BytePlus ModelArk API key, for ByteDance's own Seedance 2.0 API."),
    Variable(
        "SEEDANCE_PROVIDER",
        "provider",
        "Which host takes new jobs: `fal`, `runflow`, `ark`, or `local` (the offline preview backend). Jobs "
        "already in the ledger are followed by the host that ran them, as long as its key is still set.",
    ),
    Variable("SEEDANCE_FAL_QUEUE_URL", "fal_queue_url", "Base URL of fal's queue API, for a proxy or a test server."),
    Variable(
        "SEEDANCE_FAL_REGION",
        "fal_region",
        "`us` sends fal's jobs to its US copies of the models (`bytedance/seedance-2.0/us/...`, "
        "`bytedance/seedance-2.5/us/...`) at their price, 1.2 times the global one. Only `seedance-2.0` and "
        "`seedance-2.5` have US copies, and 2.5's takes no `draft`: the others are refused before anything is"
        " sent while it is on. Jobs already made follow on whatever it says.",
    ),
    Variable("SEEDANCE_RUNFLOW_URL", "runflow_url", "Base URL of Runflow's API."),
    Variable(
        "SEEDANCE_ARK_URL",
        "ark_url",
        "Base URL of ModelArk's API (BytePlus international); `https://ark.cn-beijing.volces.com/api/v3` is "
        "Volcengine's, with other model ids.",
    ),
    Variable(
        "SEEDANCE_ARK_MODEL", "ark_model", "ModelArk's model id (or your endpoint id `ep-...`) for `seedance-2.0`."
    ),
    Variable("SEEDANCE_ARK_FAST_MODEL", "ark_fast_model", "The same for `seedance-2.0-fast`."),
    Variable(
        "SEEDANCE_FAL_REST_URL",
        "fal_rest_url",
        "Base URL of fal's REST API, which hands out upload tokens for local files (the CDN host comes with "
        "the token).",
    ),
    Variable(
        "SEEDANCE_ALLOWED_DIRS",
        "allowed_dirs",
        "Over stdio: the folders whose files may be passed as media, separated by `:` (`;` on Windows), each "
        "absolute or `~/...`. Hidden files and folders (`~/.ssh`, `~/.aws`, `.env`...) are refused wherever "
        "they are, so a prompt-injected model cannot publish a private file. Callers over HTTP never get "
        "these (see [Trust model](team.md#trust-model)).",
    ),
    Variable(
        "SEEDANCE_SHARED_DIRS",
        "shared_dirs",
        "With `--http`: shared media folders whose files remote callers may pass by their path on the server,"
        " separated like `SEEDANCE_ALLOWED_DIRS`; absolute paths only. Unset, a path from a caller over HTTP "
        "is refused. `SEEDANCE_HOME`, the output folder and hidden files stay unreadable by path over HTTP "
        "even inside them.",
    ),
    Variable(
        "SEEDANCE_PRIVATE_MEDIA_HOSTS",
        "private_media_hosts",
        "Comma-separated host names or addresses on a private network (`assets.lan`, `10.0.0.7`) that "
        "callers' media URLs may name: a LAN asset server the input checks and the preview backend may read "
        "from. Every other loopback, private, link-local, CGNAT, multicast or reserved address is refused in "
        "callers' URLs.",
    ),
    Variable("SEEDANCE_OUTPUT_DIR", "output_dir", "Where finished videos are saved, each with a `.json` sidecar."),
    Variable(
        "SEEDANCE_DOWNLOAD",
        "output_dir",
        "`0` keeps finished fal videos at fal's (expiring) URL only: nothing is downloaded or saved.",
    ),
    Variable(
        "SEEDANCE_STORAGE_URL",
        "storage_url",
        "`s3://<bucket>/<prefix>`: every saved copy (videos, their sidecars and posters, films, frames taken "
        "from jobs) is stored in the "
        "bucket instead of `SEEDANCE_OUTPUT_DIR`, where every replica reads it. Credentials, region and endpoint "
        "come from the standard `AWS_*` variables (`AWS_ENDPOINT_URL` for MinIO, R2 and other S3-compatible "
        "stores that honour conditional puts). Needs the `storage` extra (`pip install 'seedance-mcp[storage]'`). "
        "See "
        "[Object storage](team.md#object-storage).",
    ),
    Variable(
        "SEEDANCE_MAX_USD_PER_JOB",
        "max_usd_per_job",
        "A job whose estimate may go above this many dollars is refused before it is submitted, with the "
        "estimate in the message.",
    ),
    Variable(
        "SEEDANCE_CONFIRM_ABOVE_USD",
        "confirm_above_usd",
        "A job whose estimate may go above this waits for the user's yes (see "
        "[Money](costs.md#limits-and-confirmation)).",
    ),
    Variable(
        "SEEDANCE_DAILY_BUDGET_USD",
        "daily_budget_usd",
        "The most the jobs of one UTC day may cost together, counted from the ledger's estimates; a job that "
        "would go over is refused.",
    ),
    Variable(
        "SEEDANCE_HOME",
        "home",
        "Where the job ledger `jobs.sqlite3`, the preview renders (`previews/`) and the poster frames "
        "(`posters/`) live.",
    ),
    Variable(
        "SEEDANCE_WAIT_SECONDS",
        "wait_seconds",
        "How long a generation call (and `get_job`) waits for the video before returning the job's handle; "
        "0-600. Keep it under your client's tool timeout (often 60 s).",
    ),
    Variable(
        "SEEDANCE_HEARTBEAT_SECONDS",
        "heartbeat_seconds",
        "While a job does not change, a progress notification is still sent this often (0.05-10).",
    ),
    Variable(
        "SEEDANCE_LOG_LEVEL",
        "log_level",
        "`DEBUG`, `INFO`, `WARNING` or `ERROR`. Logs go to stderr only; stdout carries the protocol.",
    ),
    Variable(
        "SEEDANCE_FAL_TIMEOUT_SECONDS",
        "fal_timeout",
        "How long one request to the host (fal, Runflow or ModelArk) may wait for its answer (1-600); fal's "
        "status stream may also stay silent this long, at most 45 s (fal pings every 15 s); and a video "
        "download may go this long without a byte before it is tried again.",
    ),
    Variable(
        "SEEDANCE_DEDUP_SECONDS",
        "dedup_seconds",
        "An identical generation call (same tool, options and prompt) within this many seconds gets the "
        "earlier job back instead of a new, billed one; `0` turns this off. `force_new=true` opts out per "
        "call.",
    ),
    Variable(
        "SEEDANCE_MEDIA_ORIGINS",
        "media_origins",
        "More origins the [job card](job-card.md) may play videos from, comma-separated "
        "(`https://media.example.com`, `https://*.example.com`, `http://127.0.0.1:8080`): a proxy or mirror "
        "in front of the hosts' CDNs. They are added to the card's declared `resourceDomains`, after the "
        "origins of every host whose key is set.",
    ),
    Variable(
        "SEEDANCE_DATABASE_URL",
        "database_url",
        "A PostgreSQL URL (`postgresql://user:password@host:5432/name`) for a ledger that several replicas "
        "share; needs the `postgres` extra (`pip install 'seedance-mcp[postgres]'`). Unset, the ledger is the"
        " SQLite file `jobs.sqlite3` under `SEEDANCE_HOME`. The logs name the database without its password.",
    ),
    Variable(
        "SEEDANCE_LEASE_SECONDS",
        "lease_seconds",
        "How long a replica's hold on a job it follows lasts without renewal (it renews every third of it). "
        "When a replica dies, another takes its unfinished jobs over within this time plus about a second. 3 "
        "to 600.",
    ),
    Variable(
        "SEEDANCE_REQUEST_STATE_KEYS",
        "request_state_keys",
        'Secrets, comma-separated, each at least 32 bytes (`python3 -c "import secrets; '
        'print(secrets.token_hex(32))"`), that seal the state a 2026-07-28 cost question carries '
        "(`request_state`), so that the answer may reach any replica. The first seals, all open: to rotate, "
        "deploy `new,old`, then `new` once ten minutes have passed. Unset, each process seals with a key of "
        "its own, which is right for one process; replicas then refuse one another's questions (`Invalid or "
        "expired requestState`) and the call has to be made again.",
    ),
    Variable(
        "SEEDANCE_HTTP_TOKEN",
        "http_token",
        "With `--http`: a shared secret that lets the server listen on anything but loopback; every request "
        "must then carry `Authorization: Bearer <token>`. Jobs started with it belong to `token`, which sees "
        "every job. With sign-in set up as well, it is accepted beside the identity provider's tokens.",
    ),
    Variable(
        "SEEDANCE_OAUTH_ISSUER",
        "oauth_issuer",
        "With `--http`: sign-in with your identity provider. Its issuer URL exactly as its tokens' `iss` "
        "names it (`https://login.example.com/realms/team`); https, or http on 127.0.0.1 only. Needs "
        "`SEEDANCE_OAUTH_RESOURCE`. See [Sign-in](team.md#sign-in-with-the-teams-identity-provider).",
    ),
    Variable(
        "SEEDANCE_OAUTH_RESOURCE",
        "oauth_resource",
        "This server's public MCP URL (`https://mcp.team.example/mcp`): the resource named in its "
        "protected-resource metadata, and the audience tokens must carry unless `SEEDANCE_OAUTH_AUDIENCE` "
        "says otherwise.",
    ),
    Variable(
        "SEEDANCE_OAUTH_AUDIENCE",
        "oauth_audience",
        "The `aud` an access token must name, for providers that put an API identifier there rather than the URL.",
    ),
    Variable(
        "SEEDANCE_OAUTH_SCOPE",
        "oauth_scope",
        "The scope every token needs (403 `insufficient_scope` without it); empty for none.",
    ),
    Variable(
        "SEEDANCE_OAUTH_ADMIN_SCOPE",
        "oauth_admin_scope",
        "A token with this scope sees every person's jobs in `list_jobs`, `get_job`, `cancel_job` and the job"
        " resources.",
    ),
    Variable(
        "SEEDANCE_OAUTH_CLIENT_ID",
        "oauth_client_id",
        "The server's own client at the provider, used only to introspect tokens that are not JWTs (RFC "
        "7662). Without it, only JWT access tokens are accepted.",
    ),
    Variable("SEEDANCE_OAUTH_CLIENT_SECRET", "oauth_client_secret", "That client's secret."),
    Variable(
        "SEEDANCE_USER_DAILY_BUDGET_USD",
        "user_daily_budget_usd",
        "With sign-in: the most one person's jobs of one UTC day may cost, beside the team's "
        "`SEEDANCE_DAILY_BUDGET_USD`.",
    ),
    Variable(
        "SEEDANCE_HTTP_ALLOWED_HOSTS",
        "http_allowed_hosts",
        "With `--http`: comma-separated host names (optionally `name:port`) clients use to reach the server, "
        "besides loopback and the bound address. Other `Host` headers get 421 and other `Origin`s 403 "
        "(DNS-rebinding protection).",
    ),
    Variable(
        "SEEDANCE_HTTP_MAX_BODY_MB",
        "http_max_body_mb",
        "With `--http`: the largest request body accepted (a 30 MB image as a `data:` URI is about 40 MB); "
        "larger ones get 413.",
    ),
    Variable(
        "SEEDANCE_HTTP_MAX_SESSIONS",
        "http_max_sessions",
        "With `--http`: the most live MCP sessions (of clients on protocol 2025-11-25, which open one) a replica "
        "keeps; over it, a new session's `initialize` gets 503 and the client may retry on another replica.",
    ),
    Variable(
        "SEEDANCE_HTTP_SESSION_IDLE_SECONDS",
        "http_session_idle_seconds",
        "With `--http`: a session with no request for this long is closed, and its client opens a new one.",
    ),
    Variable(
        "SEEDANCE_USER_MAX_JOBS_IN_FLIGHT",
        "user_max_jobs_in_flight",
        "The most unfinished paid jobs one person may have at once, counted in the ledger, so across replicas. "
        "A person is who signed in; otherwise the shared token; otherwise the caller's address. A call over it "
        "is refused before anything is submitted, saying so. `0`: no limit.",
    ),
    Variable(
        "SEEDANCE_USER_CALLS_PER_MINUTE",
        "user_calls_per_minute",
        "The most tool calls one person may make in a minute (each UTC minute counts afresh), across replicas; "
        "the job card's `video_chunk` reads are not counted. `0`: no limit.",
    ),
    Variable(
        "SEEDANCE_DRAIN_SECONDS",
        "drain_seconds",
        "With `--http`: after SIGTERM, how long calls in progress have to hand back their job's `request_id` "
        "before the replica hands its jobs over and exits. Set `terminationGracePeriodSeconds` above it.",
    ),
    Variable(
        "SEEDANCE_METRICS_TOKEN",
        "metrics_token",
        "With `--http`: `/metrics` also answers callers that are not on loopback when they send "
        "`Authorization: Bearer <it>`. At least 32 characters.",
    ),
    Variable(
        "SEEDANCE_LOG_FORMAT",
        "log_format",
        "`text`, or `json`: one JSON object a line on stderr, with the time, level, logger, message, and the "
        "tool, job and request where there is one.",
    ),
    Variable(
        "SEEDANCE_PUBLIC_URL",
        "public_url",
        "With `--http`: the https base URL at which the hosts can reach this server (`http://` only on "
        "127.0.0.1). Set, each new job asks its host to call back at `<it>/hooks/<token>`, a path of its own "
        "that nobody can guess, and nothing a call back says is believed before it is proven (see "
        "[Webhooks](team.md#webhooks)). Every finished video, poster and film is then also handed out as a "
        "signed download link under it (see [Download links](team.md#download-links)). Unset, or on stdio, "
        "jobs are followed as without it.",
    ),
    Variable(
        "SEEDANCE_LINK_TTL_SECONDS",
        "link_ttl_seconds",
        "How long a signed download link works. Links are signed with `SEEDANCE_REQUEST_STATE_KEYS` when set "
        "(so any replica serves any link), else with a key kept in `SEEDANCE_HOME`.",
    ),
    Variable(
        "SEEDANCE_FAL_JWKS_URL",
        "fal_jwks_url",
        "Where fal's webhook signing keys are published. Fetched when a webhook comes, kept a day, and fetched "
        "again when no key verifies a signature (at most once a minute).",
    ),
    Variable(
        "SEEDANCE_RUNFLOW_WEBHOOK_SECRET",
        "runflow_webhook_secrets",
        "The secret Runflow signs its callbacks with (`whsec_...`, from `POST /v1/callback-secrets`). Two, "
        "comma-separated, during a rotation: either verifies. With `SEEDANCE_PUBLIC_URL`, Runflow jobs ask for a "
        "callback only when it is set.",
    ),
    Variable(
        "SEEDANCE_WEBHOOK_FALLBACK_SECONDS",
        "webhook_fallback_seconds",
        "With webhooks on: when no webhook has come this long after a job's submit, a replica asks the host "
        "itself, once, and again as long after while the job runs, so a lost webhook never strands a job.",
    ),
)
