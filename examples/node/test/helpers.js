// Test harness: real jwtauth-server / profile-server processes in a temporary
// folder on 127.0.0.1 (port 0, read back from --port_file), users made with
// jwtauth-admin (password on stdin), stopped with SIGTERM.
//
// Binaries come from the environment (ctest sets them to the built targets),
// else from the repository's build/ folder (after `bash scripts/start`):
//   JWTAUTH_SERVER, JWTAUTH_ADMIN, PROFILE_SERVER
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

import { JwtAuthError } from '../lib/jwtauth.js';

const here = path.dirname(fileURLToPath(import.meta.url));
export const REPO = path.resolve(here, '../../..');
export const NODE_DIR = path.resolve(here, '..');

function binary(envName, relative) {
  const file = process.env[envName] || path.join(REPO, 'build', relative);
  if (!fs.existsSync(file)) {
    throw new Error(`${file} not found: build it, or set ${envName} to the built binary`);
  }
  return file;
}
export const bins = {
  get server() {
    return binary('JWTAUTH_SERVER', 'server/jwtauth-server');
  },
  get admin() {
    return binary('JWTAUTH_ADMIN', 'server/jwtauth-admin');
  },
  get profile() {
    return binary('PROFILE_SERVER', 'examples/profile-server');
  },
};

// Low PBKDF2 cost: these tests are about tokens, not hashing speed.
export const ITERATIONS = '--pbkdf2_iterations=1000';

// Every child still running when this process ends is killed.
const children = new Set();
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

/** A fresh 0700 temporary folder; remove() deletes it. */
export function tempDir(prefix = 'jwtauth-node-') {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  return { dir, remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** jwtauth-admin users add NAME, the password on stdin. */
export function addUser(dataDir, username, password, { email = '', inactive = false } = {}) {
  const args = [`--data_dir=${dataDir}`, ITERATIONS];
  if (email) args.push(`--email=${email}`);
  if (inactive) args.push('--inactive');
  args.push('users', 'add', username);
  const r = spawnSync(bins.admin, args, { input: `${password}\n`, encoding: 'utf8', timeout: 20000 });
  assert.equal(r.status, 0, `jwtauth-admin users add ${username} failed: ${r.stderr}${r.error ?? ''}`);
}

/**
 * Starts `bin` with `args` plus --listen=127.0.0.1:0 --port_file, waits for
 * the port. Returns { address, port, log(), stop() }; stop() sends SIGTERM and
 * resolves with the exit code.
 */
export async function startServer(bin, args, { dir, name }) {
  const portFile = path.join(dir, `${name}.port`);
  fs.rmSync(portFile, { force: true });
  let log = '';
  const child = spawn(bin, ['--listen=127.0.0.1:0', `--port_file=${portFile}`, ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  children.add(child);
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk) => {
    log += chunk;
  });
  const exited = new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      children.delete(child);
      resolve(code ?? signal);
    });
  });
  let exitCode;
  exited.then((c) => {
    exitCode = c;
  });
  const deadline = Date.now() + 20000;
  let port = 0;
  while (Date.now() < deadline) {
    if (exitCode !== undefined) throw new Error(`${name} exited (${exitCode}) at start:\n${log}`);
    // profile-server writes the file in place: wait for the whole line.
    const text = fs.existsSync(portFile) ? fs.readFileSync(portFile, 'utf8') : '';
    if (text.endsWith('\n') && Number(text) > 0) {
      port = Number(text);
      break;
    }
    await sleep(20);
  }
  if (!port) {
    child.kill('SIGKILL');
    throw new Error(`${name} did not write ${portFile} within 20 s:\n${log}`);
  }
  return {
    port,
    address: `127.0.0.1:${port}`,
    log: () => log,
    async stop() {
      if (exitCode === undefined) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

/** Seconds since the epoch, as JWT claims count time. */
export const now = () => Math.floor(Date.now() / 1000);

/**
 * Asserts that `promise` rejects with a jwtauth failure of exactly this gRPC
 * code, message and ErrorInfo reason (reason null: no ErrorInfo at all).
 */
export async function assertRefused(promise, code, message, reason) {
  await assert.rejects(promise, (err) => {
    assert.ok(err instanceof JwtAuthError, `not a JwtAuthError: ${err?.stack ?? err}`);
    assert.deepEqual(
      { code: err.code, details: err.details, reason: err.reason },
      { code, details: message, reason },
    );
    if (reason !== null) assert.equal(err.domain, 'jwtauth');
    return true;
  });
}

/** The token with its payload replaced (signature kept): a tampered token. */
export function tamperPayload(token, edit) {
  const [header, payload, signature] = token.split('.');
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  const changed = Buffer.from(JSON.stringify(edit(claims)), 'utf8').toString('base64url');
  return `${header}.${changed}.${signature}`;
}

/** The token with one signature character changed. */
export function tamperSignature(token) {
  const [header, payload, signature] = token.split('.');
  const bytes = Buffer.from(signature, 'base64url');
  bytes[bytes.length >> 1] ^= 0x01;
  return `${header}.${payload}.${bytes.toString('base64url')}`;
}

/** The claims of a token, without checking anything. */
export function claimsOf(token) {
  return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8'));
}
