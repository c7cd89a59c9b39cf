"""Who may call the server: the tokens given to ``codesynth serve``."""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Sequence

from aiohttp import web


def token_of(request: web.Request, tokens: Sequence[str]) -> str | None:
    """The token a request presents (Bearer, or Basic with the token as user or password,
    which a URL such as ``http://user:TOKEN@host`` makes), if it is one of ``tokens``."""
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    offered: list[str] = []
    if scheme.lower() == "bearer":
        offered.append(value.strip())
    elif scheme.lower() == "basic":
        try:
            user, _, password = base64.b64decode(value.strip()).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        offered += [password, user]
    for candidate in offered:
        for token in tokens:
            if candidate and hmac.compare_digest(candidate.encode(), token.encode()):
                return token
    return None
