"""The layers of the house, lowest first, as data: the architecture page is drawn from them
(`python -m scripts.reference`), and `tests/test_packaging.py` holds every import to them.

A module belongs to the longest name that holds it, and may import from its own layer and any below.
"""

from __future__ import annotations

LAYERS: tuple[tuple[str, tuple[str, ...], str], ...] = (
    (
        "leaves",
        (
            "server",
            "server.errors",
            "server.settings",
            "server.setting_values",
            "server.metrics",
            "server.variables",
            "server.folders",
            "server.starting",
        ),
        "version, errors, settings, the folders written to, what is counted",
    ),
    ("the API's words", ("server.catalog",), "models, enums, endpoints, what each host takes"),
    ("the ledger", ("server.ledger",), "jobs, films and budgets on SQLite or PostgreSQL"),
    ("trust", ("server.trust",), "who is asking, which files and addresses they may name"),
    ("webhooks", ("server.webhooks",), "how each host's call back is proven its own"),
    ("inputs", ("server.inputs",), "checking arguments and media before anything is sent"),
    ("video", ("server.preview", "server.video"), "drawing previews, reading and joining MP4s"),
    ("providers", ("server.providers",), "fal, Runflow, ModelArk and the offline preview, behind one interface"),
    ("money", ("server.money",), "prices and spending limits"),
    ("media", ("server.media",), "uploads, saved videos, earlier jobs turned into files"),
    ("jobs", ("server.jobs",), "following, waiting on and taking over jobs; how a job looks"),
    ("state", ("server.state",), "what one running server holds"),
    (
        "features",
        ("server.card", "server.tasks", "server.films", "server.resources", "server.completions", "server.prompts"),
        "the job card, MCP tasks, films, resources, completion, prompts",
    ),
    ("tools", ("tools",), "one tool a module"),
    (
        "serving",
        (
            "server.operations",
            "server.transport",
            "server.app",
            "server.cli",
            "server.demo",
            "server.__main__",
        ),
        "operations, assembly, the command, stdio and streamable HTTP, sign-in, the demo",
    ),
)
# The imports allowed to point up, each with its reason (the README's layout section names them too).
UPWARD = {
    (
        "server.setting_values",
        "server.trust.addresses",
    ): "hosts in settings are spelled as the trust guard compares them, "
    "by its one parser, imported when such a setting is read",
}
