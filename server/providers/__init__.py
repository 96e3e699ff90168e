"""Video providers behind one small interface (`Provider` in `base.py`).

Tools, the ledger, pricing and progress only ever see that interface; each host lives in its own module.
"""

from server.providers.base import CancelOutcome, Output, Provider, StatusUpdate, Submission

__all__ = ["CancelOutcome", "Output", "Provider", "StatusUpdate", "Submission"]
