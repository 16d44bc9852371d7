// jwtauth from Node.js: the AuthService (ObtainToken, VerifyToken, RefreshToken),
// a grpc-js client interceptor that sends `authorization: JWT <token>`, and
// errors explained through the google.rpc.ErrorInfo reason the server puts in
// the `grpc-status-details-bin` trailer.
//
// The .proto files are loaded at run time from the repository (proto/ and
// examples/proto/) with @grpc/proto-loader: there is no generated code.
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import fs from 'node:fs';

import grpc from '@grpc/grpc-js';
import protoLoader from '@grpc/proto-loader';
import protobuf from 'protobufjs';

const here = path.dirname(fileURLToPath(import.meta.url));
/** The repository's API protos (jwtauth/v1/auth.proto, google/rpc/*.proto). */
export const PROTO_DIR = path.resolve(here, '../../../proto');
/** The example service's protos (jwtauth/examples/v1/profile.proto). */
export const EXAMPLES_PROTO_DIR = path.resolve(here, '../../proto');

export const { status: Status, Metadata } = grpc;

const LOADER_OPTIONS = {
  keepCase: true, // field names as written in the .proto (expires_at, claims_json)
  longs: String, // int64 (user_id, Timestamp.seconds) without precision loss
  enums: String,
  defaults: true,
  oneofs: true, // google.protobuf.Value decodes with its `kind`
  includeDirs: [PROTO_DIR, EXAMPLES_PROTO_DIR],
};

let loaded = null;
/** Loads (once) the services: { AuthService, Profile } client constructors. */
export function loadServices() {
  if (loaded === null) {
    const definition = protoLoader.loadSync(
      ['jwtauth/v1/auth.proto', 'jwtauth/examples/v1/profile.proto'],
      LOADER_OPTIONS,
    );
    const pkg = grpc.loadPackageDefinition(definition);
    loaded = { AuthService: pkg.jwtauth.v1.AuthService, Profile: pkg.jwtauth.examples.v1.Profile };
  }
  return loaded;
}

// google.rpc.Status / ErrorInfo, decoded with protobufjs from the repository's
// wire-compatible copies (google/protobuf/any.proto is bundled with protobufjs).
let rpcTypes = null;
function loadRpcTypes() {
  if (rpcTypes === null) {
    const root = new protobuf.Root();
    root.resolvePath = (origin, target) => {
      for (const dir of [PROTO_DIR, EXAMPLES_PROTO_DIR]) {
        const candidate = path.join(dir, target);
        if (fs.existsSync(candidate)) return candidate;
      }
      return target;
    };
    root.loadSync(['google/rpc/status.proto', 'google/rpc/error_details.proto'], { keepCase: true });
    rpcTypes = {
      Status: root.lookupType('google.rpc.Status'),
      ErrorInfo: root.lookupType('google.rpc.ErrorInfo'),
    };
  }
  return rpcTypes;
}

const ERROR_INFO_TYPE = 'type.googleapis.com/google.rpc.ErrorInfo';

/** The ErrorInfo a jwtauth failure carries, or null: { reason, domain, metadata }. */
export function errorInfo(err) {
  const values = err?.metadata instanceof Metadata ? err.metadata.get('grpc-status-details-bin') : [];
  for (const value of values) {
    try {
      const { Status: StatusType, ErrorInfo } = loadRpcTypes();
      const details = StatusType.decode(Buffer.isBuffer(value) ? value : Buffer.from(value));
      for (const any of details.details) {
        if (any.type_url === ERROR_INFO_TYPE) {
          const info = ErrorInfo.decode(any.value);
          return { reason: info.reason, domain: info.domain, metadata: { ...info.metadata } };
        }
      }
    } catch {
      // Not a google.rpc.Status: no reason to report.
    }
  }
  return null;
}

const CODE_NAMES = Object.fromEntries(Object.entries(Status).map(([name, code]) => [code, name]));
/** "UNAUTHENTICATED" for 16, etc. */
export function codeName(code) {
  return CODE_NAMES[code] ?? `CODE_${code}`;
}

// What a person can do about each reason (auth.proto's error table).
const HINTS = {
  CREDENTIALS_MISSING: 'give both a username and a password',
  REQUEST_TOO_LARGE: 'the username or password is longer than the server accepts',
  NULL_CHARACTERS: 'the username or password contains a NUL character',
  BAD_CREDENTIALS: 'check the username and password (inactive users are refused the same way)',
  TOKEN_EXPIRED: 'the token has expired: obtain a new one (or refresh before it expires)',
  TOKEN_INVALID: 'the token is malformed or its signature does not match the server key',
  TOKEN_REJECTED: 'the token was refused (audience, issuer, not-before or algorithm)',
  PAYLOAD_INVALID: 'the token names no user',
  USER_NOT_FOUND: 'the user in the token no longer exists',
  USER_INACTIVE: 'the user in the token has been disabled',
  ORIG_IAT_MISSING: 'this token cannot be refreshed (the server does not allow refresh)',
  REFRESH_EXPIRED: 'the refresh window has ended: log in again with the password',
  THROTTLED: 'too many failed attempts: wait before trying again',
  OVERLOADED: 'the server is busy: try again shortly',
  STORE_UNAVAILABLE: 'the server cannot reach its user store: try again later',
};

// Protected services (the server-side check in front of Profile) answer with
// drf-jwt's message but no ErrorInfo: explain those by their exact text.
const MESSAGE_HINTS = {
  'Authentication credentials were not provided.':
    'send `authorization: JWT <token>` (obtain a token first)',
  'Invalid Authorization header. No credentials provided.': 'the authorization header has no token',
  'Invalid Authorization header. Credentials string should not contain spaces.':
    'the authorization header must be exactly "JWT <token>"',
  'Signature has expired.': HINTS.TOKEN_EXPIRED,
  'Error decoding signature.': HINTS.TOKEN_INVALID,
  'Incorrect authentication credentials.': HINTS.TOKEN_REJECTED,
  'Invalid payload.': HINTS.PAYLOAD_INVALID,
  "User doesn't exist.": HINTS.USER_NOT_FOUND,
  'User account is disabled.': HINTS.USER_INACTIVE,
};

/**
 * A plain description of any grpc-js error:
 * { code, codeName, message, reason, domain, metadata, hint, unreachable }.
 * `unreachable` is true when no server answered (UNAVAILABLE/DEADLINE_EXCEEDED
 * without a jwtauth reason).
 */
export function describeError(err) {
  const info = errorInfo(err);
  const code = typeof err?.code === 'number' ? err.code : Status.UNKNOWN;
  const message = typeof err?.details === 'string' ? err.details : String(err?.message ?? err);
  const reason = info?.reason ?? null;
  let hint = (reason ? HINTS[reason] : MESSAGE_HINTS[message]) ?? null;
  if (reason === 'THROTTLED' && info.metadata.retry_after_seconds) {
    hint = `too many failed attempts: retry in ${info.metadata.retry_after_seconds} s`;
  }
  const unreachable =
    reason === null && (code === Status.UNAVAILABLE || code === Status.DEADLINE_EXCEEDED);
  if (unreachable) hint = 'is the server running, and is the address right?';
  return {
    code,
    codeName: codeName(code),
    message,
    reason,
    domain: info?.domain ?? null,
    metadata: info?.metadata ?? {},
    hint,
    unreachable,
  };
}

/** One line, as the C++ `jwtauth` CLI prints it: "UNAUTHENTICATED: <message> (REASON)". */
export function formatError(err) {
  const d = describeError(err);
  return `${d.codeName}: ${d.message}${d.reason ? ` (${d.reason})` : ''}`;
}

/** An Error whose message is formatError's, keeping the gRPC facts on it. */
export class JwtAuthError extends Error {
  constructor(err) {
    super(formatError(err));
    this.name = 'JwtAuthError';
    const { message, ...facts } = describeError(err);
    Object.assign(this, facts);
    /** The server's message alone, e.g. "Signature has expired." */
    this.details = message;
    this.cause = err;
  }
}

// --- well-known types -------------------------------------------------------

/** google.protobuf.Timestamp → Date (null when unset). */
export function timestampToDate(ts) {
  if (!ts) return null;
  return new Date(Number(ts.seconds) * 1000 + Math.floor((ts.nanos ?? 0) / 1e6));
}

function valueToJs(v) {
  switch (v?.kind) {
    case 'nullValue':
      return null;
    case 'numberValue':
      return v.numberValue;
    case 'stringValue':
      return v.stringValue;
    case 'boolValue':
      return v.boolValue;
    case 'structValue':
      return structToObject(v.structValue);
    case 'listValue':
      return (v.listValue.values ?? []).map(valueToJs);
    default:
      return null;
  }
}

/** google.protobuf.Struct → plain object. */
export function structToObject(s) {
  const out = {};
  for (const [k, v] of Object.entries(s?.fields ?? {})) out[k] = valueToJs(v);
  return out;
}

// --- clients ------------------------------------------------------------------

function deadlineFrom(timeoutMs) {
  return new Date(Date.now() + timeoutMs);
}

function unary(client, method, request, { timeoutMs, metadata = new Metadata() }) {
  return new Promise((resolve, reject) => {
    client[method](request, metadata, { deadline: deadlineFrom(timeoutMs) }, (err, response) => {
      if (err) reject(new JwtAuthError(err));
      else resolve(response);
    });
  });
}

function issued(response) {
  return {
    token: response.token,
    expiresAt: timestampToDate(response.expires_at),
    refreshExpiresAt: timestampToDate(response.refresh_expires_at),
  };
}

/**
 * AuthClient: jwtauth.v1.AuthService with promises. Failures reject with a
 * JwtAuthError (code, codeName, details, reason, domain, metadata, hint,
 * unreachable; its message is formatError's line).
 */
export class AuthClient {
  constructor(address = '127.0.0.1:50051', { credentials, timeoutMs = 10000, channelOptions } = {}) {
    const { AuthService } = loadServices();
    this.client = new AuthService(address, credentials ?? grpc.credentials.createInsecure(), channelOptions);
    this.timeoutMs = timeoutMs;
  }

  /** username + password → { token, expiresAt, refreshExpiresAt }. */
  async obtainToken(username, password) {
    return issued(await unary(this.client, 'ObtainToken', { username, password }, { timeoutMs: this.timeoutMs }));
  }

  /** token → { token, expiresAt, refreshExpiresAt } (same orig_iat). */
  async refreshToken(token) {
    return issued(await unary(this.client, 'RefreshToken', { token }, { timeoutMs: this.timeoutMs }));
  }

  /** token → { token, claims, user: { id, username, email } }. */
  async verifyToken(token) {
    const r = await unary(this.client, 'VerifyToken', { token }, { timeoutMs: this.timeoutMs });
    return { token: r.token, claims: structToObject(r.claims), user: r.user };
  }

  close() {
    this.client.close();
  }
}

/**
 * authInterceptor: a grpc-js client interceptor that adds
 * `authorization: <prefix> <token>` to every call. `tokenSource` is a token
 * string, a function returning a token (or a promise of one), or an object
 * with a token() method such as PasswordTokenSource. If the source fails, the
 * call ends with that failure (code, message and ErrorInfo) instead of going
 * out without credentials.
 */
export function authInterceptor(tokenSource, { prefix = 'JWT' } = {}) {
  let getToken;
  if (typeof tokenSource === 'string') getToken = () => tokenSource;
  else if (typeof tokenSource === 'function') getToken = tokenSource;
  else if (tokenSource && typeof tokenSource.token === 'function') getToken = () => tokenSource.token();
  else throw new TypeError('authInterceptor: tokenSource must be a string, a function or have token()');

  return (options, nextCall) => {
    const call = new grpc.InterceptingCall(nextCall(options), {
      start(metadata, listener, next) {
        Promise.resolve()
          .then(getToken)
          .then(
            (token) => {
              metadata.set('authorization', `${prefix} ${token}`);
              next(metadata, listener);
            },
            (err) => {
              // End the call with the source's own failure (code, message and
              // trailers, so its ErrorInfo reason survives).
              const failure = err instanceof JwtAuthError ? err.cause : err;
              const code = typeof failure?.code === 'number' ? failure.code : Status.UNAUTHENTICATED;
              const details =
                typeof failure?.details === 'string' ? failure.details : `no token: ${err?.message ?? err}`;
              const trailers = failure?.metadata instanceof Metadata ? failure.metadata : new Metadata();
              next(metadata, {
                onReceiveStatus: (_status, nextStatus) => nextStatus({ code, details, metadata: trailers }),
              });
              call.cancelWithStatus(code, details);
            },
          );
      },
    });
    return call;
  };
}

/**
 * PasswordTokenSource: logs in once, then hands out the token, refreshing it
 * (RefreshToken) when it is within `marginMs` of expiry and its refresh window
 * is still open, else logging in again. Concurrent callers share one request.
 */
export class PasswordTokenSource {
  constructor(authClient, username, password, { marginMs = 30000 } = {}) {
    this.auth = authClient;
    this.username = username;
    this.password = password;
    this.marginMs = marginMs;
    this.current = null;
    this.pending = null;
  }

  async token() {
    const now = Date.now();
    if (this.current && this.current.expiresAt.getTime() - this.marginMs > now) return this.current.token;
    if (!this.pending) {
      this.pending = this.#renew(now).finally(() => {
        this.pending = null;
      });
    }
    return (await this.pending).token;
  }

  async #renew(now) {
    const c = this.current;
    if (c && c.refreshExpiresAt && c.refreshExpiresAt.getTime() > now && c.expiresAt.getTime() > now) {
      try {
        this.current = await this.auth.refreshToken(c.token);
        return this.current;
      } catch {
        // Refresh refused (window closed, user changed): log in again below.
      }
    }
    this.current = await this.auth.obtainToken(this.username, this.password);
    return this.current;
  }
}

/**
 * ProfileClient: the example's protected jwtauth.examples.v1.Profile service,
 * every call carrying the token from `tokenSource` (see authInterceptor).
 * tokenSource may be null to call without credentials.
 */
export class ProfileClient {
  constructor(address = '127.0.0.1:50061', tokenSource, { credentials, timeoutMs = 10000, prefix } = {}) {
    const { Profile } = loadServices();
    const interceptors = tokenSource == null ? [] : [authInterceptor(tokenSource, { prefix })];
    this.client = new Profile(address, credentials ?? grpc.credentials.createInsecure(), { interceptors });
    this.timeoutMs = timeoutMs;
  }

  /** → { username, user_id (decimal string), claims (object) }. */
  async whoAmI() {
    const r = await unary(this.client, 'WhoAmI', {}, { timeoutMs: this.timeoutMs });
    return { username: r.username, user_id: r.user_id, claims: JSON.parse(r.claims_json || '{}') };
  }

  async echo(message) {
    return (await unary(this.client, 'Echo', { message }, { timeoutMs: this.timeoutMs })).message;
  }

  close() {
    this.client.close();
  }
}
