"""A soft synthesized sound bed: a slow chord over a breath of filtered noise, never silence.

Seeded, so the same job sounds the same. 48 kHz stereo, as planar float for the AAC encoder.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

SAMPLE_RATE = 48_000
FADE_SECONDS = 0.6
PEAK = 0.3


def sound_bed(seconds: float, seed: int) -> NDArray[np.float32]:
    """Shape (2, samples): left and right."""
    rng = np.random.default_rng(seed)
    n = round(seconds * SAMPLE_RATE)
    t = np.arange(n, dtype=np.float64) / SAMPLE_RATE
    root = 110.0 * 2 ** (int(rng.integers(0, 12)) / 12)
    third = 1.25 if rng.random() < 0.5 else 1.2
    channels = []
    for side in (0, 1):
        pad = np.zeros(n)
        for ratio, gain in ((1.0, 1.0), (third, 0.6), (1.5, 0.5), (2.0, 0.3)):
            swell = 0.6 + 0.4 * np.sin(2 * np.pi * rng.uniform(0.05, 0.2) * t + rng.uniform(0, 2 * np.pi))
            detune = 1 + (0.0015 if side else -0.0015)
            pad += gain * swell * np.sin(2 * np.pi * root * ratio * detune * t + rng.uniform(0, 2 * np.pi))
        spectrum = np.fft.rfft(rng.normal(size=n))
        spectrum[np.fft.rfftfreq(n, 1 / SAMPLE_RATE) > 700] = 0  # a low wind, not hiss
        wind = np.fft.irfft(spectrum, n)
        channels.append(pad / 2.4 + 0.8 * wind / (np.abs(wind).max() + 1e-9))
    stereo = np.stack(channels)
    fade = min(FADE_SECONDS, seconds / 4)
    envelope = np.clip(np.minimum(t / fade, (seconds - t) / fade), 0, 1)
    stereo *= envelope
    stereo *= PEAK / (np.abs(stereo).max() + 1e-9)
    return stereo.astype(np.float32)
