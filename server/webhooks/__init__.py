"""The hosts calling the server back when a job ends, and how each call is proven to be the host's own.

Nothing a delivery says is believed before it is verified: fal's by its Ed25519 signature, Runflow's by its
HMAC, and ModelArk's, which is unsigned, only by asking ModelArk itself.
"""

import hashlib


def hook_digest(token: str) -> str:
    """What the ledger keeps of a job's webhook token: enough to find the job, not to call back as its host."""
    return hashlib.sha256(token.encode()).hexdigest()


class Refused(Exception):
    """A delivery that is not provably the host's; the message says why, for the log, and holds nothing it sent."""
