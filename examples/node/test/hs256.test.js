// The Node client against a real HS256 jwtauth-server and profile-server:
// obtain / verify / refresh, every refusal with its exact gRPC code, SPEC
// message and ErrorInfo reason, WhoAmI through the client interceptor, and
// cross-checks with jose (tokens jose signs with the server's secret, and
// jwtauth's tokens verified by jose).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { SignJWT, decodeProtectedHeader, jwtVerify } from 'jose';

import { AuthClient, PasswordTokenSource, ProfileClient, Status } from '../lib/jwtauth.js';
import {
  ITERATIONS,
  addUser,
  assertRefused,
  bins,
  claimsOf,
  now,
  startServer,
  tamperPayload,
  tamperSignature,
  tempDir,
} from './helpers.js';

const { UNAUTHENTICATED, INVALID_ARGUMENT } = Status;
const PASSWORD = 'correct horse battery staple';

describe('HS256: Node client against jwtauth-server and profile-server', { timeout: 45000 }, () => {
  let tmp;
  let auth;
  let profile;
  let authServer;
  let profileServer;
  let secret; // the server's raw HS256 secret (data/secret.key)
  let adaId;

  // A token signed by jose the way drf-jwt signs: header {alg} only, payload
  // user_id, username, exp, email, orig_iat.
  const drfToken = (claims) =>
    new SignJWT({ user_id: adaId, username: 'ada', email: 'ada@example.com', ...claims })
      .setProtectedHeader({ alg: 'HS256' })
      .sign(secret);

  const whoAmI = async (source, options) => {
    const client = new ProfileClient(profileServer.address, source, options);
    try {
      return await client.whoAmI();
    } finally {
      client.close();
    }
  };

  before(async () => {
    tmp = tempDir();
    const data = path.join(tmp.dir, 'data');
    addUser(data, 'ada', PASSWORD, { email: 'ada@example.com' });
    addUser(data, 'ghost', PASSWORD, { inactive: true });
    authServer = await startServer(
      bins.server,
      [`--data_dir=${data}`, '--allow_refresh', '--refresh_expiration_delta=60s', ITERATIONS],
      { dir: tmp.dir, name: 'jwtauth-server' },
    );
    // The first start generated the secret; profile-server verifies with it.
    secret = new Uint8Array(fs.readFileSync(path.join(data, 'secret.key')));
    profileServer = await startServer(bins.profile, [`--data_dir=${data}`], {
      dir: tmp.dir,
      name: 'profile-server',
    });
    auth = new AuthClient(authServer.address);
    const token = (await auth.obtainToken('ada', PASSWORD)).token;
    adaId = claimsOf(token).user_id;
  });

  after(async () => {
    auth?.close();
    const codes = await Promise.all([authServer?.stop(), profileServer?.stop()]);
    tmp?.remove();
    assert.deepEqual(codes, [0, 0], 'servers stop cleanly on SIGTERM');
  });

  test('obtain, verify and refresh', async () => {
    const t0 = now();
    const issued = await auth.obtainToken('ada', PASSWORD);
    const claims = claimsOf(issued.token);
    assert.equal(claims.username, 'ada');
    assert.equal(claims.email, 'ada@example.com');
    assert.equal(typeof claims.user_id, 'number');
    assert.ok(claims.orig_iat >= t0 - 1 && claims.orig_iat <= now() + 1);
    assert.equal(issued.expiresAt.getTime() / 1000, claims.exp);
    assert.ok(Math.abs(claims.exp - (t0 + 300)) <= 2, 'default expiration delta 300 s');
    assert.equal(issued.refreshExpiresAt.getTime() / 1000, claims.orig_iat + 60);

    const verified = await auth.verifyToken(issued.token);
    assert.equal(verified.token, issued.token);
    assert.deepEqual(
      { user_id: verified.claims.user_id, username: verified.claims.username, exp: verified.claims.exp },
      { user_id: claims.user_id, username: 'ada', exp: claims.exp },
    );
    assert.deepEqual(verified.user, { id: String(claims.user_id), username: 'ada', email: 'ada@example.com' });

    const refreshed = await auth.refreshToken(issued.token);
    assert.notEqual(refreshed.token, issued.token);
    const newClaims = claimsOf(refreshed.token);
    assert.equal(newClaims.orig_iat, claims.orig_iat, 'refresh keeps orig_iat');
    assert.ok(newClaims.exp >= claims.exp);
    assert.equal((await auth.verifyToken(refreshed.token)).user.username, 'ada');
  });

  test('jwtauth HS256 tokens verify with jose', async () => {
    const { token } = await auth.obtainToken('ada', PASSWORD);
    const { payload, protectedHeader } = await jwtVerify(token, secret, { algorithms: ['HS256'] });
    assert.equal(protectedHeader.alg, 'HS256');
    assert.equal(payload.username, 'ada');
    assert.equal(payload.email, 'ada@example.com');
    assert.equal(payload.user_id, adaId);
    // A wrong secret or a tampered token does not verify with jose either.
    await assert.rejects(jwtVerify(token, new Uint8Array(64), { algorithms: ['HS256'] }));
    await assert.rejects(
      jwtVerify(tamperPayload(token, (c) => ({ ...c, username: 'root' })), secret, { algorithms: ['HS256'] }),
    );
  });

  test('bad password, unknown and inactive users: BAD_CREDENTIALS', async () => {
    const msg = 'Unable to log in with provided credentials.';
    await assertRefused(auth.obtainToken('ada', 'wrong password'), UNAUTHENTICATED, msg, 'BAD_CREDENTIALS');
    await assertRefused(auth.obtainToken('nobody', PASSWORD), UNAUTHENTICATED, msg, 'BAD_CREDENTIALS');
    await assertRefused(auth.obtainToken('ghost', PASSWORD), UNAUTHENTICATED, msg, 'BAD_CREDENTIALS');
  });

  test('missing credentials: CREDENTIALS_MISSING', async () => {
    await assertRefused(
      auth.obtainToken('ada', ''),
      INVALID_ARGUMENT,
      'Must include "username" and "password".',
      'CREDENTIALS_MISSING',
    );
  });

  test('expired token (signed by jose with the server secret): TOKEN_EXPIRED', async () => {
    const t = now();
    const expired = await drfToken({ exp: t - 30, orig_iat: t - 60 });
    await assertRefused(auth.verifyToken(expired), UNAUTHENTICATED, 'Signature has expired.', 'TOKEN_EXPIRED');
    await assertRefused(auth.refreshToken(expired), UNAUTHENTICATED, 'Signature has expired.', 'TOKEN_EXPIRED');
  });

  test('tampered token: TOKEN_INVALID', async () => {
    const { token } = await auth.obtainToken('ada', PASSWORD);
    const msg = 'Error decoding signature.';
    const forged = tamperPayload(token, (c) => ({ ...c, username: 'root', user_id: 999 }));
    await assertRefused(auth.verifyToken(forged), UNAUTHENTICATED, msg, 'TOKEN_INVALID');
    await assertRefused(auth.refreshToken(forged), UNAUTHENTICATED, msg, 'TOKEN_INVALID');
    await assertRefused(auth.verifyToken(tamperSignature(token)), UNAUTHENTICATED, msg, 'TOKEN_INVALID');
    await assertRefused(auth.verifyToken('not.a.token'), UNAUTHENTICATED, msg, 'TOKEN_INVALID');
  });

  test('refresh past orig_iat + refresh_expiration_delta: REFRESH_EXPIRED', async () => {
    const t = now();
    const old = await drfToken({ exp: t + 300, orig_iat: t - 3600 });
    // Still a valid token for verify: only the refresh chain has ended.
    assert.equal((await auth.verifyToken(old)).claims.orig_iat, t - 3600);
    await assertRefused(auth.refreshToken(old), UNAUTHENTICATED, 'Refresh has expired.', 'REFRESH_EXPIRED');
  });

  test('refresh without orig_iat: ORIG_IAT_MISSING', async () => {
    const noOrigIat = await drfToken({ exp: now() + 300 });
    await assertRefused(
      auth.refreshToken(noOrigIat),
      UNAUTHENTICATED,
      'orig_iat field is required.',
      'ORIG_IAT_MISSING',
    );
  });

  test('jose-signed drf-jwt token: accepted by VerifyToken, RefreshToken and profile-server', async () => {
    const t = now();
    const token = await drfToken({ exp: t + 120, orig_iat: t - 10 });
    const verified = await auth.verifyToken(token);
    assert.deepEqual(verified.user, { id: String(adaId), username: 'ada', email: 'ada@example.com' });
    const refreshed = await auth.refreshToken(token);
    assert.equal(claimsOf(refreshed.token).orig_iat, t - 10);
    const me = await whoAmI(token);
    assert.deepEqual({ username: me.username, user_id: me.user_id }, { username: 'ada', user_id: String(adaId) });
  });

  test('token for a user that does not exist: USER_NOT_FOUND', async () => {
    const t = now();
    const token = await new SignJWT({ user_id: 4242, username: 'nobody', exp: t + 60, email: '', orig_iat: t })
      .setProtectedHeader({ alg: 'HS256' })
      .sign(secret);
    await assertRefused(auth.verifyToken(token), UNAUTHENTICATED, "User doesn't exist.", 'USER_NOT_FOUND');
  });

  test('Profile.WhoAmI through the interceptor', async () => {
    const { token } = await auth.obtainToken('ada', PASSWORD);
    const me = await whoAmI(token);
    assert.equal(me.username, 'ada');
    assert.equal(me.user_id, String(adaId));
    assert.equal(me.claims.email, 'ada@example.com');
    // A function and a PasswordTokenSource work as token sources too.
    assert.equal((await whoAmI(async () => token)).username, 'ada');
    assert.equal((await whoAmI(new PasswordTokenSource(auth, 'ada', PASSWORD))).username, 'ada');
  });

  test('Profile.WhoAmI without a token: credentials not provided', async () => {
    const msg = 'Authentication credentials were not provided.';
    await assertRefused(whoAmI(null), UNAUTHENTICATED, msg, null);
    // Another prefix is not ours: the same as no credentials (SPEC §5).
    const { token } = await auth.obtainToken('ada', PASSWORD);
    await assertRefused(whoAmI(token, { prefix: 'Bearer' }), UNAUTHENTICATED, msg, null);
  });

  test('Profile.WhoAmI with expired or tampered tokens', async () => {
    const t = now();
    const expired = await drfToken({ exp: t - 30, orig_iat: t - 60 });
    await assertRefused(whoAmI(expired), UNAUTHENTICATED, 'Signature has expired.', null);
    const { token } = await auth.obtainToken('ada', PASSWORD);
    const forged = tamperPayload(token, (c) => ({ ...c, username: 'root' }));
    await assertRefused(whoAmI(forged), UNAUTHENTICATED, 'Error decoding signature.', null);
  });

  test('a failing token source ends the call with its own error (reason kept)', async () => {
    await assertRefused(
      whoAmI(new PasswordTokenSource(auth, 'ada', 'wrong password')),
      UNAUTHENTICATED,
      'Unable to log in with provided credentials.',
      'BAD_CREDENTIALS',
    );
  });

  test('PasswordTokenSource refreshes near expiry and keeps orig_iat', async () => {
    // A margin longer than the token's life: every call renews, by refresh.
    const source = new PasswordTokenSource(auth, 'ada', PASSWORD, { marginMs: 3600 * 1000 });
    const first = await source.token();
    const second = await source.token();
    assert.notEqual(second, first);
    assert.equal(claimsOf(second).orig_iat, claimsOf(first).orig_iat);
    // With the default margin the token is reused.
    const steady = new PasswordTokenSource(auth, 'ada', PASSWORD);
    assert.equal(await steady.token(), await steady.token());
  });

  test('errors decode the google.rpc ErrorInfo from grpc-status-details-bin', async () => {
    await assert.rejects(auth.obtainToken('ada', 'nope'), (err) => {
      assert.equal(err.codeName, 'UNAUTHENTICATED');
      assert.equal(err.domain, 'jwtauth');
      assert.equal(err.message, 'UNAUTHENTICATED: Unable to log in with provided credentials. (BAD_CREDENTIALS)');
      assert.match(err.hint, /username and password/);
      assert.ok(err.cause.metadata.get('grpc-status-details-bin').length === 1);
      return true;
    });
  });

  test('tokens carry header alg HS256', async () => {
    const { token } = await auth.obtainToken('ada', PASSWORD);
    assert.equal(decodeProtectedHeader(token).alg, 'HS256');
  });
});
