// jwks-check.js: verifies a jwtauth token the way a Node service would, with
// jose's remote JWK Set (createRemoteJWKSet) pointed at jwtauth-server's
// /.well-known/jwks.json. Used by tests/server/lifecycle_test.cc.
//
//   node jwks-check.js http://127.0.0.1:PORT/.well-known/jwks.json < token
//
// Prints the token's username; exits 1 when jose refuses the token.
import fs from 'node:fs';

import { createRemoteJWKSet, jwtVerify } from 'jose';

const url = process.argv[2];
const token = fs.readFileSync(0, 'utf8').trim();
try {
  const jwks = createRemoteJWKSet(new URL(url));
  const { payload } = await jwtVerify(token, jwks);
  console.log(payload.username);
} catch (err) {
  console.error(`jose refused the token: ${err.code ?? ''} ${err.message}`);
  process.exit(1);
}
