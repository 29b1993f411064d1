"""RFC 6238 time-based one-time passwords, with the parameters every authenticator app supports.

Pure computation: which time step (if any) a code belongs to. What to accept — drift window,
replay, throttling — is decided by `sfs.services.identity.second_factor`.
"""

from __future__ import annotations

import base64
import hmac
from datetime import datetime

import pyotp

SECRET_BYTES = 20  # 160 bits, as RFC 4226 recommends
DIGITS = 6
PERIOD_SECONDS = 30
ISSUER = "Secure File Sync"


def new_secret(random_bytes: bytes) -> str:
    """The shared secret in base32, the form apps and otpauth:// URIs use."""
    if len(random_bytes) < SECRET_BYTES:
        raise ValueError(f"a TOTP secret needs {SECRET_BYTES} random bytes")
    return base64.b32encode(random_bytes[:SECRET_BYTES]).decode().rstrip("=")


def provisioning_uri(secret: str, *, account: str, issuer: str = ISSUER) -> str:
    return _totp(secret).provisioning_uri(name=account, issuer_name=issuer)


def grouped(secret: str, size: int = 4) -> str:
    """'JBSW Y3DP …': easier to type into an app by hand."""
    return " ".join(secret[i : i + size] for i in range(0, len(secret), size))


def time_step(moment: datetime) -> int:
    return int(moment.timestamp()) // PERIOD_SECONDS


def code_at_step(secret: str, step: int) -> str:
    return _totp(secret).generate_otp(step)


def matching_step(secret: str, code: str, *, now: datetime, window: int) -> int | None:
    """The time step within ±window of now whose code equals `code`, nearest first; else None."""
    code = normalize_code(code)
    if len(code) != DIGITS or not code.isdigit():
        return None
    current = time_step(now)
    for offset in sorted(range(-window, window + 1), key=abs):
        if hmac.compare_digest(code_at_step(secret, current + offset), code):
            return current + offset
    return None


def normalize_code(code: str) -> str:
    return code.replace(" ", "").replace("-", "").strip()


def _totp(secret: str) -> pyotp.TOTP:
    return pyotp.TOTP(secret, digits=DIGITS, interval=PERIOD_SECONDS)
