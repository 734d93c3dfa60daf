"""EWS authentication of the sandbox Exchange server (a test double): Basic and NTLM (v2 only), as IIS does it.

NTLM is connection oriented, as on IIS: a NEGOTIATE / CHALLENGE / AUTHENTICATE exchange on
one keep-alive connection authenticates that connection. The AUTHENTICATE message is
checked by recomputing the NTLMv2 proof ([MS-NLMP] 3.3.2) from the configured password;
NTLMv1 and anonymous logons are refused, as a hardened Exchange server does. The MIC and
session security are not checked (HTTP carries no signed or sealed payload).
"""

from __future__ import annotations

import base64
import hmac
import os
import struct
import time
from dataclasses import dataclass

from exchange_sandbox.config import SandboxConfig, UserConfig

_SIGNATURE = b"NTLMSSP\x00"

# Negotiate flags the sandbox offers ([MS-NLMP] 2.2.2.5).
_UNICODE = 0x00000001
_REQUEST_TARGET = 0x00000004
_SIGN = 0x00000010
_SEAL = 0x00000020
_NTLM = 0x00000200
_ALWAYS_SIGN = 0x00008000
_TARGET_TYPE_DOMAIN = 0x00010000
_EXTENDED_SESSION_SECURITY = 0x00080000
_TARGET_INFO = 0x00800000
_VERSION = 0x02000000
_128 = 0x20000000
_KEY_EXCH = 0x40000000
_56 = 0x80000000


def _md4(data: bytes) -> bytes:
    """MD4 (RFC 1320); OpenSSL 3 no longer offers it through hashlib, NTLM still needs it."""

    def rotl(x: int, n: int) -> int:
        x &= 0xFFFFFFFF
        return ((x << n) | (x >> (32 - n))) & 0xFFFFFFFF

    msg = data + b"\x80" + b"\x00" * ((55 - len(data)) % 64) + struct.pack("<Q", len(data) * 8)
    a, b, c, d = 0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476
    for chunk in range(0, len(msg), 64):
        x = list(struct.unpack("<16I", msg[chunk : chunk + 64]))
        aa, bb, cc, dd = a, b, c, d

        def f(x_: int, y: int, z: int) -> int:
            return (x_ & y) | (~x_ & z)

        def g(x_: int, y: int, z: int) -> int:
            return (x_ & y) | (x_ & z) | (y & z)

        def h(x_: int, y: int, z: int) -> int:
            return x_ ^ y ^ z

        for i in range(16):
            k, s = i, (3, 7, 11, 19)[i % 4]
            if i % 4 == 0:
                a = rotl(a + f(b, c, d) + x[k], s)
            elif i % 4 == 1:
                d = rotl(d + f(a, b, c) + x[k], s)
            elif i % 4 == 2:
                c = rotl(c + f(d, a, b) + x[k], s)
            else:
                b = rotl(b + f(c, d, a) + x[k], s)
        for i in range(16):
            k, s = (i % 4) * 4 + i // 4, (3, 5, 9, 13)[i % 4]
            if i % 4 == 0:
                a = rotl(a + g(b, c, d) + x[k] + 0x5A827999, s)
            elif i % 4 == 1:
                d = rotl(d + g(a, b, c) + x[k] + 0x5A827999, s)
            elif i % 4 == 2:
                c = rotl(c + g(d, a, b) + x[k] + 0x5A827999, s)
            else:
                b = rotl(b + g(c, d, a) + x[k] + 0x5A827999, s)
        order = (0, 8, 4, 12, 2, 10, 6, 14, 1, 9, 5, 13, 3, 11, 7, 15)
        for i in range(16):
            k, s = order[i], (3, 9, 11, 15)[i % 4]
            if i % 4 == 0:
                a = rotl(a + h(b, c, d) + x[k] + 0x6ED9EBA1, s)
            elif i % 4 == 1:
                d = rotl(d + h(a, b, c) + x[k] + 0x6ED9EBA1, s)
            elif i % 4 == 2:
                c = rotl(c + h(d, a, b) + x[k] + 0x6ED9EBA1, s)
            else:
                b = rotl(b + h(c, d, a) + x[k] + 0x6ED9EBA1, s)
        a, b, c, d = (
            (a + aa) & 0xFFFFFFFF,
            (b + bb) & 0xFFFFFFFF,
            (c + cc) & 0xFFFFFFFF,
            (d + dd) & 0xFFFFFFFF,
        )
    return struct.pack("<4I", a, b, c, d)


def ntowfv2(password: str, user: str, domain: str) -> bytes:
    nt_hash = _md4(password.encode("utf-16-le"))
    return hmac.digest(nt_hash, (user.upper() + domain).encode("utf-16-le"), "md5")


@dataclass
class NtlmState:
    """Per-connection NTLM progress: the challenge sent, then the authenticated user."""

    challenge: bytes | None = None
    user: UserConfig | None = None


def _av_pair(av_id: int, value: bytes) -> bytes:
    return struct.pack("<HH", av_id, len(value)) + value


def build_challenge(config: SandboxConfig, negotiate: bytes, state: NtlmState) -> bytes:
    """CHALLENGE_MESSAGE answering a NEGOTIATE_MESSAGE; remembers the server challenge."""
    client_flags = struct.unpack("<I", negotiate[12:16])[0] if len(negotiate) >= 16 else 0
    flags = (
        _UNICODE
        | _REQUEST_TARGET
        | _NTLM
        | _ALWAYS_SIGN
        | _TARGET_TYPE_DOMAIN
        | _EXTENDED_SESSION_SECURITY
        | _TARGET_INFO
        | _VERSION
        | _128
        | _56
    ) | (client_flags & (_SIGN | _SEAL | _KEY_EXCH))
    challenge = os.urandom(8)
    state.challenge = challenge
    domain = config.domain.encode("utf-16-le")
    computer = b"SANDBOX-EX01".decode().encode("utf-16-le")
    filetime = int((time.time() + 11644473600) * 10_000_000)
    target_info = (
        _av_pair(2, domain)
        + _av_pair(1, computer)
        + _av_pair(4, b"woonservice.example".decode().encode("utf-16-le"))
        + _av_pair(3, b"sandbox-ex01.woonservice.example".decode().encode("utf-16-le"))
        + _av_pair(7, struct.pack("<Q", filetime))
        + _av_pair(0, b"")
    )
    header_len = 56
    target_name_off = header_len
    target_info_off = target_name_off + len(domain)
    version = bytes([10, 0]) + struct.pack("<H", 17763) + b"\x00\x00\x00\x0f"
    return (
        _SIGNATURE
        + struct.pack("<I", 2)
        + struct.pack("<HHI", len(domain), len(domain), target_name_off)
        + struct.pack("<I", flags)
        + challenge
        + b"\x00" * 8
        + struct.pack("<HHI", len(target_info), len(target_info), target_info_off)
        + version
        + domain
        + target_info
    )


def _field(msg: bytes, offset: int) -> bytes:
    length, _, start = struct.unpack("<HHI", msg[offset : offset + 8])
    return msg[start : start + length]


def verify_authenticate(
    config: SandboxConfig, message: bytes, state: NtlmState
) -> UserConfig | None:
    """Check an AUTHENTICATE_MESSAGE against the configured password (NTLMv2 only)."""
    if state.challenge is None or len(message) < 64 or not message.startswith(_SIGNATURE):
        return None
    if struct.unpack("<I", message[8:12])[0] != 3:
        return None
    flags = struct.unpack("<I", message[60:64])[0]
    encoding = "utf-16-le" if flags & _UNICODE else "cp1252"
    nt_response = _field(message, 20)
    domain = _field(message, 28).decode(encoding, errors="replace")
    user_name = _field(message, 36).decode(encoding, errors="replace")
    if len(nt_response) <= 24:
        # NTLMv1 (24-byte response) and anonymous logons are refused.
        return None
    if domain and domain.split(".")[0].upper() != config.domain.upper():
        return None
    user = config.user(user_name)
    if user is None:
        return None
    proof, blob = nt_response[:16], nt_response[16:]
    expected = hmac.digest(ntowfv2(user.password, user_name, domain), state.challenge + blob, "md5")
    if not hmac.compare_digest(proof, expected):
        return None
    return user


def check_basic(config: SandboxConfig, token: str) -> UserConfig | None:
    try:
        decoded = base64.b64decode(token, validate=True).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return None
    name, _, password = decoded.partition(":")
    user = config.user(name)
    if user is None or not hmac.compare_digest(user.password.encode(), password.encode()):
        return None
    return user


def ntlm_message_type(message: bytes) -> int:
    if len(message) < 12 or not message.startswith(_SIGNATURE):
        return 0
    return int(struct.unpack("<I", message[8:12])[0])
