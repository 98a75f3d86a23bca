"""Paper-independent physics: small pure functions, SI units, unit in every name.

Submodules (import them explicitly; this package re-exports nothing so that
systems can add modules without touching a shared file):

- :mod:`.units`      dB / dBm / W conversions, physical constants
- :mod:`.geometry`   distances, hexagon membership
- :mod:`.channels`   free-space and log-distance path gain, Rician fading samples
- :mod:`.radar`      radar equation, Curry's range standard deviation
- :mod:`.metrics`    Shannon rate, SINR helpers
"""
