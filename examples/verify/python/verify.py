# Verifies a wristband access token with PyJWT: python verify.py <token>
# ISSUER (https://id.example.com) and API (your service's API identifier, the `aud` of its
# tokens) come from the environment.
import json
import os
import sys
import urllib.request

import jwt  # pip install "pyjwt[crypto]"

issuer = os.environ["ISSUER"]
audience = os.environ["API"]

# The key set comes from the issuer's discovery document, never from a token's header.
with urllib.request.urlopen(f"{issuer}/.well-known/openid-configuration") as response:
    metadata = json.load(response)
if metadata["issuer"] != issuer:
    raise RuntimeError(f"discovery names {metadata['issuer']}, not {issuer}")
# Caches the keys, and fetches them again when a token names an unknown kid.
jwks = jwt.PyJWKClient(metadata["jwks_uri"])


def verify(token):
    # An ID token is not an access token (RFC 9068 §4).
    typ = jwt.get_unverified_header(token).get("typ", "").lower()
    if typ not in ("at+jwt", "application/at+jwt"):
        raise jwt.InvalidTokenError(f"typ {typ!r} is not at+jwt")
    key = jwks.get_signing_key_from_jwt(token)
    return jwt.decode(
        token,
        key.key,
        algorithms=["RS256"],  # never what the token says
        issuer=issuer,
        audience=audience,
        leeway=60,
        options={"require": ["exp", "iat", "iss", "aud", "sub"]},
    )


claims = verify(sys.argv[1])
print(json.dumps({"sub": claims["sub"], "scope": claims.get("scope")}))
