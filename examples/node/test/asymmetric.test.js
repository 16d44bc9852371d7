// Cross-checks with jose on asymmetric servers (ES256, RS256, EdDSA). Keys
// come from node:crypto (PKCS#8 private PEM, mode 0600; SPKI public PEM);
// jwtauth-server signs with the private key, profile-server verifies with the
// public key. jwtauth's tokens must verify with jose, and tokens jose signs the
// way drf-jwt does must be accepted by VerifyToken and by profile-server;
// tampered or foreign-key tokens are refused with drf-jwt's message.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { SignJWT, importPKCS8, importSPKI, jwtVerify } from 'jose';

import { AuthClient, ProfileClient, Status } from '../lib/jwtauth.js';
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

const { UNAUTHENTICATED } = Status;
const PASSWORD = 'asymmetric pass phrase';

function keyPair(alg) {
  const encoding = {
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  };
  switch (alg) {
    case 'ES256':
      return generateKeyPairSync('ec', { namedCurve: 'P-256', ...encoding });
    case 'RS256':
      return generateKeyPairSync('rsa', { modulusLength: 2048, ...encoding });
    case 'EdDSA':
      return generateKeyPairSync('ed25519', encoding);
    default:
      throw new Error(alg);
  }
}

for (const alg of ['ES256', 'RS256', 'EdDSA']) {
  describe(`${alg}: jwtauth and jose agree`, { timeout: 30000 }, () => {
    let tmp;
    let auth;
    let authServer;
    let profileServer;
    let publicKey;
    let privateKey;
    let adaId;

    const drfToken = (claims, key = privateKey) =>
      new SignJWT({ user_id: adaId, username: 'ada', email: 'ada@example.com', ...claims })
        .setProtectedHeader({ alg })
        .sign(key);

    const whoAmI = async (token) => {
      const client = new ProfileClient(profileServer.address, token);
      try {
        return await client.whoAmI();
      } finally {
        client.close();
      }
    };

    before(async () => {
      tmp = tempDir();
      const data = path.join(tmp.dir, 'data');
      const pair = keyPair(alg);
      const privateFile = path.join(tmp.dir, 'private.pem');
      const publicFile = path.join(tmp.dir, 'public.pem');
      fs.writeFileSync(privateFile, pair.privateKey, { mode: 0o600 });
      fs.writeFileSync(publicFile, pair.publicKey, { mode: 0o644 });
      publicKey = await importSPKI(pair.publicKey, alg);
      privateKey = await importPKCS8(pair.privateKey, alg);

      addUser(data, 'ada', PASSWORD, { email: 'ada@example.com' });
      authServer = await startServer(
        bins.server,
        [`--data_dir=${data}`, `--algorithm=${alg}`, `--private_key_file=${privateFile}`, '--allow_refresh', ITERATIONS],
        { dir: tmp.dir, name: 'jwtauth-server' },
      );
      profileServer = await startServer(bins.profile, [`--algorithm=${alg}`, `--public_key_file=${publicFile}`], {
        dir: tmp.dir,
        name: 'profile-server',
      });
      auth = new AuthClient(authServer.address);
      adaId = claimsOf((await auth.obtainToken('ada', PASSWORD)).token).user_id;
    });

    after(async () => {
      auth?.close();
      const codes = await Promise.all([authServer?.stop(), profileServer?.stop()]);
      tmp?.remove();
      assert.deepEqual(codes, [0, 0], 'servers stop cleanly on SIGTERM');
    });

    test('jwtauth tokens verify with jose and the public key', async () => {
      const issued = await auth.obtainToken('ada', PASSWORD);
      const { payload, protectedHeader } = await jwtVerify(issued.token, publicKey, { algorithms: [alg] });
      assert.equal(protectedHeader.alg, alg);
      assert.equal(payload.username, 'ada');
      assert.equal(payload.email, 'ada@example.com');
      assert.equal(payload.user_id, adaId);
      assert.equal(payload.exp, issued.expiresAt.getTime() / 1000);
      const refreshed = await auth.refreshToken(issued.token);
      const again = await jwtVerify(refreshed.token, publicKey, { algorithms: [alg] });
      assert.equal(again.payload.orig_iat, payload.orig_iat);
      // And profile-server (public key only) accepts them.
      assert.equal((await whoAmI(issued.token)).username, 'ada');
    });

    test('jose-signed drf-jwt tokens are accepted by VerifyToken and profile-server', async () => {
      const t = now();
      const token = await drfToken({ exp: t + 120, orig_iat: t });
      const verified = await auth.verifyToken(token);
      assert.deepEqual(verified.user, { id: String(adaId), username: 'ada', email: 'ada@example.com' });
      assert.equal(verified.claims.exp, t + 120);
      const me = await whoAmI(token);
      assert.deepEqual({ username: me.username, user_id: me.user_id }, { username: 'ada', user_id: String(adaId) });
      // RefreshToken takes it too, and its answer verifies with jose.
      const refreshed = await auth.refreshToken(token);
      assert.equal((await jwtVerify(refreshed.token, publicKey, { algorithms: [alg] })).payload.orig_iat, t);
    });

    test('tampered tokens are refused: Error decoding signature.', async () => {
      const msg = 'Error decoding signature.';
      const t = now();
      const token = await drfToken({ exp: t + 120, orig_iat: t });
      const forged = tamperPayload(token, (c) => ({ ...c, username: 'root' }));
      await assertRefused(auth.verifyToken(forged), UNAUTHENTICATED, msg, 'TOKEN_INVALID');
      await assertRefused(whoAmI(forged), UNAUTHENTICATED, msg, null);
      const badSignature = tamperSignature(token);
      await assertRefused(auth.verifyToken(badSignature), UNAUTHENTICATED, msg, 'TOKEN_INVALID');
      await assertRefused(whoAmI(badSignature), UNAUTHENTICATED, msg, null);
      // Signed by another key of the same algorithm.
      const other = await importPKCS8(keyPair(alg).privateKey, alg);
      const foreign = await drfToken({ exp: t + 120, orig_iat: t }, other);
      await assertRefused(auth.verifyToken(foreign), UNAUTHENTICATED, msg, 'TOKEN_INVALID');
      await assertRefused(whoAmI(foreign), UNAUTHENTICATED, msg, null);
    });

    test('expired jose-signed tokens: Signature has expired.', async () => {
      const t = now();
      const expired = await drfToken({ exp: t - 30, orig_iat: t - 60 });
      await assertRefused(auth.verifyToken(expired), UNAUTHENTICATED, 'Signature has expired.', 'TOKEN_EXPIRED');
      await assertRefused(whoAmI(expired), UNAUTHENTICATED, 'Signature has expired.', null);
    });

    test('HS256 token keyed with the public key (algorithm confusion) is refused', async () => {
      const t = now();
      const pem = new TextEncoder().encode(fs.readFileSync(path.join(tmp.dir, 'public.pem'), 'utf8'));
      const confused = await new SignJWT({ user_id: adaId, username: 'ada', exp: t + 120, email: '', orig_iat: t })
        .setProtectedHeader({ alg: 'HS256' })
        .sign(pem);
      const msg = 'Incorrect authentication credentials.';
      await assertRefused(auth.verifyToken(confused), UNAUTHENTICATED, msg, 'TOKEN_REJECTED');
      await assertRefused(whoAmI(confused), UNAUTHENTICATED, msg, null);
    });
  });
}
