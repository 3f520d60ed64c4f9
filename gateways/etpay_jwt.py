"""The JWT ETpay signs a payment's outcome with: HS256 keyed by the session's
`signature_token`. No Odoo imports, no JWT library: three base64url parts and
one HMAC are all there is, and a smaller surface accepts fewer tricks.

Verification is in two steps because the key depends on the session: read the
claims *without trusting them* to find the session, then verify with its key.
"""

import base64
import binascii
import hashlib
import hmac
import json

ALGORITHM = "HS256"
# Clocks differ between ETpay and us: an `exp` a little in the past still passes.
EXPIRY_LEEWAY_SECONDS = 300
MAX_LENGTH = 8192  # a payment JWT is a few hundred bytes


class JwtError(Exception):
    """The token is refused; `reason` is safe to log (it never contains the token)."""

    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason


class MalformedJwt(JwtError):
    """Not a compact JWS at all: three base64url parts with JSON header and claims."""


class ForgedJwt(JwtError):
    """Well-formed, but not signed by ETpay for this session, or no longer valid."""


def _b64decode(part):
    try:
        return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
    except (binascii.Error, ValueError) as error:
        raise MalformedJwt("a part is not base64url") from error


def _json_object(raw, what):
    try:
        value = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        raise MalformedJwt(f"the {what} is not JSON") from error
    if not isinstance(value, dict):
        raise MalformedJwt(f"the {what} is not a JSON object")
    return value


def _split(token):
    if not isinstance(token, str) or not token or len(token) > MAX_LENGTH:
        raise MalformedJwt("no token, or an oversized one")
    parts = token.strip().split(".")
    if len(parts) != 3:
        raise MalformedJwt("a JWT has three parts")
    return parts


def unverified_claims(token):
    """The claims, NOT verified: only to find which session's key verifies them."""
    _header, payload, _signature = _split(token)
    return _json_object(_b64decode(payload), "claims")


def verify(token, key, now):
    """Return the claims of `token` if it is HS256-signed with `key`; raise JwtError.

    Only HS256 is accepted, whatever the header asks for: `alg: none`, RS256
    with the key as a "public key", and every other trick fail here.
    """
    header_b64, payload_b64, signature_b64 = _split(token)
    header = _json_object(_b64decode(header_b64), "header")
    if header.get("alg") != ALGORITHM:
        raise ForgedJwt(f"algorithm {str(header.get('alg'))[:20]!r} refused; only HS256")
    if not key:
        raise ForgedJwt("the session has no signature token")
    expected = hmac.new(
        key.encode("utf-8"), f"{header_b64}.{payload_b64}".encode("ascii"), hashlib.sha256
    ).digest()
    if not hmac.compare_digest(expected, _b64decode(signature_b64)):
        raise ForgedJwt("bad signature")
    claims = _json_object(_b64decode(payload_b64), "claims")
    exp = claims.get("exp")
    if exp is not None:
        if not isinstance(exp, int | float) or isinstance(exp, bool):
            raise ForgedJwt("unreadable exp claim")
        if now > exp + EXPIRY_LEEWAY_SECONDS:
            raise ForgedJwt("expired")
    return claims
