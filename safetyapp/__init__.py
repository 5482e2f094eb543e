"""safetyapp: layered firearm safety checks for film sets."""

__version__ = "0.1.0"
