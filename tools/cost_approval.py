"""Asking before a costly job: the user through MCP elicitation where the client can ask, else the model.

The question is the last step before paying: after the arguments, files and spending limits are checked
and after an identical earlier job would have been returned, so nobody is asked about a job that would
be refused or that costs nothing. On a 2025 connection the server asks in the middle of the call; on a
2026-07-28 one it cannot, so the call returns the question (`input_required`) and the client calls again
with the answer. A client that cannot ask gets a tool error with the price, and the call goes through
once it is made again with `confirm_cost=true`. Where the client can ask, the user answers whatever
`confirm_cost` says: the model cannot approve spending for them.
"""

from __future__ import annotations

import hashlib
from typing import Any, Literal

import anyio
from mcp.server.elicitation import AcceptedElicitation, render_elicitation_schema
from mcp.server.mcpserver import Context
from mcp_types import ElicitRequest, ElicitRequestFormParams, ElicitResult, InputRequiredResult
from mcp_types.version import is_version_at_least
from pydantic import BaseModel, Field, ValidationError

from server.catalog import DRAFT_COMPLETION, MODEL_SPECS, Model
from server.errors import SeedanceError
from server.money.pricing import Estimate, dollars

ApprovedBy = Literal["user", "confirm_cost"]
QUESTION_KEY = "approve_cost"
ASK_SECONDS = 600.0  # a dialog nobody answers ends as a no
INPUT_REQUIRED_VERSION = "2026-07-28"


class SpendApproval(BaseModel):
    """The form the user sees: one box, ticked, so accepting the dialog is the yes."""

    approve: bool = Field(default=True, title="Pay for this video", description="Untick to cancel.")


class CostNotApproved(SeedanceError):
    """Raised when the user said no, or when nobody could be asked and confirm_cost was not given."""


class AnswerNeeded(Exception):
    """Raised to end the call with the question, for the client to answer and call again (2026-07-28)."""

    def __init__(self, result: InputRequiredResult) -> None:
        self.result = result
        super().__init__("the client must answer the cost question")


def question(estimate: Estimate, mode: str, resolution: str, model: Model) -> str:
    low, high = estimate.min_seconds, estimate.max_seconds
    length = f"{low} s" if low == high else f"{low}-{high} s"
    unconfirmed = "" if estimate.price_confirmed else " at most (the host's price at this size is unconfirmed)"
    cost = f"It costs {dollars(estimate.min_usd, estimate.max_usd)}{unconfirmed}, billed to your account."
    if mode == DRAFT_COMPLETION:
        return f"Finish this {MODEL_SPECS[model].label} draft at {resolution} ({length})? {cost}"
    return f"Generate this {MODEL_SPECS[model].label} video ({mode}, {resolution}, {length})? {cost}"


def can_elicit(ctx: Context[Any]) -> bool:
    """Whether the client declared form elicitation (a bare `elicitation: {}` means form)."""
    elicitation = ctx.client_capabilities.elicitation if ctx.client_capabilities is not None else None
    return elicitation is not None and (elicitation.form is not None or elicitation.url is None)


def cheaper(mode: str) -> str:
    """What would cost less, for the model to offer the person."""
    if mode == DRAFT_COMPLETION:
        return "the draft itself is already made, and a shorter draft costs less to finish"
    return 'a fixed duration such as "5", a shorter clip, 480p, or model seedance-2.0-mini cost less'


async def approve(
    ctx: Context[Any], estimate: Estimate, asked: str, *, threshold: float, confirm_cost: bool, mode: str
) -> ApprovedBy:
    """Return who approved a job above the threshold, or raise: `CostNotApproved`, or `AnswerNeeded`."""
    cost = dollars(estimate.min_usd, estimate.max_usd)
    if can_elicit(ctx):
        accepted = await _ask_user(ctx, asked)
        if not accepted:
            raise CostNotApproved(
                f"The user did not approve the cost of this video ({cost}), so nothing was submitted or charged. "
                f"Do not retry the same call; ask the user what they want instead ({cheaper(mode)})."
            )
        return "user"
    if confirm_cost:
        return "confirm_cost"
    raise CostNotApproved(
        f"This job may cost {cost}, above this server's confirmation threshold of ${threshold:.2f} "
        "(SEEDANCE_CONFIRM_ABOVE_USD), and this client cannot ask the user itself. Nothing was submitted or "
        f"charged. Tell the user the price ({cost}) and, only if they agree, call again with the same arguments "
        f"and confirm_cost=true; or ask for less ({cheaper(mode)})."
    )


async def _ask_user(ctx: Context[Any], asked: str) -> bool:
    version = ctx.protocol_version
    if version is None or not is_version_at_least(version, INPUT_REQUIRED_VERSION):
        with anyio.move_on_after(ASK_SECONDS):
            outcome = await ctx.elicit(asked, SpendApproval)
            return isinstance(outcome, AcceptedElicitation) and outcome.data.approve
        return False
    # The framework seals request_state, so a digest of the question there proves this answer is to it.
    digest = hashlib.sha256(asked.encode()).hexdigest()
    answer = (ctx.input_responses or {}).get(QUESTION_KEY)
    if isinstance(answer, ElicitResult) and ctx.request_state == digest:
        if answer.action != "accept":
            return False
        try:
            return SpendApproval.model_validate(answer.content or {}).approve
        except ValidationError:
            return False
    request = ElicitRequest(
        params=ElicitRequestFormParams(message=asked, requested_schema=render_elicitation_schema(SpendApproval))
    )
    raise AnswerNeeded(InputRequiredResult(input_requests={QUESTION_KEY: request}, request_state=digest))
