#!/usr/bin/python3
"""Independent checks of jwtauth-server's HTTP endpoints, run by lifecycle_test.

  lifecycle_check.py jwks URL AUDIENCE_OR_- < token
      PyJWT's PyJWKClient fetches the JWK Set from URL, picks the key by the
      token's kid and verifies the token; prints the username claim.
  lifecycle_check.py metrics URL
      Fetches /metrics, parses it with prometheus_client's parser (refusing
      anything malformed) and prints "name{labels} value" per sample.
"""
import sys
import urllib.request

import jwt
from prometheus_client.parser import text_string_to_metric_families


def check_jwks(url, token):
    client = jwt.PyJWKClient(url, cache_keys=False)
    key = client.get_signing_key_from_jwt(token)
    claims = jwt.decode(token, key.key, algorithms=[jwt.get_unverified_header(token)["alg"]])
    print(claims["username"])


def check_metrics(url):
    with urllib.request.urlopen(url, timeout=10) as response:
        content_type = response.headers.get("Content-Type", "")
        if not content_type.startswith("text/plain; version=0.0.4"):
            raise SystemExit(f"unexpected Content-Type {content_type!r}")
        text = response.read().decode("utf-8")
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = ",".join(f'{k}="{v}"' for k, v in sorted(sample.labels.items()))
            print(f"{sample.name}{{{labels}}} {sample.value:g}")


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "jwks":
        check_jwks(sys.argv[2], sys.stdin.read().strip())
    elif len(sys.argv) == 3 and sys.argv[1] == "metrics":
        check_metrics(sys.argv[2])
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
