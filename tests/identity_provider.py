"""A real OpenID Connect provider (panva's oidc-provider, tests/oidc) in its own Node.js process.

Its people are clients with the client credentials grant, so a token's subject is the client's id:
alice and bob (scope "seedance"), admin (also "seedance:admin"), carol (asks for no scope), brief (tokens
that expire in 2 s), opaque (tokens that are not JWTs, checked by introspection), person-1 to person-10 (like bob, for
measurements that need a person each time) and seedance-mcp, the server itself, which introspects.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx2

from tests.conftest import npm_ci

FOLDER = Path(__file__).parent / "oidc"
START_SECONDS = 30.0
LISTENING = re.compile(r"oidc-provider listening at (http://127\.0\.0\.1:\d+)")


def secret(client: str) -> str:
    return f"{client}-secret-0123456789abcdef"


class IdentityProvider:
    def __init__(self, issuer: str) -> None:
        self.issuer = issuer
        self.resource = ""  # the MCP server's URL, once it has one: the audience of the tokens asked for

    def token(self, client: str, scope: str | None = "seedance", resource: str | None = None) -> str:
        """An access token for `client`, as its app would get one from the token endpoint."""
        form = {"grant_type": "client_credentials", "resource": resource or self.resource}
        if scope is not None:
            form["scope"] = scope
        answer = httpx2.post(f"{self.issuer}/token", data=form, auth=(client, secret(client)), timeout=30)
        assert answer.status_code == 200, answer.text
        return str(answer.json()["access_token"])


@contextmanager
def identity_provider(other_resource: str) -> Iterator[IdentityProvider]:
    """The provider, once it listens on the port it bound, issuing tokens for MCP servers on this machine
    and for `other_resource` (the wrong one)."""
    node = shutil.which("node")
    assert node, "the sign-in tests need Node.js"
    npm_ci(FOLDER, ("oidc-provider",))
    process = subprocess.Popen(
        [node, "provider.mjs", other_resource], cwd=FOLDER, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        assert process.stdout is not None
        seen = []
        for line in process.stdout:  # waits for the line that says it listens, or for the end of its output
            seen.append(line)
            if listening := LISTENING.search(line):
                break
        else:
            process.wait(timeout=START_SECONDS)
            raise AssertionError(f"the identity provider stopped before it listened:\n{''.join(seen)}")
        drain = threading.Thread(target=process.stdout.read, daemon=True)  # what it says later goes nowhere
        drain.start()
        yield IdentityProvider(listening[1])
    finally:
        process.terminate()
        process.wait(timeout=START_SECONDS)
        if process.stdout is not None:
            process.stdout.close()
