#!/usr/bin/python3
"""pyjwt_check.py: djangorestframework-jwt's side of the cross-check.

Reads one JSON request from the file named by argv[1] (the secret travels in
that file, never on a command line) and prints one JSON answer:
  {"op": "decode", "token", "alg", "key_hex" | "key_pem" | "jwk", "verify_exp", "leeway",
   "audience", "issuer"}  -> {"ok": true, "claims": {...}} or {"ok": false, "error": "..."}
     decodes exactly as drf-jwt's jwt_decode_handler calls PyJWT; "jwk" (a
     public JWK object) is loaded with jwt.PyJWK, as a JWKS client does.
  {"op": "encode", "payload", "alg", "key_hex" | "key_pem"} -> {"ok": true, "token": "..."}
     encodes exactly as drf-jwt's jwt_encode_handler does.
"""
import json
import sys

import jwt


def key_of(req):
    if "jwk" in req:
        return jwt.PyJWK(req["jwk"]).key
    if "key_hex" in req:
        return bytes.fromhex(req["key_hex"])
    return req["key_pem"].encode()


def main():
    with open(sys.argv[1]) as f:
        req = json.load(f)
    try:
        if req["op"] == "decode":
            claims = jwt.decode(
                req["token"], key_of(req),
                options={"verify_exp": req.get("verify_exp", True)},
                leeway=req.get("leeway", 0),
                audience=req.get("audience"),
                issuer=req.get("issuer"),
                algorithms=[req["alg"]])
            print(json.dumps({"ok": True, "claims": claims}))
        else:
            token = jwt.encode(req["payload"], key_of(req), req["alg"])
            print(json.dumps({"ok": True, "token": token}))
    except (jwt.InvalidTokenError, jwt.InvalidKeyError, jwt.PyJWKError) as e:
        print(json.dumps({"ok": False, "error": type(e).__name__}))


if __name__ == "__main__":
    main()
