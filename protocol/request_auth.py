"""A device proves each request it makes (pull today): an Ed25519 signature by its enrolled key over the method,
path, query, a timestamp and the body's hash, fresh within a window (replays of old requests are refused).

The server answers a revoked device with a crypto-shred instruction that only the pinned server can make: an
HMAC under a key agreed by X25519 between the server's key and the device's enrolled agreement key, so a forged
answer cannot make a device destroy its data.
"""
from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from protocol.codes import ErrorCode
from protocol.errors import HealthSyncError

HEADER_DEVICE = "X-HealthSync-Device"
HEADER_TIME = "X-HealthSync-Time"  # unix milliseconds
HEADER_SIGNATURE = "X-HealthSync-Signature"  # hex Ed25519 signature
FRESHNESS_MS = 5 * 60 * 1000  # a request more than 5 minutes off the server's clock is refused
_REQUEST_DOMAIN = b"healthsync-request-v1"
_SHRED_INFO = b"healthsync-shred-v1"


class RequestProofError(HealthSyncError):
    """A device request without a valid proof: missing, stale, badly signed, or from an unknown device."""

    code = ErrorCode.DEVICE_PROOF_INVALID
    http_status = 401

    def __init__(self, message: str, *, code: str, http_status: int = 401, hint: str | None = None):
        super().__init__(message, hint=hint)
        self.code = ErrorCode(code)  # one of the registry's DEVICE_* codes
        self.http_status = http_status


@dataclass(frozen=True)
class RequestProof:
    """What a request claims about its device, and what the signature covers."""

    device_id: str | None
    timestamp: str | None
    signature: str | None
    method: str
    path: str
    query: bytes
    body: bytes

    def message(self) -> bytes:
        """The signed text: domain, method, path, query, timestamp, device and the body's SHA-256, one per line."""
        return b"\n".join([_REQUEST_DOMAIN, self.method.upper().encode(), self.path.encode(), self.query,
                           (self.timestamp or "").encode(), (self.device_id or "").encode(),
                           hashlib.sha256(self.body).hexdigest().encode()])


def sign_request(key: Ed25519PrivateKey, device_id: str, method: str, path: str, query: bytes, body: bytes = b"",
                 now_ms: int | None = None) -> dict[str, str]:
    """The three headers that prove this request comes from the device."""
    ts = str(int(time.time() * 1000) if now_ms is None else now_ms)
    proof = RequestProof(device_id, ts, None, method, path, query, body)
    return {HEADER_DEVICE: device_id, HEADER_TIME: ts, HEADER_SIGNATURE: key.sign(proof.message()).hex()}


def check_fresh(proof: RequestProof, now_ms: int | None = None) -> None:
    """Refuse a request whose timestamp is missing, malformed or outside the freshness window."""
    now = int(time.time() * 1000) if now_ms is None else now_ms
    try:
        ts = int(proof.timestamp or "")
    except ValueError:
        raise RequestProofError(f"{HEADER_TIME} must be unix milliseconds", code="DEVICE_PROOF_MISSING") from None
    if abs(now - ts) > FRESHNESS_MS:
        raise RequestProofError("the request's timestamp is outside the 5-minute window (replayed, or the device's "
                                "clock is off)", code="DEVICE_PROOF_STALE",
                                hint="the client retries once with the server's time")


def check_signature(proof: RequestProof, public_key: bytes) -> None:
    """Refuse a request not signed by this device's enrolled Ed25519 key."""
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(bytes.fromhex(proof.signature or ""), proof.message())
    except (InvalidSignature, ValueError):
        raise RequestProofError("the request's signature does not verify with this device's key",
                                code="DEVICE_BAD_SIGNATURE") from None


def _shred_key(private: X25519PrivateKey, peer_public: bytes) -> bytes:
    shared = private.exchange(X25519PublicKey.from_public_bytes(peer_public))
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_SHRED_INFO).derive(shared)


def shred_instruction(server_key: X25519PrivateKey, device_agreement_key: bytes, device_id: str,
                      now_ms: int | None = None) -> dict[str, str]:
    """The server's order to a revoked device to destroy its store key, authenticated for that device alone."""
    issued = str(int(time.time() * 1000) if now_ms is None else now_ms)
    mac = hmac.new(_shred_key(server_key, device_agreement_key), f"{device_id}|{issued}".encode(), "sha256")
    return {"device_id": device_id, "issued_at": issued, "mac": mac.hexdigest()}


def verify_shred(instruction: dict | None, device_key: X25519PrivateKey, server_public_key: bytes, device_id: str,
                 now_ms: int | None = None) -> bool:
    """True when the instruction was made by the pinned server for this device within the freshness window."""
    if not isinstance(instruction, dict) or instruction.get("device_id") != device_id:
        return False
    try:
        issued = int(str(instruction.get("issued_at")))
    except ValueError:
        return False
    now = int(time.time() * 1000) if now_ms is None else now_ms
    if abs(now - issued) > FRESHNESS_MS:
        return False
    mac = hmac.new(_shred_key(device_key, server_public_key), f"{device_id}|{issued}".encode(), "sha256")
    return hmac.compare_digest(mac.hexdigest(), str(instruction.get("mac", "")))
