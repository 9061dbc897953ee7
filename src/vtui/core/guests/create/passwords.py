"""Password hashes for /etc/shadow: SHA-512 crypt ($6$), which every Linux libc reads.

Written out here because Python's crypt module is deprecated (gone in 3.13) and
needs the system's libcrypt; the algorithm is the published "Unix crypt using
SHA-256 and SHA-512" one, checked against libc's own in the tests."""

from __future__ import annotations

import hashlib
import secrets

B64 = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
ROUNDS_DEFAULT = 5000
SALT_CHARS = 16


def _repeat(block: bytes, length: int) -> bytes:
    """`length` bytes of `block` repeated."""
    return (block * (length // len(block) + 1))[:length]


def _encode(digest: bytes) -> str:
    """The 64 digest bytes in crypt's own base64, in the algorithm's byte order."""
    out = []
    for k in range(21):
        first = (k * 22) % 63
        b2, b1, b0 = digest[first], digest[(first + 21) % 63], digest[(first + 42) % 63]
        word = (b2 << 16) | (b1 << 8) | b0
        for _ in range(4):
            out.append(B64[word & 0x3F])
            word >>= 6
    word = digest[63]
    for _ in range(2):
        out.append(B64[word & 0x3F])
        word >>= 6
    return "".join(out)


def sha512_crypt(password: str, salt: str | None = None, rounds: int = ROUNDS_DEFAULT) -> str:
    """'$6$salt$hash' ('$6$rounds=N$salt$hash' when rounds is not the default)."""
    if salt is None:
        salt = "".join(secrets.choice(B64) for _ in range(SALT_CHARS))
    salt = salt[:SALT_CHARS]
    rounds = min(max(rounds, 1000), 999_999_999)
    key, salt_bytes = password.encode(), salt.encode()
    alternate = hashlib.sha512(key + salt_bytes + key).digest()
    context = hashlib.sha512(key + salt_bytes + _repeat(alternate, len(key)))
    length = len(key)
    while length:
        context.update(alternate if length & 1 else key)
        length >>= 1
    result = context.digest()
    key_block = _repeat(hashlib.sha512(key * len(key)).digest(), len(key))
    salt_block = _repeat(hashlib.sha512(salt_bytes * (16 + result[0])).digest(), len(salt_bytes))
    for i in range(rounds):
        step = hashlib.sha512(key_block if i & 1 else result)
        if i % 3:
            step.update(salt_block)
        if i % 7:
            step.update(key_block)
        step.update(result if i & 1 else key_block)
        result = step.digest()
    head = "$6$" + (f"rounds={rounds}$" if rounds != ROUNDS_DEFAULT else "")
    return f"{head}{salt}${_encode(result)}"
