#!/usr/bin/env node
// jwtauth from Node.js: obtain, verify and refresh tokens, and call the
// protected example service (Profile.WhoAmI) with `authorization: JWT <token>`.
// Passwords and tokens are read from standard input, never from arguments.
//
// Exit codes (as the C++ `jwtauth` CLI): 0 done, 1 refused by the server,
// 2 usage, 3 server unreachable.
import { AuthClient, JwtAuthError, PasswordTokenSource, ProfileClient } from './lib/jwtauth.js';

const USAGE = `usage: node client.js [--server=HOST:PORT] [--profile=HOST:PORT] [--json]
                      [--timeout=SECONDS] [--prefix=JWT] COMMAND
  obtain USERNAME   password on stdin; prints the token
  verify            token on stdin; prints its verified claims
  refresh           token on stdin; prints a new token (same orig_iat)
  whoami            token on stdin; calls Profile.WhoAmI with it
  login USERNAME    password on stdin; logs in and calls Profile.WhoAmI
defaults: --server=127.0.0.1:50051 (jwtauth-server) --profile=127.0.0.1:50061 (profile-server)`;

class UsageError extends Error {}

function parseArgs(argv) {
  const opts = { server: '127.0.0.1:50051', profile: '127.0.0.1:50061', json: false, timeout: 10, prefix: 'JWT' };
  const rest = [];
  for (const arg of argv) {
    const m = /^--([a-z_]+)(?:=(.*))?$/.exec(arg);
    if (!m) {
      rest.push(arg);
      continue;
    }
    const [, name, value] = m;
    if (name === 'json' && value === undefined) opts.json = true;
    else if (name === 'help') throw new UsageError('');
    else if (['server', 'profile', 'prefix'].includes(name) && value) opts[name] = value;
    else if (name === 'timeout' && Number(value) > 0) opts.timeout = Number(value);
    else throw new UsageError(`unknown or incomplete flag ${arg}`);
  }
  return { opts, rest };
}

// Reads one line from standard input: from a pipe or file, its first line;
// from a terminal, typed with echo off.
async function readSecretLine(prompt) {
  const stdin = process.stdin;
  if (stdin.isTTY) {
    process.stderr.write(prompt);
    stdin.setRawMode(true);
    stdin.setEncoding('utf8');
    stdin.resume();
    const line = await new Promise((resolve) => {
      let buf = '';
      const onData = (chunk) => {
        for (const ch of chunk) {
          if (ch === '\r' || ch === '\n' || ch === '\u0004') {
            stdin.off('data', onData);
            resolve(buf);
            return;
          }
          if (ch === '\u0003') {
            stdin.setRawMode(false);
            process.stderr.write('\n');
            process.exit(130);
          }
          if (ch === '\u007f' || ch === '\b') buf = buf.slice(0, -1);
          else buf += ch;
        }
      };
      stdin.on('data', onData);
    });
    stdin.setRawMode(false);
    stdin.pause();
    process.stderr.write('\n');
    return line;
  }
  const chunks = [];
  for await (const chunk of stdin) chunks.push(chunk);
  const text = Buffer.concat(chunks).toString('utf8');
  const nl = text.indexOf('\n');
  return (nl === -1 ? text : text.slice(0, nl)).replace(/\r$/, '');
}

async function readPassword() {
  const password = await readSecretLine('Password: ');
  if (password === '') throw new UsageError('no password on standard input');
  return password;
}

async function readToken() {
  const token = (await readSecretLine('Token: ')).trim();
  if (token === '') throw new UsageError('no token on standard input');
  return token;
}

function printIssued(t, json) {
  if (!json) {
    console.log(t.token);
    return;
  }
  const out = { token: t.token, expires_at: t.expiresAt.toISOString() };
  if (t.refreshExpiresAt) out.refresh_expires_at = t.refreshExpiresAt.toISOString();
  console.log(JSON.stringify(out));
}

function printWhoAmI(me, json) {
  if (json) console.log(JSON.stringify(me));
  else console.log(`you are ${me.username} (user ${me.user_id})`);
}

async function run(argv) {
  const { opts, rest } = parseArgs(argv);
  const [cmd, ...args] = rest;
  const timeoutMs = opts.timeout * 1000;
  const auth = new AuthClient(opts.server, { timeoutMs });
  const profile = (source) => new ProfileClient(opts.profile, source, { timeoutMs, prefix: opts.prefix });
  try {
    if (cmd === 'obtain' && args.length === 1) {
      printIssued(await auth.obtainToken(args[0], await readPassword()), opts.json);
    } else if (cmd === 'refresh' && args.length === 0) {
      printIssued(await auth.refreshToken(await readToken()), opts.json);
    } else if (cmd === 'verify' && args.length === 0) {
      const v = await auth.verifyToken(await readToken());
      console.log(JSON.stringify(opts.json ? { claims: v.claims, user: v.user } : v.claims));
    } else if (cmd === 'whoami' && args.length === 0) {
      const client = profile(await readToken());
      try {
        printWhoAmI(await client.whoAmI(), opts.json);
      } finally {
        client.close();
      }
    } else if (cmd === 'login' && args.length === 1) {
      const client = profile(new PasswordTokenSource(auth, args[0], await readPassword()));
      try {
        printWhoAmI(await client.whoAmI(), opts.json);
      } finally {
        client.close();
      }
    } else {
      throw new UsageError(cmd ? `unknown command or wrong arguments: ${rest.join(' ')}` : '');
    }
    return 0;
  } finally {
    auth.close();
  }
}

try {
  process.exitCode = await run(process.argv.slice(2));
} catch (err) {
  if (err instanceof UsageError) {
    if (err.message) console.error(`jwtauth-node: ${err.message}`);
    console.error(USAGE);
    process.exitCode = 2;
  } else if (err instanceof JwtAuthError) {
    console.error(`jwtauth-node: ${err.message}`);
    if (err.hint) console.error(`jwtauth-node: ${err.hint}`);
    process.exitCode = err.unreachable ? 3 : 1;
  } else {
    console.error(`jwtauth-node: ${err?.stack ?? err}`);
    process.exitCode = 1;
  }
}
