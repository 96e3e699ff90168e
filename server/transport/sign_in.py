"""Sign-in: access tokens from the team's identity provider, checked as an OAuth 2.1 resource server does.

A JWT is verified against the issuer's published keys (JWKS): its signature, issuer, audience and expiry.
Any other token is sent to the issuer's introspection endpoint, when a client id and secret for it are
set. The required scope is checked by the SDK, which also answers 401/403 with `WWW-Authenticate` naming
this server's protected-resource metadata. A token that fails is logged with the reason, never itself.
"""

from __future__ import annotations

import hmac
import logging
import time
from typing import Any

import anyio
import httpx2
import jwt
from mcp.server import MCPServer
from mcp.server.auth.provider import AccessToken
from mcp.server.auth.routes import create_protected_resource_routes
from mcp.server.auth.settings import AuthSettings

from server.errors import echo
from server.settings import Settings

logger = logging.getLogger(__name__)

ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"]  # never HS*
KEYS_REFRESH_SECONDS = 60.0  # an unknown key id fetches the issuer's keys again, at most this often
TIMEOUT_SECONDS = 10.0
STATIC_SUBJECT = "token"  # who SEEDANCE_HTTP_TOKEN is, as the ledger records it


class Refused(Exception):
    """Why a token is not accepted; logged, never shown with the token."""


class IssuerTokens:
    """The SDK's TokenVerifier for the configured issuer, accepting the static token too when one is set."""

    def __init__(self, settings: Settings) -> None:
        assert settings.oauth_issuer and settings.audience
        self._issuer = settings.oauth_issuer
        self._audience = settings.audience
        self._admin = settings.oauth_admin_scope
        self._scope = settings.oauth_scope
        self._client = (
            (settings.oauth_client_id, settings.oauth_client_secret or "") if settings.oauth_client_id else None
        )
        self._static = settings.http_token.encode() if settings.http_token else None
        self._http: httpx2.AsyncClient | None = None
        self._metadata: dict[str, Any] | None = None
        self._keys: jwt.PyJWKSet | None = None
        self._keys_at = 0.0
        self._lock = anyio.Lock()

    async def verify_token(self, token: str) -> AccessToken | None:
        if self._static is not None and hmac.compare_digest(token.encode(), self._static):
            return static_token(self._scope, self._admin)
        try:
            claims = await (self._decode(token) if token.count(".") == 2 else self._introspect(token))
        except Refused as exc:
            logger.info("access token refused: %s", exc)
            return None
        except (httpx2.HTTPError, ValueError) as exc:
            logger.warning("access token not checked: the issuer %s did not answer properly: %s", self._issuer, exc)
            return None
        subject = str(claims.get("sub") or claims.get("client_id") or "")
        if not subject:
            logger.info("access token refused: it names no subject")
            return None
        return AccessToken(
            token=token,
            client_id=str(claims.get("client_id") or claims.get("azp") or subject),
            scopes=scopes_of(claims),
            expires_at=int(claims["exp"]),
            resource=self._audience,
            subject=subject,
            claims={"iss": self._issuer},
        )

    async def _decode(self, token: str) -> dict[str, Any]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError as exc:
            raise Refused(f"not a readable JWT ({exc})") from None
        if header.get("alg") not in ALGORITHMS:
            raise Refused(f"signed with {echo(str(header.get('alg')))!r}, not an asymmetric algorithm")
        key = await self._key(str(header.get("kid") or ""))
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key.key,
                algorithms=[str(header["alg"])],
                audience=self._audience,
                issuer=self._issuer,
                options={"require": ["exp", "iss", "aud"]},
            )
        except jwt.InvalidTokenError as exc:
            raise Refused(str(exc)) from None
        return claims

    async def _key(self, kid: str) -> jwt.PyJWK:
        """The issuer's key with this id, fetching its keys again when the id is new (keys rotate)."""
        async with self._lock:
            stale = time.monotonic() - self._keys_at >= KEYS_REFRESH_SECONDS
            if self._keys is None or (self._find(kid) is None and stale):
                answer = await self._client_http().get(str((await self._issuer_metadata())["jwks_uri"]))
                answer.raise_for_status()
                self._keys, self._keys_at = jwt.PyJWKSet.from_dict(answer.json()), time.monotonic()
            key = self._find(kid)
        if key is None:
            raise Refused(f"signed with a key the issuer does not publish (kid {echo(str(kid))!r})")
        return key

    def _find(self, kid: str) -> jwt.PyJWK | None:
        keys = self._keys.keys if self._keys is not None else []
        if not kid and len(keys) == 1:  # a token without a key id, from an issuer with one key
            return keys[0]
        return next((key for key in keys if key.key_id == kid), None)

    async def _introspect(self, token: str) -> dict[str, Any]:
        if self._client is None:
            raise Refused("not a JWT, and no SEEDANCE_OAUTH_CLIENT_ID is set to introspect it with")
        endpoint = (await self._issuer_metadata()).get("introspection_endpoint")
        if not endpoint:
            raise Refused("not a JWT, and the issuer has no introspection endpoint")
        answer = await self._client_http().post(
            str(endpoint), data={"token": token, "token_type_hint": "access_token"}, auth=self._client
        )
        answer.raise_for_status()
        claims: dict[str, Any] = answer.json()
        if claims.get("active") is not True:
            raise Refused("the issuer says it is not active")
        audiences = claims.get("aud")
        if self._audience not in (audiences if isinstance(audiences, list) else [audiences]):
            raise Refused(f"issued for {echo(repr(audiences))}, not {self._audience!r}")
        if claims.get("iss", self._issuer) != self._issuer:
            raise Refused(f"issued by {echo(str(claims.get('iss')))!r}")
        if not isinstance(claims.get("exp"), int) or claims["exp"] <= time.time():
            raise Refused("expired, or without an expiry")
        return claims

    async def _issuer_metadata(self) -> dict[str, Any]:
        """The issuer's metadata (RFC 8414, else OpenID discovery), read once; its `issuer` must match."""
        if self._metadata is None:
            base = self._issuer.rstrip("/")
            for path in ("/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"):
                answer = await self._client_http().get(base + path)
                if answer.status_code == 200:
                    metadata: dict[str, Any] = answer.json()
                    if metadata.get("issuer") != self._issuer:
                        raise ValueError(f"its metadata names the issuer {metadata.get('issuer')!r}")
                    self._metadata = metadata
                    break
            else:
                raise ValueError("it publishes no authorization server metadata")
        return self._metadata

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    def _client_http(self) -> httpx2.AsyncClient:
        if self._http is None:
            self._http = httpx2.AsyncClient(timeout=TIMEOUT_SECONDS)
        return self._http


def scopes_of(claims: dict[str, Any]) -> list[str]:
    """`scope` as a space-separated string (RFC 9068, introspection) or `scp` as a list (some providers)."""
    scope = claims.get("scope", claims.get("scp", ""))
    return [str(s) for s in scope] if isinstance(scope, list) else str(scope).split()


def static_token(scope: str, admin_scope: str) -> AccessToken:
    """SEEDANCE_HTTP_TOKEN as a principal: one identity for the whole team, which sees every job."""
    return AccessToken(
        token=STATIC_SUBJECT,  # the secret itself is kept nowhere but the settings
        client_id=STATIC_SUBJECT,
        subject=STATIC_SUBJECT,
        scopes=[s for s in (scope, admin_scope) if s],
    )


def protected_resource(settings: Settings) -> tuple[AuthSettings, IssuerTokens]:
    """What MCPServer needs to be a protected resource of the configured issuer: it then answers 401/403
    with `WWW-Authenticate` and serves its metadata at /.well-known/oauth-protected-resource/mcp (RFC 9728)."""
    assert settings.oauth_issuer and settings.oauth_resource
    # Validated from strings, so that a URL without a path keeps it empty: an issuer is compared exactly.
    auth = AuthSettings.model_validate(
        {
            "issuer_url": settings.oauth_issuer,
            "resource_server_url": settings.oauth_resource,
            "required_scopes": [settings.oauth_scope] if settings.oauth_scope else None,
            "validate_token_resource": False,  # IssuerTokens checks the audience itself
        }
    )
    return auth, IssuerTokens(settings)


def publish_bare_metadata(mcp: MCPServer[Any], auth: AuthSettings) -> None:
    """The SDK's metadata route served again at the bare /.well-known/oauth-protected-resource, for clients
    that look only there."""
    assert auth.resource_server_url is not None
    (route,) = create_protected_resource_routes(auth.resource_server_url, [auth.issuer_url], auth.required_scopes)
    mcp.custom_route("/.well-known/oauth-protected-resource", ["GET", "OPTIONS"], include_in_schema=False)(
        route.endpoint
    )
