"""The offline preview renderer: real MP4s from the same inputs, made on this machine in seconds.

It stands in for Seedance so the whole flow can be tried without a key, network or cost. Nothing here
imports PyAV, NumPy or Pillow at module level beyond `render.py`, which the local provider imports only
when the first preview is rendered, so the server starts as fast without it.
"""
