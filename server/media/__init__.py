"""Media files: inputs put where a host can read them, videos saved with their posters, and films."""
