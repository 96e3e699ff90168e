"""Serving over HTTP, and the HTTP client the providers share."""
