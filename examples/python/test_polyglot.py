#!/usr/bin/python3
"""Polyglot tests: the Python client on generated stubs, and cross-checks with PyJWT.

Run with Debian's Python (python3-grpcio, python3-protobuf, python3-jwt,
python3-cryptography). ctest passes the binaries and the stubs folder:

    JWTAUTH_SERVER=<build>/server/jwtauth-server  JWTAUTH_ADMIN=<build>/server/jwtauth-admin
    PROFILE_SERVER=<build>/examples/profile-server JWTAUTH_PY_STUBS=<build>/examples/python/gen
    /usr/bin/python3 -m unittest -v test_polyglot

(without them, <repo>/build is used). Every server runs on 127.0.0.1 with port
0 (--port_file) in a fresh temporary folder, and is stopped with SIGTERM at
the end. Nothing sleeps past a deadline: expired and out-of-window tokens are
signed here with PyJWT and the servers' own keys, which is also the
cross-check with djangorestframework-jwt (it signs and decodes with PyJWT).
"""
from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import grpc
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

import jwtauth_client as jc
from jwtauth_client import profile_pb2, profile_pb2_grpc

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
CLIENT_PY = os.path.join(HERE, "jwtauth_client.py")


def _binary(env: str, default: str) -> str:
    path = os.environ.get(env) or os.path.join(REPO, "build", default)
    if not os.access(path, os.X_OK):
        raise RuntimeError(f"{env}: no executable at {path} (build it, or set {env})")
    return path


# drf-jwt's messages (SPEC §4/§5), exactly.
CREDENTIALS_MISSING = 'Must include "username" and "password".'
BAD_CREDENTIALS = "Unable to log in with provided credentials."
EXPIRED = "Signature has expired."
DECODE_ERROR = "Error decoding signature."
INCORRECT = "Incorrect authentication credentials."
USER_NOT_FOUND = "User doesn't exist."
USER_INACTIVE = "User account is disabled."
ORIG_IAT_REQUIRED = "orig_iat field is required."
REFRESH_EXPIRED = "Refresh has expired."
NOT_PROVIDED = "Authentication credentials were not provided."

UNAUTH = grpc.StatusCode.UNAUTHENTICATED
EXPIRATION_DELTA = 30  # the servers' --expiration_delta, seconds
REFRESH_DELTA = 60  # the servers' --refresh_expiration_delta, seconds


def drf_jwt_message(exc: jwt.InvalidTokenError) -> str:
    """The message drf-jwt gives for a PyJWT decode error (JSONWebTokenAuthentication)."""
    if isinstance(exc, jwt.ExpiredSignatureError):
        return EXPIRED
    if isinstance(exc, jwt.DecodeError):
        return DECODE_ERROR
    return INCORRECT


def drf_jwt_decode(token: str, key: Any, alg: str) -> Dict[str, Any]:
    """Decodes exactly as drf-jwt's jwt_decode_handler calls PyJWT (default settings)."""
    return jwt.decode(token, key, algorithms=[alg], options={"verify_exp": True}, leeway=0,
                      audience=None, issuer=None)


def drf_jwt_payload(user_id: int, username: str, email: str, *, exp_in: int = 300,
                    orig_iat: Optional[int] = None) -> Dict[str, Any]:
    """drf-jwt 1.11's jwt_payload_handler, with JWT_ALLOW_REFRESH on: user_id, username,
    exp (a datetime, which PyJWT turns into integer seconds), email, orig_iat."""
    now = datetime.datetime.now(datetime.timezone.utc)
    payload: Dict[str, Any] = {"user_id": user_id, "username": username,
                               "exp": now + datetime.timedelta(seconds=exp_in), "email": email}
    payload["orig_iat"] = orig_iat if orig_iat is not None else int(now.timestamp())
    return payload


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def tamper_payload(token: str, **changes: Any) -> str:
    """The same header and signature over a changed payload."""
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims.update(changes)
    return ".".join([header, b64url(json.dumps(claims, separators=(",", ":")).encode()),
                     signature])


def tamper_signature(token: str) -> str:
    """Flips one bit in the middle of the signature (not in the last, partly padding, char)."""
    header, payload, signature = token.split(".")
    raw = bytearray(base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4)))
    raw[len(raw) // 2] ^= 0x01
    return ".".join([header, payload, b64url(bytes(raw))])


# ------------------------------------------------------------------ servers

class Process:
    """A server started on 127.0.0.1:0 that reports its port through --port_file."""

    def __init__(self, name: str, argv: List[str], workdir: str) -> None:
        self.name = name
        self.port_file = os.path.join(workdir, f"{name}.port")
        self.log_path = os.path.join(workdir, f"{name}.log")
        self._log = open(self.log_path, "wb")  # pylint: disable=consider-using-with
        self.argv = argv + ["--listen=127.0.0.1:0", f"--port_file={self.port_file}"]
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=self._log,
                                     stderr=subprocess.STDOUT)
        self.port = self._wait_port(15.0)
        self.address = f"127.0.0.1:{self.port}"

    def log(self) -> str:
        with open(self.log_path, "rb") as f:
            return f.read().decode(errors="replace")[-4000:]

    def _wait_port(self, timeout: float) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode} at start:\n"
                                   f"  {' '.join(self.argv)}\n{self.log()}")
            try:
                with open(self.port_file) as f:
                    text = f.read()
                if text.endswith("\n") and text.strip().isdigit():
                    return int(text)
            except FileNotFoundError:
                pass
            time.sleep(0.02)
        self.proc.kill()
        raise RuntimeError(f"{self.name} did not write {self.port_file} in {timeout}s:\n"
                           f"{self.log()}")

    def stop(self) -> Optional[str]:
        """SIGTERM, then wait; returns a problem description or None."""
        problem = None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                problem = f"{self.name} ignored SIGTERM for 10 s (killed)"
        if problem is None and self.proc.returncode != 0:
            problem = f"{self.name} exited with {self.proc.returncode}:\n{self.log()}"
        self._log.close()
        return problem


class User:
    """A user created with jwtauth-admin (password through stdin)."""

    def __init__(self, user_id: int, username: str, email: str, password: str) -> None:
        self.user_id, self.username, self.email, self.password = user_id, username, email, password


class Stack:
    """jwtauth-server and profile-server (local mode, same keys) for one algorithm,
    on a fresh data dir with users alice, bob (for wrong passwords), carol (inactive)."""

    def __init__(self, alg: str) -> None:
        self.alg = alg
        self.tmp = tempfile.mkdtemp(prefix=f"jwtauth-py-{alg}-")
        self.data_dir = os.path.join(self.tmp, "data")
        os.mkdir(self.data_dir, 0o700)
        self.processes: List[Process] = []
        self.users: Dict[str, User] = {}
        try:
            self._start()
        except BaseException:
            self.stop()
            raise

    def _add_user(self, username: str, *flags: str) -> User:
        password = f"pw-{username}-{os.urandom(6).hex()}"
        email = f"{username}@example.com"
        out = subprocess.run(
            [_binary("JWTAUTH_ADMIN", "server/jwtauth-admin"), f"--data_dir={self.data_dir}",
             "--pbkdf2_iterations=1000", f"--email={email}", *flags, "users", "add", username],
            input=password + "\n", capture_output=True, text=True, timeout=30, check=False)
        if out.returncode != 0:
            raise RuntimeError(f"jwtauth-admin users add {username}: {out.stdout}{out.stderr}")
        # "created user alice (id 1)"
        user_id = int(out.stdout.strip().rsplit("(id ", 1)[1].rstrip(")"))
        user = User(user_id, username, email, password)
        self.users[username] = user
        return user

    def _write_keys(self) -> List[str]:
        """Key flags for jwtauth-server; sets self.sign_key / self.verify_key (PyJWT keys)."""
        if self.alg == "HS256":
            return []  # jwtauth-server generates data_dir/secret.key at first start
        if self.alg == "ES256":
            private = ec.generate_private_key(ec.SECP256R1())
        elif self.alg == "EdDSA":
            private = ed25519.Ed25519PrivateKey.generate()
        else:
            raise ValueError(self.alg)
        self.sign_key = private.private_bytes(serialization.Encoding.PEM,
                                              serialization.PrivateFormat.PKCS8,
                                              serialization.NoEncryption())
        self.verify_key = private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        self.private_key_file = os.path.join(self.tmp, "private.pem")
        self.public_key_file = os.path.join(self.tmp, "public.pem")
        fd = os.open(self.private_key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(self.sign_key)
        with open(self.public_key_file, "wb") as f:
            f.write(self.verify_key)
        return [f"--private_key_file={self.private_key_file}"]

    def _start(self) -> None:
        key_flags = self._write_keys()
        self._add_user("alice")
        self._add_user("bob")
        self._add_user("carol", "--inactive")
        self.auth = Process(f"jwtauth-server-{self.alg}", [
            _binary("JWTAUTH_SERVER", "server/jwtauth-server"), f"--data_dir={self.data_dir}",
            f"--algorithm={self.alg}", *key_flags, "--allow_refresh",
            f"--expiration_delta={EXPIRATION_DELTA}s",
            f"--refresh_expiration_delta={REFRESH_DELTA}s", "--pbkdf2_iterations=1000",
            # Every test logs in from 127.0.0.1; the per-address throttle is not under test.
            "--throttle_peer_failures=1000", "--shutdown_grace=2s"], self.tmp)
        self.processes.append(self.auth)
        if self.alg == "HS256":
            with open(os.path.join(self.data_dir, "secret.key"), "rb") as f:
                self.sign_key = self.verify_key = f.read()  # raw bytes, as JWT_SECRET_KEY
            profile_keys = [f"--data_dir={self.data_dir}"]
        else:
            profile_keys = [f"--public_key_file={self.public_key_file}"]
        self.profile = Process(f"profile-server-{self.alg}", [
            _binary("PROFILE_SERVER", "examples/profile-server"), f"--algorithm={self.alg}",
            *profile_keys], self.tmp)
        self.processes.append(self.profile)
        self.auth_channel = grpc.insecure_channel(self.auth.address)
        self.profile_channel = grpc.insecure_channel(self.profile.address)
        self.client = jc.AuthClient(self.auth_channel, timeout=10)

    def sign(self, payload: Dict[str, Any]) -> str:
        """Signs as drf-jwt's jwt_encode_handler: jwt.encode(payload, key, ALGORITHM)."""
        return jwt.encode(payload, self.sign_key, self.alg)

    def whoami(self, metadata: Sequence[Tuple[str, str]] = ()) -> Any:
        """Profile.WhoAmI with raw metadata; raises JwtAuthError."""
        try:
            return profile_pb2_grpc.ProfileStub(self.profile_channel).WhoAmI(
                profile_pb2.WhoAmIRequest(), metadata=list(metadata), timeout=10)
        except grpc.RpcError as err:
            raise jc.error_from_rpc(err) from None

    def stop(self) -> List[str]:
        for ch in ("auth_channel", "profile_channel"):
            if hasattr(self, ch):
                getattr(self, ch).close()
        problems = [p for p in (proc.stop() for proc in reversed(self.processes)) if p]
        if not problems:
            shutil.rmtree(self.tmp, ignore_errors=True)
        else:
            problems.append(f"(logs kept in {self.tmp})")
        return problems


_STACKS: Dict[str, Stack] = {}


def stack(alg: str) -> Stack:
    """The running stack for `alg`, started on first use (shared by the test classes)."""
    if alg not in _STACKS:
        _STACKS[alg] = Stack(alg)
    return _STACKS[alg]


def tearDownModule() -> None:  # pylint: disable=invalid-name
    problems: List[str] = []
    for s in _STACKS.values():
        problems += s.stop()
    _STACKS.clear()
    if problems:
        raise RuntimeError("servers did not stop cleanly on SIGTERM:\n" + "\n".join(problems))


# ------------------------------------------------------------------ tests

class PolyglotCase(unittest.TestCase):
    """Assertions that say exactly what differed."""

    maxDiff = None

    def assertRefused(self, call: Callable[[], Any], code: grpc.StatusCode, message: str,
                      reason: Optional[str], what: str) -> jc.JwtAuthError:
        """`call` must fail with exactly (code, message, ErrorInfo reason)."""
        try:
            result = call()
        except grpc.RpcError as err:  # JwtAuthError included
            got = jc.error_from_rpc(err)
        else:
            self.fail(f"{what}: expected {code.name} {message!r} ({reason}), "
                      f"but the call succeeded with {result!r}")
        self.assertEqual((got.code().name, got.message, got.reason),
                         (code.name, message, reason),
                         f"{what}: (code, message, ErrorInfo reason) differ")
        if reason is not None:
            self.assertEqual(got.domain, jc.ERROR_DOMAIN, f"{what}: ErrorInfo domain")
        return got


class AuthServiceTest(PolyglotCase):
    """ObtainToken / VerifyToken / RefreshToken through the Python client (HS256)."""

    @classmethod
    def setUpClass(cls) -> None:
        cls.s = stack("HS256")
        cls.alice = cls.s.users["alice"]

    def test_obtain_verify_refresh(self) -> None:
        before = int(time.time())
        issued = self.s.client.obtain(self.alice.username, self.alice.password)
        after = int(time.time())
        self.assertEqual(issued.token.count("."), 2, issued.token)
        verified = self.s.client.verify(issued.token)
        self.assertEqual(verified.token, issued.token, "VerifyToken returns the token unchanged")
        self.assertEqual((verified.user_id, verified.username, verified.email),
                         (str(self.alice.user_id), "alice", "alice@example.com"),
                         "VerifyToken's user")
        claims = verified.claims
        for name in ("user_id", "username", "email", "exp", "orig_iat"):
            self.assertIn(name, claims, f"claims {claims}")
        self.assertEqual((claims["user_id"], claims["username"], claims["email"]),
                         (self.alice.user_id, "alice", "alice@example.com"), f"claims {claims}")
        self.assertTrue(before <= claims["orig_iat"] <= after, f"orig_iat {claims}")
        self.assertTrue(before + EXPIRATION_DELTA <= claims["exp"] <= after + EXPIRATION_DELTA,
                        f"exp = now + {EXPIRATION_DELTA} s: {claims}")
        self.assertEqual(issued.expires_at, claims["exp"], "TokenResponse.expires_at == exp")
        self.assertEqual(issued.refresh_expires_at, claims["orig_iat"] + REFRESH_DELTA,
                         "TokenResponse.refresh_expires_at == orig_iat + refresh delta")

        refreshed = self.s.client.refresh(issued.token)
        new_claims = self.s.client.verify(refreshed.token).claims
        self.assertEqual(new_claims["orig_iat"], claims["orig_iat"], "refresh keeps orig_iat")
        self.assertGreaterEqual(new_claims["exp"], claims["exp"], "refresh: a new exp")
        self.assertEqual((new_claims["user_id"], new_claims["username"]),
                         (self.alice.user_id, "alice"))
        self.assertEqual(refreshed.refresh_expires_at, issued.refresh_expires_at)

    def test_bad_password(self) -> None:
        bob = self.s.users["bob"]
        self.assertRefused(lambda: self.s.client.obtain("bob", bob.password + "x"), UNAUTH,
                           BAD_CREDENTIALS, "BAD_CREDENTIALS", "wrong password")

    def test_unknown_and_inactive_users_look_like_bad_password(self) -> None:
        self.assertRefused(lambda: self.s.client.obtain("nobody", "whatever"), UNAUTH,
                           BAD_CREDENTIALS, "BAD_CREDENTIALS", "unknown user")
        carol = self.s.users["carol"]
        self.assertRefused(lambda: self.s.client.obtain("carol", carol.password), UNAUTH,
                           BAD_CREDENTIALS, "BAD_CREDENTIALS", "inactive user, right password")

    def test_missing_credentials(self) -> None:
        for username, password in (("alice", ""), ("", "secret"), ("", "")):
            self.assertRefused(lambda: self.s.client.obtain(username, password),  # noqa: B023
                               grpc.StatusCode.INVALID_ARGUMENT, CREDENTIALS_MISSING,
                               "CREDENTIALS_MISSING",
                               f"obtain(username={username!r}, password={password!r})")

    def test_expired_token(self) -> None:
        a = self.alice
        token = self.s.sign(drf_jwt_payload(a.user_id, a.username, a.email, exp_in=-30))
        with self.assertRaises(jwt.ExpiredSignatureError, msg="PyJWT agrees it has expired"):
            drf_jwt_decode(token, self.s.verify_key, "HS256")
        self.assertRefused(lambda: self.s.client.verify(token), UNAUTH, EXPIRED, "TOKEN_EXPIRED",
                           "VerifyToken, token expired 30 s ago")
        self.assertRefused(lambda: self.s.client.refresh(token), UNAUTH, EXPIRED,
                           "TOKEN_EXPIRED", "RefreshToken, token expired 30 s ago")

    def test_tampered_token(self) -> None:
        token = self.s.client.obtain(self.alice.username, self.alice.password).token
        for how, bad in (("payload (username=bob)", tamper_payload(token, username="bob")),
                         ("signature bit", tamper_signature(token)),
                         ("garbage", "not-a-token")):
            self.assertRefused(lambda: self.s.client.verify(bad), UNAUTH,  # noqa: B023
                               DECODE_ERROR, "TOKEN_INVALID", f"VerifyToken, tampered {how}")
            self.assertRefused(lambda: self.s.client.refresh(bad), UNAUTH,  # noqa: B023
                               DECODE_ERROR, "TOKEN_INVALID", f"RefreshToken, tampered {how}")

    def test_refresh_limit(self) -> None:
        a = self.alice
        now = int(time.time())
        token = self.s.sign(drf_jwt_payload(a.user_id, a.username, a.email, exp_in=300,
                                            orig_iat=now - 3600))
        self.assertEqual(self.s.client.verify(token).username, "alice",
                         "the token itself is valid (only its refresh chain has ended)")
        self.assertRefused(lambda: self.s.client.refresh(token), UNAUTH, REFRESH_EXPIRED,
                           "REFRESH_EXPIRED", "RefreshToken, orig_iat an hour ago, delta 60 s")

    def test_refresh_without_orig_iat(self) -> None:
        a = self.alice
        payload = drf_jwt_payload(a.user_id, a.username, a.email)
        del payload["orig_iat"]  # drf-jwt with JWT_ALLOW_REFRESH off
        token = self.s.sign(payload)
        self.assertRefused(lambda: self.s.client.refresh(token), UNAUTH, ORIG_IAT_REQUIRED,
                           "ORIG_IAT_MISSING", "RefreshToken, no orig_iat")

    def test_user_checks_on_pyjwt_tokens(self) -> None:
        carol = self.s.users["carol"]
        inactive = self.s.sign(drf_jwt_payload(carol.user_id, "carol", carol.email))
        self.assertRefused(lambda: self.s.client.verify(inactive), UNAUTH, USER_INACTIVE,
                           "USER_INACTIVE", "VerifyToken, inactive user")
        ghost = self.s.sign(drf_jwt_payload(999, "ghost", "ghost@example.com"))
        self.assertRefused(lambda: self.s.client.verify(ghost), UNAUTH, USER_NOT_FOUND,
                           "USER_NOT_FOUND", "VerifyToken, user not in the store")


class InterceptorTest(PolyglotCase):
    """AuthInterceptor + TokenSource calling Profile.WhoAmI on profile-server (HS256)."""

    @classmethod
    def setUpClass(cls) -> None:
        cls.s = stack("HS256")
        cls.alice = cls.s.users["alice"]

    def _profile(self, source: jc.TokenSource) -> Any:
        return profile_pb2_grpc.ProfileStub(
            grpc.intercept_channel(self.s.profile_channel, jc.AuthInterceptor(source)))

    def _whoami(self, source: jc.TokenSource) -> Any:
        return self._profile(source).WhoAmI(profile_pb2.WhoAmIRequest(), timeout=10)

    def test_whoami_through_interceptor(self) -> None:
        source = jc.TokenSource(self.s.client, "alice", self.alice.password)
        me = self._whoami(source)
        self.assertEqual((me.username, me.user_id), ("alice", self.alice.user_id))
        self.assertEqual(json.loads(me.claims_json)["email"], "alice@example.com")
        self._whoami(source)
        self.assertEqual(source.stats, {"obtained": 1, "refreshed": 0, "refresh_refused": 0},
                         "one login for two calls")
        with jc.authenticated_channel(self.s.profile.address, source) as channel:
            me = profile_pb2_grpc.ProfileStub(channel).WhoAmI(profile_pb2.WhoAmIRequest(),
                                                              timeout=10)
        self.assertEqual(me.username, "alice", "authenticated_channel()")

    def test_no_token(self) -> None:
        self.assertRefused(lambda: self.s.whoami(), UNAUTH, NOT_PROVIDED, None,
                           "WhoAmI without authorization (protected: no ErrorInfo)")
        self.assertRefused(lambda: self.s.whoami([("authorization", "Basic YWxpY2U6eA==")]),
                           UNAUTH, NOT_PROVIDED, None, "WhoAmI with another scheme")

    def test_refreshes_before_exp(self) -> None:
        now = [time.time()]
        source = jc.TokenSource(self.s.client, "alice", self.alice.password,
                                clock=lambda: now[0])
        first = source.token()
        orig_iat = jc.peek_claims(first)["orig_iat"]
        # A quarter of the lifetime left: inside the renewal margin (half of a 30 s
        # lifetime), not expired, inside the refresh window.
        now[0] = jc.peek_claims(first)["exp"] - EXPIRATION_DELTA / 4
        me = self._whoami(source)
        self.assertEqual(me.username, "alice")
        self.assertEqual(source.stats, {"obtained": 1, "refreshed": 1, "refresh_refused": 0},
                         "the interceptor refreshed instead of logging in again")
        self.assertEqual(json.loads(me.claims_json)["orig_iat"], orig_iat,
                         "the call carried the refreshed token (same orig_iat)")

    def test_reobtains_when_refresh_refused(self) -> None:
        a = self.alice
        stale = self.s.sign(drf_jwt_payload(a.user_id, a.username, a.email, exp_in=20,
                                            orig_iat=int(time.time()) - 3600))
        source = jc.TokenSource(self.s.client, "alice", a.password, token=stale)
        me = self._whoami(source)  # 20 s left < margin: refresh -> REFRESH_EXPIRED -> obtain
        self.assertEqual(me.username, "alice")
        self.assertEqual(source.stats, {"obtained": 1, "refreshed": 0, "refresh_refused": 1})
        self.assertGreater(json.loads(me.claims_json)["orig_iat"], int(time.time()) - 60,
                           "a new login starts a new refresh chain")

    def test_reobtains_after_refresh_window(self) -> None:
        now = [time.time()]
        source = jc.TokenSource(self.s.client, "alice", self.alice.password,
                                clock=lambda: now[0])
        source.token()
        now[0] += REFRESH_DELTA + 1  # past exp and orig_iat + delta: no refresh attempt
        self.assertEqual(self._whoami(source).username, "alice")
        self.assertEqual(source.stats, {"obtained": 2, "refreshed": 0, "refresh_refused": 0})

    def test_retries_once_when_server_says_expired(self) -> None:
        a = self.alice
        expired = self.s.sign(drf_jwt_payload(a.user_id, a.username, a.email, exp_in=-5))
        # A client clock far behind: the source believes the token is still good.
        source = jc.TokenSource(self.s.client, "alice", a.password, token=expired,
                                clock=lambda: time.time() - 3600)
        self.assertEqual(self._whoami(source).username, "alice")
        self.assertEqual(source.stats["obtained"], 1, "logged in again after the refusal")

    def test_login_failure_surfaces_as_rpc_error(self) -> None:
        source = jc.TokenSource(self.s.client, "bob", "not-bobs-password")
        self.assertRefused(lambda: self._whoami(source), UNAUTH, BAD_CREDENTIALS,
                           "BAD_CREDENTIALS", "WhoAmI through the interceptor, wrong password")

    def test_header_variants(self) -> None:
        token = self.s.client.obtain("alice", self.alice.password).token
        self.assertEqual(self.s.whoami([("authorization", f"jwt  {token}")]).username, "alice",
                         "prefix compared case-insensitively, runs of whitespace")
        self.assertRefused(lambda: self.s.whoami([("authorization", "JWT")]), UNAUTH,
                           "Invalid Authorization header. No credentials provided.", None,
                           "prefix alone")
        self.assertRefused(lambda: self.s.whoami([("authorization", f"JWT {token} x")]),
                           UNAUTH, "Invalid Authorization header. Credentials string should "
                           "not contain spaces.", None, "three parts")


class _CrossCheck:
    """drf-jwt (PyJWT) <-> jwtauth, for one algorithm: a mixin (not collected by
    itself); concrete classes also derive from PolyglotCase and set ALG."""

    ALG = ""
    # pylint: disable=no-member  # the TestCase methods come from PolyglotCase

    @classmethod
    def setUpClass(cls) -> None:
        cls.s = stack(cls.ALG)
        cls.alice = cls.s.users["alice"]

    def _pyjwt_token(self, **kw: Any) -> str:
        a = self.alice
        return self.s.sign(drf_jwt_payload(a.user_id, a.username, a.email, **kw))

    def test_jwtauth_token_decodes_with_pyjwt(self) -> None:
        issued = self.s.client.obtain("alice", self.alice.password)
        header = jwt.get_unverified_header(issued.token)
        self.assertEqual(header.get("alg"), self.ALG, f"header {header}")
        try:
            claims = drf_jwt_decode(issued.token, self.s.verify_key, self.ALG)
        except jwt.InvalidTokenError as exc:
            self.fail(f"PyJWT (as drf-jwt calls it) refused jwtauth's {self.ALG} token: "
                      f"{type(exc).__name__}: {exc}")
        self.assertEqual({k: claims.get(k) for k in ("user_id", "username", "email")},
                         {"user_id": self.alice.user_id, "username": "alice",
                          "email": "alice@example.com"})
        for name in ("user_id", "exp", "orig_iat"):
            self.assertIs(type(claims[name]), int, f"{name} is a JSON integer: {claims}")
        self.assertEqual(claims["exp"], issued.expires_at)

    def test_pyjwt_token_accepted_by_verify_and_profile(self) -> None:
        token = self._pyjwt_token()
        verified = self.s.client.verify(token)
        self.assertEqual((verified.username, verified.claims["user_id"]),
                         ("alice", self.alice.user_id), "VerifyToken of a PyJWT token")
        me = self.s.whoami([("authorization", f"JWT {token}")])
        self.assertEqual((me.username, me.user_id), ("alice", self.alice.user_id),
                         "profile-server (local validation) of a PyJWT token")
        refreshed = self.s.client.refresh(token)
        self.assertEqual(drf_jwt_decode(refreshed.token, self.s.verify_key, self.ALG)["orig_iat"],
                         jc.peek_claims(token)["orig_iat"], "refresh of a PyJWT token")

    def _refused_by_all(self, token: str, message: str, reason: str, what: str) -> None:
        with self.assertRaises(jwt.InvalidTokenError, msg=f"PyJWT must refuse {what}") as ctx:
            drf_jwt_decode(token, self.s.verify_key, self.ALG)
        self.assertEqual(drf_jwt_message(ctx.exception), message,
                         f"drf-jwt's message for PyJWT's {type(ctx.exception).__name__}, {what}")
        self.assertRefused(lambda: self.s.client.verify(token), UNAUTH, message, reason,
                           f"VerifyToken, {what}")
        self.assertRefused(lambda: self.s.whoami([("authorization", f"JWT {token}")]), UNAUTH,
                           message, None, f"profile-server, {what}")

    def test_tampered_pyjwt_token_refused(self) -> None:
        token = self._pyjwt_token()
        self._refused_by_all(tamper_payload(token, username="bob", user_id=2), DECODE_ERROR,
                             "TOKEN_INVALID", "PyJWT token with a changed payload")
        self._refused_by_all(tamper_signature(token), DECODE_ERROR, "TOKEN_INVALID",
                             "PyJWT token with a flipped signature bit")

    def test_expired_pyjwt_token_refused(self) -> None:
        self._refused_by_all(self._pyjwt_token(exp_in=-30), EXPIRED, "TOKEN_EXPIRED",
                             "PyJWT token expired 30 s ago")


class CrossCheckHS256Test(_CrossCheck, PolyglotCase):
    """HS256 with the server's generated data_dir/secret.key (raw bytes)."""

    ALG = "HS256"


class _AsymmetricCrossCheck(_CrossCheck):
    def test_algorithm_confusion_refused(self) -> None:
        """An HS256 token MACed with the public key PEM (the classic confusion attack)."""
        a = self.alice
        header = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
        payload = b64url(json.dumps({"user_id": a.user_id, "username": "alice",
                                     "exp": int(time.time()) + 300}).encode())
        mac = hmac.new(self.s.verify_key, f"{header}.{payload}".encode(), hashlib.sha256)
        self._refused_by_all(f"{header}.{payload}.{b64url(mac.digest())}", INCORRECT,
                             "TOKEN_REJECTED", f"HS256 token on an {self.ALG} server")


class CrossCheckES256Test(_AsymmetricCrossCheck, PolyglotCase):
    """ES256: a P-256 key from python3-cryptography (PKCS#8 PEM, mode 0600)."""

    ALG = "ES256"


class CrossCheckEdDSATest(_AsymmetricCrossCheck, PolyglotCase):
    """EdDSA: an Ed25519 key from python3-cryptography."""

    ALG = "EdDSA"


class CliTest(PolyglotCase):
    """jwtauth_client.py as a command: passwords and tokens on stdin, exit codes."""

    @classmethod
    def setUpClass(cls) -> None:
        cls.s = stack("HS256")
        cls.alice = cls.s.users["alice"]

    def cli(self, *args: str, stdin: str = "") -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, CLIENT_PY, f"--server={self.s.auth.address}",
                               f"--profile_server={self.s.profile.address}", *args],
                              input=stdin, capture_output=True, text=True, timeout=30,
                              check=False)

    def assertExit(self, out: subprocess.CompletedProcess, code: int, what: str) -> None:
        self.assertEqual(out.returncode, code, f"{what}: exit code; stderr: {out.stderr!r}")

    def test_obtain_verify_refresh(self) -> None:
        out = self.cli("obtain", "alice", stdin=self.alice.password + "\n")
        self.assertExit(out, 0, "obtain")
        token = out.stdout.strip()
        out = self.cli("verify", stdin=token + "\n")
        self.assertExit(out, 0, "verify")
        self.assertEqual(json.loads(out.stdout)["username"], "alice")
        out = self.cli("--json", "refresh", stdin=token + "\n")
        self.assertExit(out, 0, "refresh")
        self.assertEqual(set(json.loads(out.stdout)),
                         {"token", "expires_at", "refresh_expires_at"})

    def test_refusals(self) -> None:
        out = self.cli("obtain", "bob", stdin="wrong\n")
        self.assertExit(out, 1, "wrong password")
        self.assertEqual(out.stderr, f"jwtauth_client: BAD_CREDENTIALS: {BAD_CREDENTIALS}\n")
        expired = self.s.sign(drf_jwt_payload(self.alice.user_id, "alice", self.alice.email,
                                              exp_in=-30))
        out = self.cli("verify", stdin=expired)
        self.assertExit(out, 1, "expired token")
        self.assertEqual(out.stderr, f"jwtauth_client: TOKEN_EXPIRED: {EXPIRED}\n")
        out = self.cli("obtain", "alice", stdin="")
        self.assertExit(out, 2, "no password on stdin")

    def test_whoami(self) -> None:
        out = self.cli("whoami", "alice", stdin=self.alice.password + "\n")
        self.assertExit(out, 0, "whoami")
        self.assertEqual(out.stdout, f"you are alice (user {self.alice.user_id})\n")

    def test_unreachable(self) -> None:
        out = subprocess.run([sys.executable, CLIENT_PY, "--server=127.0.0.1:1", "--timeout=5",
                              "obtain", "alice"], input="x\n", capture_output=True, text=True,
                             timeout=30, check=False)
        self.assertExit(out, 3, "server unreachable")
        self.assertTrue(out.stderr.startswith("jwtauth_client: UNAVAILABLE: "), out.stderr)


if __name__ == "__main__":
    unittest.main()
