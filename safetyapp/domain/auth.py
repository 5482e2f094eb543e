"""PINs: salted scrypt hashes, constant-time comparison. Pure: the caller supplies the salt."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

PIN_MIN_DIGITS = 4
PIN_MAX_DIGITS = 12
MAX_FAILURES = 5
LOCKOUT_MINUTES = 5

# scrypt cost: ~16 MiB and tens of ms per check, so a stolen store cannot be brute-forced cheaply.
_N, _R, _P = 2**14, 8, 1


def pin_problem(pin: str) -> str | None:
    """Why a new PIN is not acceptable, or None."""
    if not pin.isascii() or not pin.isdigit():
        return "a PIN is digits only"
    if not PIN_MIN_DIGITS <= len(pin) <= PIN_MAX_DIGITS:
        return f"a PIN has {PIN_MIN_DIGITS} to {PIN_MAX_DIGITS} digits"
    return None


def hash_pin(pin: str, salt: bytes, *, n: int = _N) -> dict[str, Any]:
    """The stored form of a PIN, kept in the credentials file beside the store (never in the
    record). `id` names it in the record's `crew-pin-set`/`crew-added` event: a one-way tag of
    the salt, so the record says which PIN is current without holding the salt or hash.
    `n` is lowered only by tests, to keep them fast."""
    digest = hashlib.scrypt(pin.encode(), salt=salt, n=n, r=_R, p=_P, dklen=32)
    return {
        "id": pin_id(salt, digest),
        "alg": "scrypt",
        "n": n,
        "r": _R,
        "p": _P,
        "salt": salt.hex(),
        "hash": digest.hex(),
    }


def pin_id(salt: bytes, digest: bytes) -> str:
    """A one-way tag of a PIN record: names it without revealing its salt or hash."""
    return hashlib.sha256(b"safetyapp-pin-id:" + salt + digest).hexdigest()[:16]


def check_pin(pin: str, record: dict[str, Any] | None) -> bool:
    if record is None or record.get("alg") != "scrypt":
        return False
    digest = hashlib.scrypt(
        pin.encode(),
        salt=bytes.fromhex(record["salt"]),
        n=int(record["n"]),
        r=int(record["r"]),
        p=int(record["p"]),
        dklen=32,
    )
    return hmac.compare_digest(digest.hex(), record["hash"])
