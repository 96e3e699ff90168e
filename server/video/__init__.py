"""Reading and joining finished videos on this machine: frames, facts, contact sheets and films.

Everything here is local work with PyAV: free, and never sent anywhere. PyAV, Pillow and numpy are
imported by the modules that use them, only when a video is read, so the server starts without them.
"""

from typing import Literal

Transition = Literal["cut", "fade"]
Blank = Literal["black", "flat"]  # a frame that shows nothing: near black, or one flat colour
