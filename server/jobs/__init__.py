"""Jobs: the ledger that is their source of truth, the watchers that follow them, how they look, and their progress."""
