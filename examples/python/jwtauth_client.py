#!/usr/bin/python3
"""jwtauth_client: a small Python client for jwtauth, on generated gRPC stubs.

Library:

    channel = grpc.insecure_channel("127.0.0.1:50051")
    auth = AuthClient(channel)
    issued = auth.obtain("demo", password)          # Token(token, expires_at, ...)
    claims = auth.verify(issued.token).claims       # {"user_id": 1, "username": ...}
    newer = auth.refresh(issued.token)              # same orig_iat, new exp

    source = TokenSource(auth, "demo", password)    # logs in, refreshes before exp
    profile = grpc.intercept_channel(grpc.insecure_channel("127.0.0.1:50061"),
                                     AuthInterceptor(source))
    ProfileStub(profile).WhoAmI(WhoAmIRequest())    # carries `authorization: JWT <token>`

Every failure is raised as a JwtAuthError (a grpc.RpcError) whose str() is the
ErrorInfo reason and drf-jwt's message, e.g. ``TOKEN_EXPIRED: Signature has
expired.``; statuses without an ErrorInfo (protected services answer with
status + message only) read ``UNAUTHENTICATED: Authentication credentials were
not provided.``.

Command line (passwords from the terminal or stdin, tokens from stdin; never
from arguments):

    jwtauth_client.py [--server=H:P] obtain USERNAME < password-file
    jwtauth_client.py [--server=H:P] verify < token
    jwtauth_client.py [--server=H:P] [--json] refresh < token
    jwtauth_client.py [--server=H:P] --profile_server=H:P whoami USERNAME < password-file

Exit codes: 0 done, 1 refused by the server, 2 usage, 3 server unreachable.

The stubs are generated at build time (CMake target ``python_stubs``) into
``<build>/examples/python/gen``; that folder is found through $JWTAUTH_PY_STUBS,
PYTHONPATH, or the default build folders ``build/`` and ``build-py/``.
"""
from __future__ import annotations

import argparse
import base64
import binascii
import dataclasses
import getpass
import json
import os
import sys
import threading
import time
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import grpc

_HERE = os.path.dirname(os.path.abspath(__file__))
_REPO = os.path.dirname(os.path.dirname(_HERE))


def _import_stubs() -> None:
    """Makes the generated stubs importable, or explains how to build them."""
    try:
        import jwtauth.v1.auth_pb2  # noqa: F401  pylint: disable=import-outside-toplevel
        return
    except ImportError:
        pass
    candidates = [os.environ.get("JWTAUTH_PY_STUBS", "")]
    candidates += [os.path.join(_REPO, b, "examples", "python", "gen") for b in ("build", "build-py")]
    for gen in candidates:
        if gen and os.path.isfile(os.path.join(gen, "jwtauth", "v1", "auth_pb2.py")):
            sys.path.insert(0, gen)
            return
    raise ImportError(
        "jwtauth_client: the generated Python stubs are missing; build them with "
        "`cmake --build build --target python_stubs` and/or set JWTAUTH_PY_STUBS to "
        "<build>/examples/python/gen")


_import_stubs()

# pylint: disable=wrong-import-position
from google.protobuf import json_format  # noqa: E402
from google.rpc import error_details_pb2, status_pb2  # noqa: E402
from jwtauth.examples.v1 import profile_pb2, profile_pb2_grpc  # noqa: E402
from jwtauth.v1 import auth_pb2, auth_pb2_grpc  # noqa: E402

__all__ = [
    "AuthClient", "AuthInterceptor", "JwtAuthError", "Token", "TokenSource", "VerifiedToken",
    "authenticated_channel", "describe_error", "error_from_rpc", "peek_claims", "profile_pb2",
    "profile_pb2_grpc", "auth_pb2", "auth_pb2_grpc",
]

STATUS_DETAILS_KEY = "grpc-status-details-bin"
ERROR_DOMAIN = "jwtauth"


class JwtAuthError(grpc.RpcError):
    """A refused or failed call, with the ErrorInfo the server attached (if any).

    It is a grpc.RpcError with ``code()`` and ``details()``, so code catching
    grpc.RpcError around an intercepted call also sees failures of the token
    source (e.g. a wrong password while logging in).
    """

    def __init__(self, code: grpc.StatusCode, message: str, reason: Optional[str] = None,
                 domain: Optional[str] = None, metadata: Optional[Dict[str, str]] = None) -> None:
        super().__init__(message)
        self._code = code
        self.message = message
        self.reason = reason
        self.domain = domain
        self.metadata: Dict[str, str] = dict(metadata or {})

    def code(self) -> grpc.StatusCode:
        """The gRPC status code."""
        return self._code

    def details(self) -> str:
        """The status message: drf-jwt's text for every jwtauth refusal."""
        return self.message

    def __str__(self) -> str:
        return f"{self.reason or self._code.name}: {self.message}"

    def __repr__(self) -> str:
        return (f"JwtAuthError(code={self._code.name}, message={self.message!r}, "
                f"reason={self.reason!r})")


def error_from_rpc(err: BaseException) -> JwtAuthError:
    """Turns a failed call into a JwtAuthError, decoding the ErrorInfo detail.

    jwtauth puts a google.rpc.Status holding one google.rpc.ErrorInfo (domain
    "jwtauth") in the ``grpc-status-details-bin`` trailer. Errors that are not
    gRPC errors become UNKNOWN with their text.
    """
    if isinstance(err, JwtAuthError):
        return err
    code_fn = getattr(err, "code", None)
    if not callable(code_fn):
        return JwtAuthError(grpc.StatusCode.UNKNOWN, str(err))
    code = code_fn() or grpc.StatusCode.UNKNOWN
    details_fn = getattr(err, "details", None)
    message = (details_fn() if callable(details_fn) else None) or ""
    reason = domain = None
    metadata: Dict[str, str] = {}
    trailers_fn = getattr(err, "trailing_metadata", None)
    for key, value in (trailers_fn() if callable(trailers_fn) else None) or ():
        if key != STATUS_DETAILS_KEY or not isinstance(value, bytes):
            continue
        status = status_pb2.Status()
        try:
            status.ParseFromString(value)
        except Exception:  # pylint: disable=broad-except  # a malformed trailer: ignore it
            continue
        message = message or status.message
        for detail in status.details:
            if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
                info = error_details_pb2.ErrorInfo()
                detail.Unpack(info)
                reason, domain, metadata = info.reason, info.domain, dict(info.metadata)
                break
    return JwtAuthError(code, message, reason, domain, metadata)


def describe_error(err: BaseException) -> str:
    """One line for a person: ``REASON: message`` (or ``CODE: message``)."""
    return str(error_from_rpc(err))


def _timestamp(msg: Any) -> float:
    return msg.seconds + msg.nanos / 1e9


def _plain_numbers(value: Any) -> Any:
    """google.protobuf.Struct holds every number as a double; give whole ones back as int."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _plain_numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain_numbers(v) for v in value]
    return value


def peek_claims(token: str) -> Dict[str, Any]:
    """Reads a token's payload WITHOUT verifying it.

    For a client deciding when its own token needs refreshing, never for
    authentication. Returns {} when the token is unreadable.
    """
    try:
        payload = token.split(".")[1]
        data = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
        claims = json.loads(data)
    except (IndexError, ValueError, binascii.Error):
        return {}
    return claims if isinstance(claims, dict) else {}


@dataclasses.dataclass(frozen=True)
class Token:
    """An issued token (ObtainToken / RefreshToken answer)."""

    token: str
    expires_at: float  # exp, seconds since the epoch
    refresh_expires_at: Optional[float]  # orig_iat + refresh delta; None: not refreshable


@dataclasses.dataclass(frozen=True)
class VerifiedToken:
    """A VerifyToken answer: the token, its verified claims and its user."""

    token: str
    claims: Dict[str, Any]
    user_id: str
    username: str
    email: str


class AuthClient:
    """Typed calls of jwtauth.v1.AuthService; every failure raises JwtAuthError."""

    def __init__(self, channel: grpc.Channel, timeout: float = 10.0) -> None:
        self._stub = auth_pb2_grpc.AuthServiceStub(channel)
        self._timeout = timeout

    def _call(self, method: Callable[..., Any], request: Any) -> Any:
        try:
            return method(request, timeout=self._timeout)
        except grpc.RpcError as err:
            raise error_from_rpc(err) from None

    @staticmethod
    def _issued(resp: Any) -> Token:
        return Token(resp.token, _timestamp(resp.expires_at),
                     _timestamp(resp.refresh_expires_at)
                     if resp.HasField("refresh_expires_at") else None)

    def obtain(self, username: str, password: str) -> Token:
        """ObtainToken: a username and password for a token."""
        return self._issued(self._call(self._stub.ObtainToken, auth_pb2.ObtainTokenRequest(
            username=username, password=password)))

    def refresh(self, token: str) -> Token:
        """RefreshToken: a valid, refreshable token for a new one (same orig_iat)."""
        return self._issued(self._call(self._stub.RefreshToken,
                                       auth_pb2.RefreshTokenRequest(token=token)))

    def verify(self, token: str) -> VerifiedToken:
        """VerifyToken: the token's verified claims and its user."""
        resp = self._call(self._stub.VerifyToken, auth_pb2.VerifyTokenRequest(token=token))
        claims = _plain_numbers(json_format.MessageToDict(resp.claims))
        return VerifiedToken(resp.token, claims, resp.user.id, resp.user.username,
                             resp.user.email)


class TokenSource:
    """Logs in once, then keeps a fresh token: refreshes it ``margin`` seconds
    before exp, and logs in again when the refresh is refused or the refresh
    chain has ended (or refresh is disabled on the server).

    Thread-safe. token() calls the auth service in the calling thread when the
    token needs renewing (at most once per renewal; other threads wait).
    ``stats`` counts obtains, refreshes and refused refreshes.
    """

    def __init__(self, client: AuthClient, username: str, password: str, *,
                 margin: float = 30.0, clock: Callable[[], float] = time.time,
                 token: Optional[str] = None) -> None:
        """``token``: start from this token (e.g. one saved earlier) instead of logging in."""
        self._client = client
        self._username = username
        self._password = password
        self._margin = margin
        self._clock = clock
        self._lock = threading.Lock()
        self._current: Optional[Token] = None
        self._renew_at = 0.0
        self.stats: Dict[str, int] = {"obtained": 0, "refreshed": 0, "refresh_refused": 0}
        if token is not None:
            claims = peek_claims(token)
            exp = claims.get("exp")
            orig_iat = claims.get("orig_iat")
            # The refresh limit is the server's setting: unknown here, so try and see.
            iat = claims.get("iat", orig_iat)
            self._set(Token(token, float(exp) if isinstance(exp, (int, float)) else 0.0,
                            float("inf") if orig_iat else None),
                      issued_at=float(iat) if isinstance(iat, (int, float)) else None)

    def _set(self, issued: Token, issued_at: Optional[float] = None) -> None:
        self._current = issued
        start = self._clock() if issued_at is None else issued_at
        # Renew `margin` before exp; short-lived tokens at half their lifetime.
        lifetime = max(0.0, issued.expires_at - start)
        self._renew_at = issued.expires_at - min(self._margin, lifetime / 2)

    def token(self) -> str:
        """The token to send now; raises JwtAuthError when none can be had."""
        with self._lock:
            now = self._clock()
            cur = self._current
            if cur is not None and now < self._renew_at:
                return cur.token
            if (cur is not None and cur.refresh_expires_at is not None
                    and now <= cur.refresh_expires_at and now < cur.expires_at):
                try:
                    self._set(self._client.refresh(cur.token))
                    self.stats["refreshed"] += 1
                    return self._current.token  # type: ignore[union-attr]
                except JwtAuthError as err:
                    if err.code() in (grpc.StatusCode.UNAVAILABLE,
                                      grpc.StatusCode.DEADLINE_EXCEEDED):
                        return cur.token  # still valid; try again on the next call
                    self.stats["refresh_refused"] += 1
            self._current = None
            self._set(self._client.obtain(self._username, self._password))
            self.stats["obtained"] += 1
            return self._current.token  # type: ignore[union-attr]

    def invalidate(self, token: Optional[str] = None) -> None:
        """Forgets the current token (only if it is ``token``, when given)."""
        with self._lock:
            if self._current is not None and token in (None, self._current.token):
                self._current = None
                self._renew_at = 0.0


class _CallDetails(grpc.ClientCallDetails):
    """A grpc.ClientCallDetails with replaced metadata."""

    def __init__(self, base: grpc.ClientCallDetails,
                 metadata: List[Tuple[str, Any]]) -> None:
        self.method = base.method
        self.timeout = base.timeout
        self.metadata = metadata
        self.credentials = base.credentials
        self.wait_for_ready = getattr(base, "wait_for_ready", None)
        self.compression = getattr(base, "compression", None)


class AuthInterceptor(grpc.UnaryUnaryClientInterceptor):
    """Attaches ``authorization: <prefix> <token>`` to every unary call.

    The token comes from a TokenSource (fresh, refreshed before exp). When the
    server still answers ``Signature has expired.`` (clock skew, a token that
    outlived its welcome), the token is dropped and the call retried once with
    a new one; with ``retry_expired`` the interceptor therefore waits for the
    outcome of each call.
    """

    EXPIRED = "Signature has expired."

    def __init__(self, source: TokenSource, prefix: str = "JWT",
                 retry_expired: bool = True) -> None:
        self._source = source
        self._prefix = prefix
        self._retry_expired = retry_expired

    def _with_token(self, details: grpc.ClientCallDetails) -> Tuple[grpc.ClientCallDetails, str]:
        token = self._source.token()
        metadata = [(k, v) for k, v in (details.metadata or ()) if k.lower() != "authorization"]
        metadata.append(("authorization", f"{self._prefix} {token}"))
        return _CallDetails(details, metadata), token

    def intercept_unary_unary(self, continuation: Callable[..., Any],
                              client_call_details: grpc.ClientCallDetails,
                              request: Any) -> Any:
        details, token = self._with_token(client_call_details)
        outcome = continuation(details, request)
        if (self._retry_expired and outcome.code() == grpc.StatusCode.UNAUTHENTICATED
                and outcome.details() == self.EXPIRED):
            self._source.invalidate(token)
            details, _ = self._with_token(client_call_details)
            outcome = continuation(details, request)
        return outcome


def authenticated_channel(target: str, source: TokenSource, prefix: str = "JWT",
                          credentials: Optional[grpc.ChannelCredentials] = None) -> grpc.Channel:
    """A channel to ``target`` whose every unary call carries the source's token."""
    channel = (grpc.secure_channel(target, credentials) if credentials is not None
               else grpc.insecure_channel(target))
    return grpc.intercept_channel(channel, AuthInterceptor(source, prefix))


# ---------------------------------------------------------------- command line

class _UsageError(Exception):
    pass


def _read_password(username: str) -> str:
    """The password: prompted without echo on a terminal, else stdin's first line."""
    if sys.stdin.isatty():
        password = getpass.getpass(f"Password for {username}: ")
    else:
        line = sys.stdin.readline()
        if not line:
            raise _UsageError("no password on standard input")
        password = line.rstrip("\n").rstrip("\r")
    if not password:
        raise _UsageError("the password must not be empty")
    return password


def _read_token() -> str:
    if sys.stdin.isatty():
        sys.stderr.write("Token: ")
        sys.stderr.flush()
    token = sys.stdin.readline().strip()
    if not token:
        raise _UsageError("no token on standard input")
    return token


def _rfc3339(t: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def _print_issued(issued: Token, as_json: bool) -> None:
    if as_json:
        out: Dict[str, Any] = {"token": issued.token, "expires_at": _rfc3339(issued.expires_at)}
        if issued.refresh_expires_at is not None:
            out["refresh_expires_at"] = _rfc3339(issued.refresh_expires_at)
        print(json.dumps(out))
    else:
        print(issued.token)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="jwtauth_client.py",
        description="jwtauth from Python: obtain, verify and refresh tokens, and call "
                    "Profile.WhoAmI through the token interceptor. Passwords come from the "
                    "terminal or stdin, tokens from stdin.")
    p.add_argument("--server", default="127.0.0.1:50051", help="jwtauth-server address")
    p.add_argument("--profile_server", default="127.0.0.1:50061",
                   help="profile-server address (whoami)")
    p.add_argument("--prefix", default="JWT", help="JWT_AUTH_HEADER_PREFIX (whoami)")
    p.add_argument("--timeout", type=float, default=10.0, help="seconds per call")
    p.add_argument("--json", action="store_true", help="print JSON")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    sub.add_parser("obtain", help="USERNAME: print a token (password from stdin)") \
        .add_argument("username")
    sub.add_parser("verify", help="print the verified claims of the token on stdin")
    sub.add_parser("refresh", help="print a new token for the token on stdin")
    sub.add_parser("whoami", help="USERNAME: log in, then call Profile.WhoAmI with the token") \
        .add_argument("username")
    return p


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Runs the command line; returns the exit code."""
    args = _parser().parse_args(argv)
    auth_channel = grpc.insecure_channel(args.server)
    auth = AuthClient(auth_channel, timeout=args.timeout)
    try:
        if args.command == "obtain":
            _print_issued(auth.obtain(args.username, _read_password(args.username)), args.json)
        elif args.command == "refresh":
            _print_issued(auth.refresh(_read_token()), args.json)
        elif args.command == "verify":
            print(json.dumps(auth.verify(_read_token()).claims))
        else:  # whoami
            source = TokenSource(auth, args.username, _read_password(args.username))
            with authenticated_channel(args.profile_server, source, args.prefix) as channel:
                stub = profile_pb2_grpc.ProfileStub(channel)
                try:
                    me = stub.WhoAmI(profile_pb2.WhoAmIRequest(), timeout=args.timeout)
                except grpc.RpcError as err:
                    raise error_from_rpc(err) from None
            if args.json:
                print(json.dumps({"username": me.username, "user_id": me.user_id,
                                  "claims": json.loads(me.claims_json or "{}")}))
            else:
                print(f"you are {me.username} (user {me.user_id})")
        return 0
    except _UsageError as err:
        print(f"jwtauth_client: {err}", file=sys.stderr)
        return 2
    except JwtAuthError as err:
        print(f"jwtauth_client: {err}", file=sys.stderr)
        unreachable = err.reason is None and err.code() in (
            grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED)
        return 3 if unreachable else 1
    finally:
        auth_channel.close()


if __name__ == "__main__":
    sys.exit(main())
