"""Camera moves read from the prompt, as a crop window over the picture for each moment of the clip.

Every move starts on the whole picture (so the first frame is the input image) and eases into its
motion: pan and tilt slide a tightening window toward an edge, zoom/dolly in tighten on the centre,
zoom/dolly out shrink the picture into a blurred surround, orbit turns slowly while drifting. With no
move named, the camera makes a slow push-in.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Literal

Move = Literal["push_in", "pull_out", "pan_left", "pan_right", "tilt_up", "tilt_down", "orbit"]

# First match wins; order puts the specific phrases before the general ones.
PATTERNS: list[tuple[Move, str]] = [
    ("pull_out", r"\b(zoom(s|ing)? out|dolly(ing)? out|pull(s|ing)? (back|out)|dolly back)\b"),
    ("push_in", r"\b(zoom(s|ing)? in|dolly(ing)? in|push(es|ing)?[- ]in|close[- ]up)\b"),
    ("orbit", r"\b(orbit(s|ing)?|circl(e|es|ing) around|arc shot|360)\b"),
    ("pan_left", r"\bpan(s|ning)? (to the )?left\b"),
    ("pan_right", r"\bpan(s|ning)?( to the right| right)?\b"),
    ("tilt_up", r"\btilt(s|ing)? up\b"),
    ("tilt_down", r"\btilt(s|ing)?( down)?\b"),
    ("push_in", r"\b(zoom|dolly)\b"),
]

TIGHTEST = 0.8  # the window's size at the end of a move, as a share of the picture
ORBIT_DEGREES = 4.0  # with ORBIT_DRIFT, small enough that the turned window stays inside every ratio's picture
ORBIT_DRIFT = 0.4  # share of the free room the orbit drifts sideways


def camera_move(prompt: str) -> Move:
    text = prompt.lower()
    for move, pattern in PATTERNS:
        if re.search(pattern, text):
            return move
    return "push_in"


def ease(t: float) -> float:
    """Smoothstep: starts and ends at rest."""
    t = min(max(t, 0.0), 1.0)
    return t * t * (3 - 2 * t)


@dataclass(frozen=True)
class View:
    """What the camera sees at one moment: a window `scale` of the picture centred at (cx, cy), turned by
    `angle` degrees. `scale` above 1 means the whole picture is shown smaller inside the frame."""

    cx: float
    cy: float
    scale: float
    angle: float = 0.0


def view_at(move: Move, t: float) -> View:
    e = ease(t)
    tighten = 1 - (1 - TIGHTEST) * e
    room = (1 - tighten) / 2  # how far the window's centre may move before it leaves the picture
    match move:
        case "pan_left":
            return View(0.5 - room, 0.5, tighten)
        case "pan_right":
            return View(0.5 + room, 0.5, tighten)
        case "tilt_up":
            return View(0.5, 0.5 - room, tighten)
        case "tilt_down":
            return View(0.5, 0.5 + room, tighten)
        case "pull_out":
            return View(0.5, 0.5, 1 + (1 / TIGHTEST - 1) * e)
        case "orbit":
            return View(0.5 + ORBIT_DRIFT * room * math.sin(math.pi * e), 0.5, tighten, angle=ORBIT_DEGREES * e)
        case _:
            return View(0.5, 0.5, tighten)
