// client.js as a person runs it: passwords and tokens on stdin, the token on
// stdout, refusals on stderr with code, message and ErrorInfo reason, and the
// C++ CLI's exit codes (0 done, 1 refused, 2 usage, 3 unreachable).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { ITERATIONS, NODE_DIR, addUser, bins, claimsOf, startServer, tempDir } from './helpers.js';

const CLIENT = path.join(NODE_DIR, 'client.js');
const PASSWORD = 'cli pass phrase';

function runCli(args, input = '') {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLIENT, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c) => (stderr += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), 20000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(input);
  });
}

describe('client.js command line', { timeout: 45000 }, () => {
  let tmp;
  let authServer;
  let profileServer;
  let flags;

  before(async () => {
    tmp = tempDir();
    const data = path.join(tmp.dir, 'data');
    addUser(data, 'ada', PASSWORD, { email: 'ada@example.com' });
    authServer = await startServer(bins.server, [`--data_dir=${data}`, '--allow_refresh', ITERATIONS], {
      dir: tmp.dir,
      name: 'jwtauth-server',
    });
    profileServer = await startServer(bins.profile, [`--data_dir=${data}`], { dir: tmp.dir, name: 'profile-server' });
    flags = [`--server=${authServer.address}`, `--profile=${profileServer.address}`];
  });

  after(async () => {
    const codes = await Promise.all([authServer?.stop(), profileServer?.stop()]);
    tmp?.remove();
    assert.deepEqual(codes, [0, 0]);
  });

  test('obtain (password on stdin), verify, refresh --json, whoami', async () => {
    const obtained = await runCli([...flags, 'obtain', 'ada'], `${PASSWORD}\n`);
    assert.equal(obtained.code, 0, obtained.stderr);
    const token = obtained.stdout.trim();
    assert.match(obtained.stdout, /^[\w-]+\.[\w-]+\.[\w-]+\n$/);
    assert.equal(claimsOf(token).username, 'ada');

    const verified = await runCli([...flags, 'verify'], `${token}\n`);
    assert.equal(verified.code, 0, verified.stderr);
    const claims = JSON.parse(verified.stdout);
    assert.equal(claims.username, 'ada');
    assert.equal(claims.email, 'ada@example.com');

    const refreshed = await runCli([...flags, '--json', 'refresh'], token);
    assert.equal(refreshed.code, 0, refreshed.stderr);
    const r = JSON.parse(refreshed.stdout);
    assert.equal(claimsOf(r.token).orig_iat, claims.orig_iat);
    assert.equal(Date.parse(r.expires_at) / 1000, claimsOf(r.token).exp);
    assert.equal(Date.parse(r.refresh_expires_at) / 1000, claims.orig_iat + 7 * 24 * 3600);

    const me = await runCli([...flags, 'whoami'], `${token}\n`);
    assert.equal(me.code, 0, me.stderr);
    assert.equal(me.stdout, `you are ada (user ${claims.user_id})\n`);

    const login = await runCli([...flags, '--json', 'login', 'ada'], `${PASSWORD}\n`);
    assert.equal(login.code, 0, login.stderr);
    assert.equal(JSON.parse(login.stdout).username, 'ada');
  });

  test('refusals: exit 1 with code, message and reason on stderr', async () => {
    const bad = await runCli([...flags, 'obtain', 'ada'], 'wrong password\n');
    assert.equal(bad.code, 1);
    assert.equal(bad.stdout, '');
    assert.equal(
      bad.stderr.split('\n')[0],
      'jwtauth-node: UNAUTHENTICATED: Unable to log in with provided credentials. (BAD_CREDENTIALS)',
    );

    const tampered = await runCli([...flags, 'verify'], 'eyJhbGciOiJIUzI1NiJ9.e30.AAAA\n');
    assert.equal(tampered.code, 1);
    assert.equal(tampered.stderr.split('\n')[0], 'jwtauth-node: UNAUTHENTICATED: Error decoding signature. (TOKEN_INVALID)');

    const loginBad = await runCli([...flags, 'login', 'ada'], 'wrong password\n');
    assert.equal(loginBad.code, 1);
    assert.match(loginBad.stderr, /Unable to log in with provided credentials\. \(BAD_CREDENTIALS\)/);

    const whoBad = await runCli([...flags, 'whoami'], 'eyJhbGciOiJIUzI1NiJ9.e30.AAAA\n');
    assert.equal(whoBad.code, 1);
    assert.match(whoBad.stderr, /^jwtauth-node: UNAUTHENTICATED: Error decoding signature\.\n/);
  });

  test('usage errors exit 2; passwords are never taken from arguments', async () => {
    assert.equal((await runCli([...flags, 'obtain', 'ada', PASSWORD])).code, 2);
    assert.equal((await runCli([...flags, 'obtain', 'ada'], '')).code, 2);
    assert.equal((await runCli([...flags, 'verify'], '\n')).code, 2);
    assert.equal((await runCli([...flags, '--bogus', 'verify'], 'x.y.z')).code, 2);
    const none = await runCli([]);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /^usage: node client\.js/);
  });

  test('server unreachable: exit 3', async () => {
    // Port 1 on loopback: nothing listens there.
    const r = await runCli(['--server=127.0.0.1:1', '--timeout=5', 'verify'], 'a.b.c\n');
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, /^jwtauth-node: UNAVAILABLE: /);
  });
});
