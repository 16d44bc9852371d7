// postgres_user_store.cc: the PostgreSQL UserStore over libpq.
//
// Pool: at most pool_size connections (idle + in use) behind a common::Mutex;
// a call waits for a free one at most acquire_timeout (then UNAVAILABLE).
// Every connection is made with TCP keepalives, a TCP user timeout, a connect
// timeout, client_encoding UTF8 and, right after connecting, the session's
// statement_timeout. A connection is retired when libpq reports it bad, when
// a statement failed at connection level (SQLSTATE class 08, 57P01-57P03, no
// SQLSTATE at all) or when it is left inside a transaction, and a lost one
// takes the idle ones with it (after a restart they are all gone). An idle
// connection is probed (poll, without blocking) before reuse: anything
// readable there is the goodbye a restarting server sends to idle sessions,
// or EOF. The next call simply connects afresh, so the store recovers by
// itself after a server restart. A read that failed at connection level on a
// reused connection is retried once on a new one (a write is not: it might
// have been applied).
//
// SQL: fixed statements, every value bound with PQexecParams (text format).
// Timestamps are read as integer microseconds since the epoch
// ((extract(epoch from t) * 1000000)::bigint) and written as UTC literals
// with an explicit "+00" offset, so neither depends on the session TimeZone.
//
// Messages name the server as postgresql://host:port/db (never the user name
// or password from the URL) and carry only the server's primary message for
// schema and connection errors; data errors (SQLSTATE class 22), whose text
// may quote values, are reported by SQLSTATE alone.
#include "server/postgres_user_store.h"

#include <libpq-fe.h>
#include <poll.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/cord.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/mutex.h"
#include "server/user_fields.h"

namespace jwtauth::server {
namespace {

// pg_advisory_xact_lock key serialising jwtauth migrations ("jwtauth" + 1).
constexpr int64_t kMigrationLockKey = 0x6a77746175746801;
// RevokeToken serialises one user's revocations on advisory lock
// kRevokeLockBase ^ user_id (a bijection: one key per user).
constexpr int64_t kRevokeLockBase = 0x6a77746175747200;
// Marks the status of a statement PostgreSQL aborted in a deadlock or a
// serialization failure (RunRevocation runs such a transaction again).
constexpr absl::string_view kConflictPayload = "jwtauth.postgres/conflict";

// The revocation counter's next value, as the user's new generation: the
// statement every generation bump runs (RevokeToken over the cap,
// BumpTokenGeneration).
constexpr const char* kBumpGenerationSql =
    "WITH next AS (UPDATE jwtauth_revocation_seq SET value = value + 1 "
    "WHERE id = 1 RETURNING value) "
    "INSERT INTO jwtauth_user_state (user_id, token_generation, seq) "
    "SELECT $1::bigint, 1, value FROM next "
    "ON CONFLICT (user_id) DO UPDATE SET token_generation = "
    "jwtauth_user_state.token_generation + 1, seq = EXCLUDED.seq "
    "RETURNING token_generation";

// Read from auth_user LEFT JOIN jwtauth_user_state (kUserFrom); the last
// column is the token generation.
constexpr const char* kUserColumns =
    "id, password, "
    "CASE WHEN isfinite(last_login) THEN (extract(epoch from last_login) * "
    "1000000)::bigint END, "
    "is_superuser, username, first_name, last_name, email, is_staff, "
    "is_active, "
    "CASE WHEN isfinite(date_joined) THEN (extract(epoch from date_joined) * "
    "1000000)::bigint END, COALESCE(s.token_generation, 0)";
constexpr const char* kUserFrom =
    " FROM auth_user u LEFT JOIN jwtauth_user_state s ON s.user_id = u.id";

const std::string& FindByUsernameSql() {
  static const std::string* sql = new std::string(
      absl::StrCat("SELECT ", kUserColumns, kUserFrom, " WHERE username = $1"));
  return *sql;
}
const std::string& FindByIdSql() {
  static const std::string* sql = new std::string(absl::StrCat(
      "SELECT ", kUserColumns, kUserFrom, " WHERE id = $1::bigint"));
  return *sql;
}
// One read for VerifyToken/RefreshToken: the user and the jti's status.
const std::string& FindForTokenSql() {
  static const std::string* sql = new std::string(
      absl::StrCat("SELECT ", kUserColumns,
                   ", EXISTS(SELECT 1 FROM jwtauth_revoked WHERE jti = $2)",
                   kUserFrom, " WHERE username = $1"));
  return *sql;
}
const std::string& ListUsersSql() {
  static const std::string* sql = new std::string(
      absl::StrCat("SELECT ", kUserColumns, kUserFrom, " ORDER BY id"));
  return *sql;
}

constexpr const char* kInsertUserSql =
    "INSERT INTO auth_user (password, last_login, is_superuser, username, "
    "first_name, last_name, "
    "email, is_staff, is_active, date_joined) "
    "VALUES ($1, NULL, $2::boolean, $3, '', '', $4, $5::boolean, $6::boolean, "
    "$7::timestamptz) "
    "RETURNING id";

// jwtauth's schema migrations, applied in order, each once, each in its own
// transaction. Never edit one that has shipped: add the next version.
struct Migration {
  int version;
  // When this table already exists (made by Django, say), the statements are
  // skipped: jwtauth never alters tables it did not create.
  const char* unless_table_exists;
  const char* statements[12];  // nullptr-terminated
};
constexpr Migration kMigrations[] = {
    // Django's auth_user exactly as Django 4.1+ creates it on PostgreSQL (an
    // identity id; Django <= 4.0 made a serial column, which serves the same
    // here: jwtauth never inserts an id), with the index Django adds for LIKE
    // lookups on username. A Django database already has it: a no-op then.
    {1,
     "auth_user",
     {"CREATE TABLE IF NOT EXISTS \"auth_user\" ("
      "\"id\" integer NOT NULL PRIMARY KEY GENERATED BY DEFAULT AS IDENTITY, "
      "\"password\" varchar(128) NOT NULL, "
      "\"last_login\" timestamp with time zone NULL, "
      "\"is_superuser\" boolean NOT NULL, "
      "\"username\" varchar(150) NOT NULL UNIQUE, "
      "\"first_name\" varchar(150) NOT NULL, "
      "\"last_name\" varchar(150) NOT NULL, "
      "\"email\" varchar(254) NOT NULL, "
      "\"is_staff\" boolean NOT NULL, "
      "\"is_active\" boolean NOT NULL, "
      "\"date_joined\" timestamp with time zone NOT NULL)",
      "CREATE INDEX IF NOT EXISTS \"auth_user_username_6821ab7c_like\" "
      "ON \"auth_user\" (\"username\" varchar_pattern_ops)",
      nullptr}},
    // Token lifecycle (issue 9): revoked jtis until their token's expiry,
    // per-user token generations, one counter ordering every change (its row
    // lock makes revocations commit in seq order, so WatchRevocations' polls
    // never skip one), and a trigger so that a password change or a
    // deactivation revokes the user's tokens whoever writes auth_user
    // (jwtauth-admin, Django's admin, SQL). auth_user keeps its columns and
    // indexes; jwtauth's rows go with their user (ON DELETE CASCADE).
    {2,
     nullptr,
     {"CREATE TABLE jwtauth_revocation_seq ("
      "id integer PRIMARY KEY CHECK (id = 1), value bigint NOT NULL)",
      "INSERT INTO jwtauth_revocation_seq (id, value) VALUES (1, 0)",
      "CREATE TABLE jwtauth_user_state ("
      "user_id bigint PRIMARY KEY REFERENCES auth_user (id) ON DELETE CASCADE, "
      "token_generation bigint NOT NULL, seq bigint NOT NULL)",
      "CREATE INDEX jwtauth_user_state_seq ON jwtauth_user_state (seq)",
      "CREATE TABLE jwtauth_revoked ("
      "jti varchar(255) PRIMARY KEY, "
      "user_id bigint NOT NULL REFERENCES auth_user (id) ON DELETE CASCADE, "
      "expires_at bigint NOT NULL, seq bigint NOT NULL)",
      "CREATE INDEX jwtauth_revoked_expires_at ON jwtauth_revoked (expires_at)",
      "CREATE INDEX jwtauth_revoked_seq ON jwtauth_revoked (seq)",
      "CREATE FUNCTION jwtauth_revoke_on_user_change() RETURNS trigger "
      "LANGUAGE plpgsql AS $$ DECLARE next_seq bigint; BEGIN "
      "IF NEW.password IS DISTINCT FROM OLD.password OR "
      "(OLD.is_active AND NOT NEW.is_active) THEN "
      "UPDATE jwtauth_revocation_seq SET value = value + 1 WHERE id = 1 "
      "RETURNING value INTO next_seq; "
      "INSERT INTO jwtauth_user_state (user_id, token_generation, seq) "
      "VALUES (NEW.id, 1, next_seq) ON CONFLICT (user_id) DO UPDATE SET "
      "token_generation = jwtauth_user_state.token_generation + 1, "
      "seq = EXCLUDED.seq; "
      "END IF; RETURN NULL; END $$",
      "CREATE TRIGGER jwtauth_revoke_on_user_change "
      "AFTER UPDATE OF password, is_active ON auth_user FOR EACH ROW "
      "EXECUTE FUNCTION jwtauth_revoke_on_user_change()",
      nullptr}},
    // Deleting a user revokes their tokens, and the generation outlives the
    // user: without it, services validating locally would forget the user's
    // revocations once a feed restarts, and accept a stolen token until its
    // exp.
    {3,
     nullptr,
     {"ALTER TABLE jwtauth_user_state "
      "DROP CONSTRAINT IF EXISTS jwtauth_user_state_user_id_fkey",
      "CREATE FUNCTION jwtauth_revoke_on_user_delete() RETURNS trigger "
      "LANGUAGE plpgsql AS $$ DECLARE next_seq bigint; BEGIN "
      "UPDATE jwtauth_revocation_seq SET value = value + 1 WHERE id = 1 "
      "RETURNING value INTO next_seq; "
      "INSERT INTO jwtauth_user_state (user_id, token_generation, seq) "
      "VALUES (OLD.id, 1, next_seq) ON CONFLICT (user_id) DO UPDATE SET "
      "token_generation = jwtauth_user_state.token_generation + 1, "
      "seq = EXCLUDED.seq; "
      "RETURN NULL; END $$",
      "CREATE TRIGGER jwtauth_revoke_on_user_delete "
      "AFTER DELETE ON auth_user FOR EACH ROW "
      "EXECUTE FUNCTION jwtauth_revoke_on_user_delete()",
      nullptr}},
    // RevokeToken counts the user's revocations in force (its per-user cap).
    {4,
     nullptr,
     {"CREATE INDEX jwtauth_revoked_user_id ON jwtauth_revoked (user_id)",
      nullptr}},
    // watch_until: how long services validating locally must refuse a
    // revoked token (its exp plus the longest leeway), which the feed sends
    // and the per-user cap counts, while the server keeps the row until
    // expires_at (the end of a refresh window). NULL in rows written before,
    // or by replicas of an older version during an upgrade: expires_at.
    {5,
     nullptr,
     {"ALTER TABLE jwtauth_revoked ADD COLUMN watch_until bigint",
      "DROP INDEX jwtauth_revoked_user_id",
      "CREATE INDEX jwtauth_revoked_user_watch ON jwtauth_revoked "
      "(user_id, watch_until)",
      nullptr}},
};

constexpr const char* kCreateMigrationsTable =
    "CREATE TABLE IF NOT EXISTS jwtauth_schema_migrations "
    "(version integer PRIMARY KEY, applied_at timestamptz NOT NULL)";

struct ResultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using Result = std::unique_ptr<PGresult, ResultDeleter>;

// Connection: one libpq connection, used by one call at a time.
struct Connection {
  PGconn* conn = nullptr;
  // Set when a statement failed at connection level: never reuse.
  bool broken = false;

  Connection() = default;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection() { PQfinish(conn); }
};

void IgnoreNotice(void*, const char*) {}

// OneLine turns libpq's multi-line messages into one trimmed line.
std::string OneLine(absl::string_view text) {
  std::string out;
  out.reserve(text.size());
  bool space = false;
  for (const char c : text) {
    if (c == '\n' || c == '\t' || c == '\r') {
      space = true;
      continue;
    }
    if (space && !out.empty()) out += ' ';
    space = false;
    out += c;
  }
  return std::string(absl::StripAsciiWhitespace(out));
}

// StorableText: PostgreSQL text holds neither NUL nor invalid UTF-8.
absl::Status StorableText(absl::string_view value, absl::string_view field) {
  if (value.find('\0') != absl::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, " must not contain NUL characters"));
  }
  if (CountCodePoints(value) < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, " must be valid UTF-8"));
  }
  return absl::OkStatus();
}

// TimeLiteral writes `t` (truncated to microseconds, as Django stores it) as
// a UTC timestamptz literal; years outside 1..9999 are refused.
absl::StatusOr<std::string> TimeLiteral(absl::Time t) {
  if (t == absl::InfiniteFuture() || t == absl::InfinitePast()) {
    return absl::InvalidArgumentError("login time must be finite");
  }
  const absl::Time truncated = absl::FromUnixMicros(absl::ToUnixMicros(t));
  const absl::CivilSecond civil =
      absl::ToCivilSecond(truncated, absl::UTCTimeZone());
  if (civil.year() < 1 || civil.year() > 9999) {
    return absl::InvalidArgumentError("time out of range (years 1 to 9999)");
  }
  return absl::FormatTime("%Y-%m-%d %H:%M:%E6S+00", truncated,
                          absl::UTCTimeZone());
}

std::string Value(const PGresult* r, int row, int column) {
  return std::string(PQgetvalue(r, row, column),
                     static_cast<size_t>(PQgetlength(r, row, column)));
}

std::optional<int64_t> IntValue(const PGresult* r, int row, int column) {
  if (PQgetisnull(r, row, column)) return std::nullopt;
  int64_t v = 0;
  if (!absl::SimpleAtoi(PQgetvalue(r, row, column), &v)) return std::nullopt;
  return v;
}

bool BoolValue(const PGresult* r, int row, int column) {
  return !PQgetisnull(r, row, column) && PQgetvalue(r, row, column)[0] == 't';
}

// ReadUser reads a row selected with kUserColumns. Unreadable datetimes
// (infinity) do not fail the lookup: date_joined falls back to the epoch
// and last_login to "never", as in the SQLite store.
User ReadUser(const PGresult* r, int row) {
  User user;
  user.id = IntValue(r, row, 0).value_or(0);
  user.password_hash = Value(r, row, 1);
  if (std::optional<int64_t> us = IntValue(r, row, 2); us.has_value()) {
    user.last_login = absl::FromUnixMicros(*us);
  }
  user.is_superuser = BoolValue(r, row, 3);
  user.username = Value(r, row, 4);
  user.first_name = Value(r, row, 5);
  user.last_name = Value(r, row, 6);
  user.email = Value(r, row, 7);
  user.is_staff = BoolValue(r, row, 8);
  user.is_active = BoolValue(r, row, 9);
  user.date_joined = absl::FromUnixMicros(IntValue(r, row, 10).value_or(0));
  user.token_generation = IntValue(r, row, 11).value_or(0);
  return user;
}

// DisplayName: "postgresql://host:port/db" from the parsed URL, without user
// name, password or parameters.
std::string DisplayName(const PQconninfoOption* options) {
  std::string host, port, dbname;
  for (const PQconninfoOption* o = options;
       o != nullptr && o->keyword != nullptr; ++o) {
    if (o->val == nullptr || o->val[0] == '\0') continue;
    const absl::string_view key = o->keyword;
    if (key == "host") {
      host = o->val;
    } else if (key == "hostaddr" && host.empty()) {
      host = o->val;
    } else if (key == "port") {
      port = o->val;
    } else if (key == "dbname") {
      dbname = o->val;
    }
  }
  if (host.empty()) host = "localhost";
  if (absl::StrContains(host, ':') && !absl::StrContains(host, ',')) {
    host = absl::StrCat("[", host, "]");  // IPv6
  }
  return absl::StrCat("postgresql://", host, port.empty() ? "" : ":", port, "/",
                      dbname);
}

// LooksAlive probes an idle connection without blocking. Nothing may arrive
// on a session between statements (jwtauth never LISTENs): data there is a
// server's goodbye ("terminating connection due to administrator command")
// or the end of the stream, so the connection is not worth a failed call.
bool LooksAlive(PGconn* pg) {
  if (PQstatus(pg) != CONNECTION_OK || PQtransactionStatus(pg) != PQTRANS_IDLE)
    return false;
  pollfd p{};
  p.fd = PQsocket(pg);
  p.events = POLLIN;
  return p.fd >= 0 && ::poll(&p, 1, 0) == 0;
}

// Millis: a positive duration in whole milliseconds (rounded up), as text.
std::string Millis(absl::Duration d) {
  return absl::StrCat(std::max<int64_t>(
      1, absl::ToInt64Milliseconds(d + absl::Microseconds(999))));
}

inline const absl::Status& StatusOf(const absl::Status& s) { return s; }
template <typename T>
const absl::Status& StatusOf(const absl::StatusOr<T>& s) {
  return s.status();
}

}  // namespace

struct PostgresUserStore::Impl {
  Impl(std::string u, std::string d, PostgresOptions o)
      : url(std::move(u)), display(std::move(d)), options(o) {}
  ~Impl() {
    std::vector<std::unique_ptr<Connection>> dropped;
    {
      common::MutexLock lock(&mu);
      dropped.swap(idle);
    }
  }

  const std::string url;      // as given: may hold a password, never shown
  const std::string display;  // postgresql://host:port/db
  const PostgresOptions options;

  common::Mutex mu;
  std::vector<std::unique_ptr<Connection>> idle ABSL_GUARDED_BY(mu);
  int open_count ABSL_GUARDED_BY(mu) = 0;  // idle + in use + being made

  bool CanAcquire() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    return !idle.empty() || open_count < options.pool_size;
  }

  absl::Status Unavailable(absl::string_view what,
                           absl::string_view why) const {
    return absl::UnavailableError(
        absl::StrCat("user store ", display, ": ", what, ": ", why));
  }

  // Error maps a failed statement to the UserStore error contract and marks
  // the connection broken when the failure was at connection level.
  absl::Status Error(Connection& c, const PGresult* r,
                     absl::string_view what) const {
    const char* state =
        r != nullptr ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
    const std::string sqlstate = state != nullptr ? state : "";
    const char* primary =
        r != nullptr ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : nullptr;
    const std::string message = primary != nullptr ? OneLine(primary) : "";
    if (PQstatus(c.conn) != CONNECTION_OK || sqlstate.empty() ||
        absl::StartsWith(sqlstate, "08") || sqlstate == "57P01" ||
        sqlstate == "57P02" || sqlstate == "57P03") {
      c.broken = true;
      if (sqlstate == "57P01" || sqlstate == "57P02" || sqlstate == "57P03") {
        return Unavailable(
            what, absl::StrCat("the server is shutting down or restarting (",
                               message, "); try again"));
      }
      const std::string why = OneLine(
          r != nullptr && !message.empty() ? message : PQerrorMessage(c.conn));
      return Unavailable(what, absl::StrCat("lost the connection to the server",
                                            why.empty() ? "" : ": ", why));
    }
    if (sqlstate == "57014") {
      return Unavailable(
          what, absl::StrCat("the statement timed out (statement_timeout ",
                             absl::FormatDuration(options.statement_timeout),
                             ") or was cancelled; try again"));
    }
    if (sqlstate == "23505") {
      const char* constraint = PQresultErrorField(r, PG_DIAG_CONSTRAINT_NAME);
      if (constraint != nullptr && absl::EndsWith(constraint, "_pkey")) {
        return absl::FailedPreconditionError(
            absl::StrCat("user store ", display, ": ", what,
                         ": the id sequence of auth_user is behind its rows "
                         "(rows inserted with explicit "
                         "ids?); reset it with setval"));
      }
      return absl::AlreadyExistsError(
          "a user with that username already exists");
    }
    if (sqlstate == "23503") {
      return absl::FailedPreconditionError(
          absl::StrCat("user store ", display, ": ", what,
                       ": other rows still refer to this user (e.g. Django "
                       "groups, permissions or admin "
                       "log); remove them first"));
    }
    if (absl::StartsWith(sqlstate, "23")) {
      return absl::FailedPreconditionError(
          absl::StrCat("user store ", display, ": ", what, ": ", message));
    }
    if (absl::StartsWith(sqlstate, "22")) {
      // The server's text may quote the value: report the SQLSTATE only.
      return absl::InvalidArgumentError(
          absl::StrCat("user store ", display, ": ", what,
                       ": a value cannot be stored (SQLSTATE ", sqlstate,
                       ", e.g. too long for its column)"));
    }
    if (sqlstate == "25006")
      return Unavailable(what, "the database is read-only");
    if (sqlstate == "40P01" || sqlstate == "40001") {
      // Deadlock or serialization failure: PostgreSQL aborted this
      // transaction to let another proceed; running it again may succeed.
      absl::Status conflict = Unavailable(
          what, absl::StrCat(message, " (SQLSTATE ", sqlstate, ")"));
      conflict.SetPayload(kConflictPayload, absl::Cord(sqlstate));
      return conflict;
    }
    // Locks, deadlocks, serialization failures, resources, privileges,
    // missing tables: schema- or server-level, retryable or operator work.
    return Unavailable(what,
                       absl::StrCat(message, " (SQLSTATE ", sqlstate, ")"));
  }

  // Exec runs one statement with text parameters; OK results only.
  absl::StatusOr<Result> Exec(Connection& c, const char* sql,
                              const std::vector<std::string>& params,
                              absl::string_view what) const {
    std::vector<const char*> values;
    values.reserve(params.size());
    for (const std::string& p : params) values.push_back(p.c_str());
    Result r(PQexecParams(c.conn, sql, static_cast<int>(values.size()), nullptr,
                          values.data(), nullptr, nullptr, 0));
    const ExecStatusType status =
        r != nullptr ? PQresultStatus(r.get()) : PGRES_FATAL_ERROR;
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return r;
    return Error(c, r.get(), what);
  }

  absl::StatusOr<Result> Exec(Connection& c, const std::string& sql,
                              const std::vector<std::string>& params,
                              absl::string_view what) const {
    return Exec(c, sql.c_str(), params, what);
  }

  // Connect makes and configures a new connection.
  absl::StatusOr<std::unique_ptr<Connection>> Connect(
      absl::string_view what) const {
    const std::string connect_timeout = absl::StrCat(
        std::max<int64_t>(1, absl::ToInt64Seconds(absl::Ceil(
                                 options.connect_timeout, absl::Seconds(1)))));
    const absl::Duration statement =
        std::max(options.statement_timeout, absl::ZeroDuration());
    // Unacknowledged data on a dead link fails the call after this long.
    const std::string tcp_user_timeout = Millis(statement + absl::Seconds(5));
    // Later keywords override earlier ones; the URL expands in place of
    // "dbname", so it can tune keepalives but not the timeouts or encoding.
    const char* keywords[] = {"keepalives",          "keepalives_idle",
                              "keepalives_interval", "keepalives_count",
                              "application_name",    "dbname",
                              "connect_timeout",     "tcp_user_timeout",
                              "client_encoding",     nullptr};
    const char* values[] = {"1",
                            "30",
                            "10",
                            "3",
                            "jwtauth",
                            url.c_str(),
                            connect_timeout.c_str(),
                            tcp_user_timeout.c_str(),
                            "UTF8",
                            nullptr};
    auto c = std::make_unique<Connection>();
    c->conn = PQconnectdbParams(keywords, values, /*expand_dbname=*/1);
    if (c->conn == nullptr)
      return Unavailable(what, "cannot connect: out of memory");
    if (PQstatus(c->conn) != CONNECTION_OK) {
      return Unavailable(what, absl::StrCat("cannot connect: ",
                                            OneLine(PQerrorMessage(c->conn))));
    }
    PQsetNoticeProcessor(c->conn, &IgnoreNotice, nullptr);
    const std::string timeout_ms =
        statement > absl::ZeroDuration() ? Millis(statement) : std::string("0");
    absl::StatusOr<Result> set =
        Exec(*c, "SELECT set_config('statement_timeout', $1, false)",
             {timeout_ms}, what);
    if (!set.ok()) return set.status();
    return c;
  }

  struct Lease {
    std::unique_ptr<Connection> conn;
    bool reused = false;
  };

  // Acquire returns a pooled connection (probed) or a new one, waiting at
  // most acquire_timeout for a free slot.
  absl::StatusOr<Lease> Acquire(absl::string_view what) {
    Lease lease;
    {
      common::MutexLock lock(&mu);
      if (!mu.AwaitWithTimeout([this] { return CanAcquire(); },
                               options.acquire_timeout)) {
        return Unavailable(
            what, absl::StrCat("all ", options.pool_size,
                               " connections are busy (waited ",
                               absl::FormatDuration(options.acquire_timeout),
                               "); try again"));
      }
      if (!idle.empty()) {
        lease.conn = std::move(idle.back());
        idle.pop_back();
      } else {
        ++open_count;  // reserve the slot for a new connection
      }
    }
    if (lease.conn != nullptr) {
      if (LooksAlive(lease.conn->conn)) {
        lease.reused = true;
        return lease;
      }
      lease.conn.reset();  // keeps its slot for the replacement
    }
    absl::StatusOr<std::unique_ptr<Connection>> made = Connect(what);
    if (!made.ok()) {
      common::MutexLock lock(&mu);
      --open_count;
      return made.status();
    }
    lease.conn = *std::move(made);
    return lease;
  }

  // Release pools a healthy connection outside any transaction and closes
  // the rest.
  void Release(std::unique_ptr<Connection> c) {
    bool healthy = !c->broken && PQstatus(c->conn) == CONNECTION_OK;
    if (healthy && PQtransactionStatus(c->conn) != PQTRANS_IDLE) {
      const Result rollback(PQexec(c->conn, "ROLLBACK"));
      healthy = PQstatus(c->conn) == CONNECTION_OK &&
                PQtransactionStatus(c->conn) == PQTRANS_IDLE;
    }
    std::vector<std::unique_ptr<Connection>> suspect;
    {
      common::MutexLock lock(&mu);
      if (healthy) {
        idle.push_back(std::move(c));
        return;
      }
      --open_count;
      // A connection lost at connection level (server restart, failover)
      // says the idle ones are likely gone too: replace them as needed
      // rather than fail one call per connection.
      if (c->broken) {
        suspect.swap(idle);
        open_count -= static_cast<int>(suspect.size());
      }
    }
    c.reset();  // closes them, outside the lock
    suspect.clear();
  }

  // WithConnection runs `fn(Connection&)` on a pooled connection. A read
  // (`read_only`) that lost a reused connection runs once more on a new one.
  template <typename Fn>
  auto WithConnection(absl::string_view what, bool read_only, Fn&& fn)
      -> decltype(fn(std::declval<Connection&>())) {
    for (int attempt = 0;; ++attempt) {
      absl::StatusOr<Lease> lease = Acquire(what);
      if (!lease.ok()) return lease.status();
      auto result = fn(*lease->conn);
      const bool lost = lease->conn->broken;
      Release(std::move(lease->conn));
      if (lost && lease->reused && read_only && attempt == 0 &&
          StatusOf(result).code() == absl::StatusCode::kUnavailable) {
        continue;
      }
      return result;
    }
  }

  absl::StatusOr<std::optional<User>> FindOne(const std::string& sql,
                                              std::string param) {
    constexpr absl::string_view kWhat = "cannot look up user";
    return WithConnection(
        kWhat, true, [&](Connection& c) -> absl::StatusOr<std::optional<User>> {
          absl::StatusOr<Result> r = Exec(c, sql, {param}, kWhat);
          if (!r.ok()) return r.status();
          if (PQntuples(r->get()) == 0) return std::optional<User>();
          return std::optional<User>(ReadUser(r->get(), 0));
        });
  }

  // UpdateOne runs a mutation of user `id` (bound as $1, then `more`);
  // NOT_FOUND when no row changed.
  absl::Status UpdateOne(const char* sql, int64_t id,
                         std::vector<std::string> more,
                         absl::string_view what) {
    std::vector<std::string> params;
    params.push_back(absl::StrCat(id));
    for (std::string& p : more) params.push_back(std::move(p));
    return WithConnection(what, false, [&](Connection& c) -> absl::Status {
      absl::StatusOr<Result> r = Exec(c, sql, params, what);
      if (!r.ok()) return r.status();
      int64_t changed = 0;
      if (!absl::SimpleAtoi(PQcmdTuples(r->get()), &changed) || changed == 0) {
        return absl::NotFoundError(absl::StrCat("no user with id ", id));
      }
      return absl::OkStatus();
    });
  }

  // QueryBool / QueryInt: one-off queries answering one value.
  absl::StatusOr<bool> TableExists(Connection& c, const char* table,
                                   absl::string_view what) const {
    absl::StatusOr<Result> r = Exec(c, "SELECT to_regclass($1) IS NOT NULL",
                                    {std::string(table)}, what);
    if (!r.ok()) return r.status();
    return PQntuples(r->get()) == 1 && BoolValue(r->get(), 0, 0);
  }

  absl::StatusOr<int> Version(Connection& c, absl::string_view what) const {
    absl::StatusOr<bool> exists =
        TableExists(c, "jwtauth_schema_migrations", what);
    if (!exists.ok()) return exists.status();
    if (!*exists) return 0;
    absl::StatusOr<Result> r = Exec(
        c, "SELECT COALESCE(MAX(version), 0) FROM jwtauth_schema_migrations",
        {}, what);
    if (!r.ok()) return r.status();
    return static_cast<int>(IntValue(r->get(), 0, 0).value_or(0));
  }

  // ApplyMigration applies `m` once, in one transaction holding the
  // migration advisory lock (so replicas starting together take turns).
  absl::Status ApplyMigration(Connection& c, const Migration& m) const {
    constexpr absl::string_view kWhat = "cannot migrate the schema";
    // READ COMMITTED whatever the database's default: the version check
    // below must see what another replica committed while this one waited
    // for the lock (a snapshot taken before the lock would not).
    absl::StatusOr<Result> r =
        Exec(c, "BEGIN ISOLATION LEVEL READ COMMITTED", {}, kWhat);
    if (!r.ok()) return r.status();
    auto fail = [&](absl::Status status) {
      if (PQstatus(c.conn) == CONNECTION_OK) {
        const Result rollback(PQexec(c.conn, "ROLLBACK"));
      }
      return status;
    };
    r = Exec(c, "SELECT pg_advisory_xact_lock($1::bigint)",
             {absl::StrCat(kMigrationLockKey)}, kWhat);
    if (!r.ok()) return fail(r.status());
    r = Exec(c, kCreateMigrationsTable, {}, kWhat);
    if (!r.ok()) return fail(r.status());
    r = Exec(
        c,
        "SELECT 1 FROM jwtauth_schema_migrations WHERE version = $1::integer",
        {absl::StrCat(m.version)}, kWhat);
    if (!r.ok()) return fail(r.status());
    if (PQntuples(r->get()) == 0) {
      bool skip = false;
      if (m.unless_table_exists != nullptr) {
        absl::StatusOr<bool> exists =
            TableExists(c, m.unless_table_exists, kWhat);
        if (!exists.ok()) return fail(exists.status());
        skip = *exists;
      }
      for (const char* const* sql = m.statements; !skip && *sql != nullptr;
           ++sql) {
        r = Exec(c, *sql, {}, kWhat);
        if (!r.ok()) return fail(r.status());
      }
      r = Exec(c,
               "INSERT INTO jwtauth_schema_migrations (version, applied_at) "
               "VALUES ($1::integer, now())",
               {absl::StrCat(m.version)}, kWhat);
      if (!r.ok()) return fail(r.status());
    }
    r = Exec(c, "COMMIT", {}, kWhat);
    if (!r.ok()) return fail(r.status());
    return absl::OkStatus();
  }

  absl::Status Migrate() {
    constexpr absl::string_view kWhat = "cannot migrate the schema";
    return WithConnection(kWhat, false, [&](Connection& c) -> absl::Status {
      // Up to date: no DDL at all (a role without CREATE can still start).
      absl::StatusOr<int> version = Version(c, kWhat);
      if (!version.ok()) return version.status();
      for (const Migration& m : kMigrations) {
        if (m.version <= *version) continue;
        absl::Status s = ApplyMigration(c, m);
        if (!s.ok()) return s;
      }
      return absl::OkStatus();
    });
  }
};

absl::StatusOr<std::unique_ptr<PostgresUserStore>> PostgresUserStore::Open(
    const std::string& url, PostgresOptions options) {
  if (url.find('\0') != std::string::npos) {
    return absl::InvalidArgumentError(
        "user store: the PostgreSQL URL contains a NUL character");
  }
  char* parse_error = nullptr;
  PQconninfoOption* parsed = PQconninfoParse(url.c_str(), &parse_error);
  if (parsed == nullptr) {
    // libpq's text may quote parts of the URL, password included.
    PQfreemem(parse_error);
    return absl::InvalidArgumentError(
        "user store: not a valid PostgreSQL URL (expected "
        "postgresql://user@host:port/dbname)");
  }
  const std::string display = DisplayName(parsed);
  PQconninfoFree(parsed);
  if (options.pool_size < 1) options.pool_size = 1;
  if (options.acquire_timeout < absl::ZeroDuration()) {
    options.acquire_timeout = absl::ZeroDuration();
  }
  auto impl = std::make_unique<Impl>(url, display, options);
  if (options.migrate) {
    absl::Status s = impl->Migrate();
    if (!s.ok()) return s;
  } else {
    // Without `migrate` nothing is written: the database must hold users.
    constexpr absl::string_view kWhat = "cannot open";
    absl::StatusOr<bool> has_users = impl->WithConnection(
        kWhat, true, [&](Connection& c) -> absl::StatusOr<bool> {
          return impl->TableExists(c, "auth_user", kWhat);
        });
    if (!has_users.ok()) return has_users.status();
    if (!*has_users) {
      return absl::FailedPreconditionError(
          absl::StrCat("user store ", display,
                       ": no auth_user table; run `jwtauth-admin migrate` to "
                       "initialise it"));
    }
  }
  return std::unique_ptr<PostgresUserStore>(
      new PostgresUserStore(std::move(impl)));
}

PostgresUserStore::PostgresUserStore(std::unique_ptr<Impl> impl)
    : impl_(std::move(impl)) {}
PostgresUserStore::~PostgresUserStore() = default;

int PostgresUserStore::LatestSchemaVersion() {
  int latest = 0;
  for (const Migration& m : kMigrations) latest = std::max(latest, m.version);
  return latest;
}

absl::Status PostgresUserStore::Migrate() { return impl_->Migrate(); }

absl::StatusOr<int> PostgresUserStore::SchemaVersion() {
  constexpr absl::string_view kWhat = "cannot read the schema version";
  return impl_->WithConnection(kWhat, true,
                               [&](Connection& c) -> absl::StatusOr<int> {
                                 return impl_->Version(c, kWhat);
                               });
}

absl::StatusOr<std::optional<User>> PostgresUserStore::FindByUsername(
    absl::string_view username) {
  // Text PostgreSQL cannot hold names no user can have.
  if (!StorableText(username, "username").ok()) return std::optional<User>();
  return impl_->FindOne(FindByUsernameSql(), std::string(username));
}

absl::StatusOr<std::optional<User>> PostgresUserStore::FindById(int64_t id) {
  return impl_->FindOne(FindByIdSql(), absl::StrCat(id));
}

absl::StatusOr<std::vector<User>> PostgresUserStore::ListUsers() {
  constexpr absl::string_view kWhat = "cannot list users";
  return impl_->WithConnection(
      kWhat, true, [&](Connection& c) -> absl::StatusOr<std::vector<User>> {
        absl::StatusOr<Result> r = impl_->Exec(c, ListUsersSql(), {}, kWhat);
        if (!r.ok()) return r.status();
        std::vector<User> users;
        const int rows = PQntuples(r->get());
        users.reserve(static_cast<size_t>(rows));
        for (int i = 0; i < rows; ++i) {
          users.push_back(ReadUser(r->get(), i));
        }
        return users;
      });
}

absl::StatusOr<User> PostgresUserStore::CreateUser(const NewUser& user) {
  constexpr absl::string_view kWhat = "cannot create user";
  absl::Status valid = ValidateUsername(user.username);
  if (valid.ok()) valid = StorableText(user.email, "email");
  if (valid.ok()) valid = StorableText(user.password_hash, "password hash");
  if (!valid.ok()) return valid;
  const absl::Time joined =
      absl::FromUnixMicros(absl::ToUnixMicros(absl::Now()));
  absl::StatusOr<std::string> joined_text = TimeLiteral(joined);
  if (!joined_text.ok()) return joined_text.status();
  const std::vector<std::string> params = {user.password_hash,
                                           user.is_superuser ? "true" : "false",
                                           user.username,
                                           user.email,
                                           user.is_staff ? "true" : "false",
                                           user.is_active ? "true" : "false",
                                           *joined_text};
  return impl_->WithConnection(
      kWhat, false, [&](Connection& c) -> absl::StatusOr<User> {
        absl::StatusOr<Result> r =
            impl_->Exec(c, kInsertUserSql, params, kWhat);
        if (!r.ok()) return r.status();
        return CreatedUser(user, IntValue(r->get(), 0, 0).value_or(0), joined);
      });
}

absl::Status PostgresUserStore::SetPasswordHash(int64_t id,
                                                absl::string_view hash) {
  absl::Status valid = StorableText(hash, "password hash");
  if (!valid.ok()) return valid;
  return impl_->UpdateOne(
      "UPDATE auth_user SET password = $2 WHERE id = $1::bigint", id,
      {std::string(hash)}, "cannot set password");
}

absl::Status PostgresUserStore::SetActive(int64_t id, bool active) {
  return impl_->UpdateOne(
      "UPDATE auth_user SET is_active = $2::boolean WHERE id = $1::bigint", id,
      {active ? "true" : "false"}, "cannot set active flag");
}

absl::Status PostgresUserStore::DeleteUser(int64_t id) {
  return impl_->UpdateOne("DELETE FROM auth_user WHERE id = $1::bigint", id, {},
                          "cannot delete user");
}

absl::Status PostgresUserStore::RecordLogin(int64_t id, absl::Time when) {
  absl::StatusOr<std::string> text = TimeLiteral(when);
  if (!text.ok()) return text.status();
  return impl_->UpdateOne(
      "UPDATE auth_user SET last_login = $2::timestamptz WHERE id = $1::bigint",
      id, {*text}, "cannot record login");
}

absl::StatusOr<std::optional<TokenSubject>> PostgresUserStore::FindForToken(
    absl::string_view username, absl::string_view jti) {
  if (!StorableText(username, "username").ok())
    return std::optional<TokenSubject>();
  // A jti PostgreSQL cannot hold was never stored: look up a name no jti has.
  const std::string jti_param =
      StorableText(jti, "jti").ok() ? std::string(jti) : std::string();
  constexpr absl::string_view kWhat = "cannot look up user";
  const std::vector<std::string> params = {std::string(username), jti_param};
  return impl_->WithConnection(
      kWhat, true,
      [&](Connection& c) -> absl::StatusOr<std::optional<TokenSubject>> {
        absl::StatusOr<Result> r =
            impl_->Exec(c, FindForTokenSql(), params, kWhat);
        if (!r.ok()) return r.status();
        if (PQntuples(r->get()) == 0) return std::optional<TokenSubject>();
        return std::optional<TokenSubject>(
            TokenSubject{ReadUser(r->get(), 0), BoolValue(r->get(), 0, 12)});
      });
}

// RunRevocation runs `body` in one transaction: committed when it returns
// OK, rolled back otherwise. A deadlock or serialization failure (SQLSTATE
// 40P01, 40001: PostgreSQL aborted this transaction to let another proceed)
// runs it once more.
absl::Status PostgresUserStore::RunRevocation(
    absl::string_view what, absl::FunctionRef<absl::Status(Step)> body) {
  for (int attempt = 0;; ++attempt) {
    absl::Status status = RunRevocationOnce(what, body);
    if (!status.GetPayload(kConflictPayload).has_value() || attempt == 1)
      return status;
  }
}

absl::Status PostgresUserStore::RunRevocationOnce(
    absl::string_view what, absl::FunctionRef<absl::Status(Step)> body) {
  return impl_->WithConnection(what, false, [&](Connection& c) -> absl::Status {
    // READ COMMITTED whatever the database's default: RevokeToken relies on
    // each statement seeing what committed before it.
    absl::StatusOr<Result> r =
        impl_->Exec(c, "BEGIN ISOLATION LEVEL READ COMMITTED", {}, what);
    if (!r.ok()) return r.status();
    auto step = [&](const char* sql, const std::vector<std::string>& params)
        -> absl::StatusOr<std::optional<int64_t>> {
      absl::StatusOr<Result> q = impl_->Exec(c, sql, params, what);
      if (!q.ok()) return q.status();
      std::optional<int64_t> first =
          PQntuples(q->get()) > 0 ? IntValue(q->get(), 0, 0) : std::nullopt;
      if (PQresultStatus(q->get()) == PGRES_TUPLES_OK && !first.has_value())
        return absl::NotFoundError("no such row");
      return first;
    };
    absl::Status status = body(step);
    if (status.ok()) {
      r = impl_->Exec(c, "COMMIT", {}, what);
      if (r.ok()) return absl::OkStatus();
      status = r.status();
    }
    if (PQstatus(c.conn) == CONNECTION_OK) {
      const Result rollback(PQexec(c.conn, "ROLLBACK"));
    }
    return status;
  });
}

namespace {

// RequireUser is NOT_FOUND unless user `id` exists (`step`: a RunRevocation
// statement runner).
template <typename Step>
absl::Status RequireUser(Step& step, const std::string& id) {
  absl::StatusOr<std::optional<int64_t>> r =
      step("SELECT id FROM auth_user WHERE id = $1::bigint", {id});
  if (r.status().code() == absl::StatusCode::kNotFound)
    return absl::NotFoundError(absl::StrCat("no user with id ", id));
  return r.status();
}

// BumpGeneration bumps user `id`'s token generation and returns it.
template <typename Step>
absl::StatusOr<int64_t> BumpGeneration(Step& step, const std::string& id) {
  absl::StatusOr<std::optional<int64_t>> r = step(kBumpGenerationSql, {id});
  // No row: the counter is missing, which is no caller's doing.
  if (r.status().code() == absl::StatusCode::kNotFound || (r.ok() && !*r))
    return absl::UnavailableError("revocation counter is missing");
  if (!r.ok()) return r.status();
  return **r;
}

}  // namespace

absl::StatusOr<TokenRevocation> PostgresUserStore::RevokeToken(
    absl::string_view jti, int64_t user_id, absl::Time expires_at,
    absl::Time watch_until, absl::Time now, size_t max_per_user) {
  if (jti.empty() || jti.size() > kMaxJtiLength) {
    return absl::InvalidArgumentError("jti must be 1 to 255 bytes");
  }
  absl::Status valid = StorableText(jti, "jti");
  if (!valid.ok()) return valid;
  const std::string id = absl::StrCat(user_id);
  const std::string now_s = absl::StrCat(absl::ToUnixSeconds(now));
  // Expired rows go in a transaction of their own, before: a purge inside
  // the revocation would hold row locks while waiting for the revocation
  // counter, and a transaction holding the counter and deleting users (their
  // rows cascade) would wait for those rows: a deadlock.
  absl::Status purged = RunRevocation("cannot revoke token", [&](Step step) {
    return step("DELETE FROM jwtauth_revoked WHERE expires_at < $1::bigint",
                {now_s})
        .status();
  });
  if (!purged.ok()) return purged;
  TokenRevocation result;
  absl::Status status = RunRevocation("cannot revoke token", [&](Step step) {
    result = TokenRevocation();
    // This user's revocations run one at a time from here (an advisory lock
    // per user, no row lock: nothing another writer waits for), so the count
    // below cannot miss a concurrent one: each statement of a READ COMMITTED
    // transaction sees what committed before it, and only this user's own
    // revocations add to what it counts. The revocation counter is taken by
    // the last statement, before its insert's foreign-key check, as every
    // writer takes it (triggers after the user's row): writes commit in seq
    // order and no lock is held while waiting for it but this one.
    absl::StatusOr<std::optional<int64_t>> r =
        step("SELECT 1 FROM pg_advisory_xact_lock($1::bigint # $2::bigint)",
             {absl::StrCat(kRevokeLockBase), id});
    if (!r.ok()) return r.status();
    if (absl::Status exists = RequireUser(step, id); !exists.ok())
      return exists;
    // Over the cap when the user has max_per_user jtis listed (watch_until
    // not passed; NULL: from before version 5, still listed after the
    // purge), or 10 times that kept here (the refresh window's rows): the
    // server's own table is bounded per user too. Counted up to the limits
    // only.
    bool at_cap = false;
    if (max_per_user != kNoRevocationCap) {
      r = step(
          "SELECT CASE WHEN (SELECT count(*) FROM (SELECT 1 FROM "
          "jwtauth_revoked WHERE user_id = $1::bigint AND jti <> $2 AND "
          "(watch_until >= $4::bigint OR watch_until IS NULL) "
          "LIMIT $3::bigint) listed) >= $3::bigint OR "
          "(SELECT count(*) FROM (SELECT 1 FROM jwtauth_revoked "
          "WHERE user_id = $1::bigint AND jti <> $2 LIMIT $5::bigint) held) "
          ">= $5::bigint THEN 1 ELSE 0 END",
          {id, std::string(jti), absl::StrCat(CountLimit(max_per_user)), now_s,
           absl::StrCat(HeldLimit(max_per_user))});
      if (!r.ok()) return r.status();
      at_cap = r->value_or(0) == 1;
    }
    if (at_cap) {
      absl::StatusOr<int64_t> generation = BumpGeneration(step, id);
      if (!generation.ok()) return generation.status();
      result.all_sessions = true;
      result.generation = *generation;
      return absl::OkStatus();
    }
    return step(
               "WITH next AS (UPDATE jwtauth_revocation_seq SET value = "
               "value + 1 WHERE id = 1 RETURNING value) "
               "INSERT INTO jwtauth_revoked "
               "(jti, user_id, expires_at, watch_until, seq) "
               "SELECT $1, $2::bigint, $3::bigint, $4::bigint, value "
               "FROM next "
               "ON CONFLICT (jti) DO UPDATE SET expires_at = "
               "GREATEST(jwtauth_revoked.expires_at, EXCLUDED.expires_at), "
               "watch_until = GREATEST(COALESCE(jwtauth_revoked.watch_until, "
               "jwtauth_revoked.expires_at), EXCLUDED.watch_until), "
               "seq = EXCLUDED.seq",
               {std::string(jti), id,
                absl::StrCat(absl::ToUnixSeconds(expires_at)),
                absl::StrCat(
                    absl::ToUnixSeconds(std::min(watch_until, expires_at)))})
        .status();
  });
  if (!status.ok()) return status;
  return result;
}

absl::StatusOr<int64_t> PostgresUserStore::BumpTokenGeneration(
    int64_t user_id) {
  const std::string id = absl::StrCat(user_id);
  int64_t generation = 0;
  absl::Status status = RunRevocation("cannot revoke tokens", [&](Step step) {
    if (absl::Status exists = RequireUser(step, id); !exists.ok())
      return exists;
    absl::StatusOr<int64_t> bumped = BumpGeneration(step, id);
    if (!bumped.ok()) return bumped.status();
    generation = *bumped;
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return generation;
}

absl::StatusOr<Revocations> PostgresUserStore::RevocationsSince(
    int64_t seq, absl::Time now) {
  constexpr absl::string_view kWhat = "cannot read revocations";
  const std::string since = absl::StrCat(seq);
  const std::string now_s = absl::StrCat(absl::ToUnixSeconds(now));
  return impl_->WithConnection(
      kWhat, true, [&](Connection& c) -> absl::StatusOr<Revocations> {
        // One snapshot for the three reads.
        absl::StatusOr<Result> r = impl_->Exec(
            c, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", {}, kWhat);
        if (!r.ok()) return r.status();
        absl::StatusOr<Revocations> out = [&]() -> absl::StatusOr<Revocations> {
          Revocations rev;
          absl::StatusOr<Result> q = impl_->Exec(
              c, "SELECT value FROM jwtauth_revocation_seq WHERE id = 1", {},
              kWhat);
          if (!q.ok()) return q.status();
          rev.seq = PQntuples(q->get()) > 0
                        ? IntValue(q->get(), 0, 0).value_or(0)
                        : 0;
          q = impl_->Exec(
              c,
              "SELECT jti, user_id, COALESCE(watch_until, expires_at) "
              "FROM jwtauth_revoked WHERE seq > $1::bigint AND "
              "COALESCE(watch_until, expires_at) >= $2::bigint ORDER BY seq",
              {since, now_s}, kWhat);
          if (!q.ok()) return q.status();
          for (int i = 0; i < PQntuples(q->get()); ++i) {
            rev.tokens.push_back(
                {Value(q->get(), i, 0), IntValue(q->get(), i, 1).value_or(0),
                 absl::FromUnixSeconds(IntValue(q->get(), i, 2).value_or(0))});
          }
          q = impl_->Exec(c,
                          "SELECT user_id, token_generation FROM "
                          "jwtauth_user_state WHERE seq > $1::bigint "
                          "ORDER BY seq",
                          {since}, kWhat);
          if (!q.ok()) return q.status();
          for (int i = 0; i < PQntuples(q->get()); ++i) {
            rev.users.push_back({IntValue(q->get(), i, 0).value_or(0),
                                 IntValue(q->get(), i, 1).value_or(0)});
          }
          return rev;
        }();
        if (PQstatus(c.conn) == CONNECTION_OK) {
          const Result end(PQexec(c.conn, out.ok() ? "COMMIT" : "ROLLBACK"));
        }
        return out;
      });
}

}  // namespace jwtauth::server
