"""What an operator runs a team server with: probes, draining, limits per person, metrics, traces and logs.

Each is its own module; `server.transport.http` mounts the probes and drains on SIGTERM, and the app puts the
middleware in front of every call. Over stdio none of it changes anything unless a setting asks for it.
"""
