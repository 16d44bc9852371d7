// sqlite_user_store.cc: the SQLite UserStore over the sqlite3 C API.
//
// Connections are pooled (at most kMaxConnections, each used by one thread at
// a time, opened with SQLITE_OPEN_NOMUTEX). Before every write, and before a
// read when the last check is older than SqliteOptions::file_check_interval,
// the database path is stat()ed: a missing file is UNAVAILABLE ("database
// file is missing") and is never recreated after Open(); a file that was
// replaced (another inode, e.g. restored from a backup) gets fresh
// connections. Any
// call that ends UNAVAILABLE closes its connection, so the next call starts
// from a new one: the store recovers without being reopened.
//
// Migrations run only in Open() with create=true; Open() with create=false
// writes nothing and requires an existing auth_user table. Datetimes are
// stored as Django's SQLite backend stores them (naive UTC text,
// "YYYY-MM-DD HH:MM:SS[.ffffff]"), booleans as 0/1.
#include "server/sqlite_user_store.h"

#include <sqlite3.h>
#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstring>
#include <functional>
#include <optional>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/mutex.h"
#include "server/user_fields.h"

namespace jwtauth::server {
namespace {

constexpr size_t kMaxConnections = 4;

// Prepared statements, cached per connection. Every value is bound.
enum Stmt : size_t {
  kFindByUsername,
  kFindById,
  kListUsers,
  kInsertUser,
  kSetPassword,
  kSetActive,
  kDeleteUser,
  kRecordLogin,
  kFindForToken,
  kPurgeRevoked,
  kNextSeq,
  kInsertRevoked,
  kUserExists,
  kBumpGeneration,
  kCountRevoked,
  kRevokedSince,
  kGenerationsSince,
  kCurrentSeq,
  kStmtCount,
};

// Every user SELECT reads the same columns (ReadUser's order), the token
// generation from jwtauth_user_state included.
#define JWTAUTH_USER_COLUMNS                                            \
  "SELECT u.id, u.password, u.last_login, u.is_superuser, u.username, " \
  "u.first_name, u.last_name, u.email, u.is_staff, u.is_active, "       \
  "u.date_joined, COALESCE(s.token_generation, 0) "
#define JWTAUTH_USER_FROM \
  "FROM auth_user u LEFT JOIN jwtauth_user_state s ON s.user_id = u.id "
#define JWTAUTH_USER_SELECT JWTAUTH_USER_COLUMNS JWTAUTH_USER_FROM

constexpr const char* kSql[kStmtCount] = {
    JWTAUTH_USER_SELECT "WHERE u.username = ?1",
    JWTAUTH_USER_SELECT "WHERE u.id = ?1",
    JWTAUTH_USER_SELECT "ORDER BY u.id",
    "INSERT INTO auth_user (password, last_login, is_superuser, username, "
    "first_name, last_name, "
    "email, is_staff, is_active, date_joined) VALUES (?1, NULL, ?2, ?3, '', "
    "'', ?4, ?5, ?6, ?7)",
    "UPDATE auth_user SET password = ?2 WHERE id = ?1",
    "UPDATE auth_user SET is_active = ?2 WHERE id = ?1",
    "DELETE FROM auth_user WHERE id = ?1",
    "UPDATE auth_user SET last_login = ?2 WHERE id = ?1",
    // One read for VerifyToken/RefreshToken: the user and the jti's status.
    JWTAUTH_USER_COLUMNS
    ", EXISTS(SELECT 1 FROM jwtauth_revoked WHERE jti = ?2) " JWTAUTH_USER_FROM
    "WHERE u.username = ?1",
    "DELETE FROM jwtauth_revoked WHERE expires_at < ?1",
    "UPDATE jwtauth_revocation_seq SET value = value + 1 WHERE id = 1 "
    "RETURNING value",
    // watch_until NULL (rows from before schema version 5): expires_at.
    "INSERT INTO jwtauth_revoked (jti, user_id, expires_at, seq, watch_until) "
    "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (jti) DO UPDATE SET "
    "expires_at = max(expires_at, excluded.expires_at), "
    "watch_until = max(COALESCE(watch_until, expires_at), "
    "excluded.watch_until), seq = excluded.seq",
    "SELECT 1 FROM auth_user WHERE id = ?1",
    "INSERT INTO jwtauth_user_state (user_id, token_generation, seq) "
    "VALUES (?1, 1, ?2) ON CONFLICT (user_id) DO UPDATE SET "
    "token_generation = token_generation + 1, seq = excluded.seq "
    "RETURNING token_generation",
    // 1 when over either cap: listed (two index ranges of (user_id,
    // watch_until): listed, and from before version 5, still listed after
    // the purge), or held (every row of the user).
    "SELECT (SELECT count(*) FROM (SELECT 1 FROM jwtauth_revoked "
    "WHERE user_id = ?1 AND watch_until >= ?4 AND jti <> ?2 UNION ALL "
    "SELECT 1 FROM jwtauth_revoked "
    "WHERE user_id = ?1 AND watch_until IS NULL AND jti <> ?2 LIMIT ?3)) "
    ">= ?3 OR (SELECT count(*) FROM (SELECT 1 FROM jwtauth_revoked "
    "WHERE user_id = ?1 AND jti <> ?2 LIMIT ?5)) >= ?5",
    "SELECT jti, user_id, COALESCE(watch_until, expires_at) "
    "FROM jwtauth_revoked "
    "WHERE seq > ?1 AND COALESCE(watch_until, expires_at) >= ?2 ORDER BY seq",
    "SELECT user_id, token_generation FROM jwtauth_user_state "
    "WHERE seq > ?1 ORDER BY seq",
    "SELECT value FROM jwtauth_revocation_seq WHERE id = 1",
};
#undef JWTAUTH_USER_SELECT
#undef JWTAUTH_USER_FROM
#undef JWTAUTH_USER_COLUMNS

// jwtauth's schema migrations, applied in order, each once, each in its own
// transaction. Never edit one that has shipped: add the next version.
struct Migration {
  int version;
  const char* sql;
};
constexpr Migration kMigrations[] = {
    // Django's auth_user exactly as Django 3.2 to 5.x create it on SQLite
    // (first_name last: Django 3.1 widened it by rebuilding the table). A
    // Django database already has it, and this is then a no-op.
    {1,
     "CREATE TABLE IF NOT EXISTS \"auth_user\" ("
     "\"id\" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "
     "\"password\" varchar(128) NOT NULL, "
     "\"last_login\" datetime NULL, "
     "\"is_superuser\" bool NOT NULL, "
     "\"username\" varchar(150) NOT NULL UNIQUE, "
     "\"last_name\" varchar(150) NOT NULL, "
     "\"email\" varchar(254) NOT NULL, "
     "\"is_staff\" bool NOT NULL, "
     "\"is_active\" bool NOT NULL, "
     "\"date_joined\" datetime NOT NULL, "
     "\"first_name\" varchar(150) NOT NULL)"},
    // Token lifecycle (issue 9): revoked jtis until their token's expiry,
    // per-user token generations, and one counter ordering every change for
    // WatchRevocations. Django's auth_user keeps its columns; rows go with
    // their user (ON DELETE CASCADE).
    {2,
     "CREATE TABLE jwtauth_revocation_seq ("
     "id INTEGER NOT NULL PRIMARY KEY CHECK (id = 1), "
     "value INTEGER NOT NULL);"
     "INSERT INTO jwtauth_revocation_seq (id, value) VALUES (1, 0);"
     "CREATE TABLE jwtauth_user_state ("
     "user_id INTEGER NOT NULL PRIMARY KEY "
     "REFERENCES auth_user (id) ON DELETE CASCADE, "
     "token_generation INTEGER NOT NULL, "
     "seq INTEGER NOT NULL);"
     "CREATE INDEX jwtauth_user_state_seq ON jwtauth_user_state (seq);"
     "CREATE TABLE jwtauth_revoked ("
     "jti TEXT NOT NULL PRIMARY KEY, "
     "user_id INTEGER NOT NULL REFERENCES auth_user (id) ON DELETE CASCADE, "
     "expires_at INTEGER NOT NULL, "
     "seq INTEGER NOT NULL);"
     "CREATE INDEX jwtauth_revoked_expires_at ON jwtauth_revoked (expires_at);"
     "CREATE INDEX jwtauth_revoked_seq ON jwtauth_revoked (seq);"},
    // A deleted user's generation stays (the delete trigger below bumps it):
    // without it, services validating locally would forget the user's
    // revocations once a feed restarts, and accept a stolen token until its
    // exp. SQLite drops a foreign key only by rebuilding the table.
    // The trigger on auth_user names the table: dropped first (renaming a
    // table under a trigger that names a missing one fails), made again by
    // Open after the migrations.
    {3,
     "DROP TRIGGER IF EXISTS jwtauth_revoke_on_user_change;"
     "CREATE TABLE jwtauth_user_state_v3 ("
     "user_id INTEGER NOT NULL PRIMARY KEY, "
     "token_generation INTEGER NOT NULL, "
     "seq INTEGER NOT NULL);"
     "INSERT INTO jwtauth_user_state_v3 (user_id, token_generation, seq) "
     "SELECT user_id, token_generation, seq FROM jwtauth_user_state;"
     "DROP TABLE jwtauth_user_state;"
     "ALTER TABLE jwtauth_user_state_v3 RENAME TO jwtauth_user_state;"
     "CREATE INDEX jwtauth_user_state_seq ON jwtauth_user_state (seq);"},
    // RevokeToken counts the user's revocations in force (its per-user cap).
    {4, "CREATE INDEX jwtauth_revoked_user_id ON jwtauth_revoked (user_id);"},
    // watch_until: how long services validating locally must refuse a
    // revoked token (its exp plus the longest leeway), which the feed sends
    // and the per-user cap counts, while the server keeps the row until
    // expires_at (the end of a refresh window). NULL in rows written before:
    // expires_at.
    {5,
     "ALTER TABLE jwtauth_revoked ADD COLUMN watch_until INTEGER;"
     "DROP INDEX jwtauth_revoked_user_id;"
     "CREATE INDEX jwtauth_revoked_user_watch ON jwtauth_revoked "
     "(user_id, watch_until);"},
};

// The trigger that makes a password change or a deactivation revoke the
// user's tokens whoever writes auth_user (jwtauth-admin, Django's admin, SQL).
// Not a migration: Open(create=true) re-creates it when missing, because
// Django rebuilds SQLite tables on some migrations and drops their triggers.
constexpr const char* kRevokeTriggerExists =
    "SELECT count(*) = 2 FROM sqlite_master WHERE type = 'trigger' AND "
    "name IN ('jwtauth_revoke_on_user_change', "
    "'jwtauth_revoke_on_user_delete')";
constexpr const char* kCreateRevokeTrigger =
    "CREATE TRIGGER IF NOT EXISTS jwtauth_revoke_on_user_change "
    "AFTER UPDATE OF password, is_active ON auth_user FOR EACH ROW "
    "WHEN NEW.password IS NOT OLD.password OR "
    "(OLD.is_active AND NOT NEW.is_active) "
    "BEGIN "
    "UPDATE jwtauth_revocation_seq SET value = value + 1 WHERE id = 1; "
    "INSERT INTO jwtauth_user_state (user_id, token_generation, seq) "
    "VALUES (NEW.id, 1, (SELECT value FROM jwtauth_revocation_seq WHERE id = "
    "1)) ON CONFLICT (user_id) DO UPDATE SET "
    "token_generation = token_generation + 1, seq = excluded.seq; "
    "END;"
    // Deleting a user revokes their tokens, and the generation outlives the
    // row (migration 3).
    "CREATE TRIGGER IF NOT EXISTS jwtauth_revoke_on_user_delete "
    "AFTER DELETE ON auth_user FOR EACH ROW "
    "BEGIN "
    "UPDATE jwtauth_revocation_seq SET value = value + 1 WHERE id = 1; "
    "INSERT INTO jwtauth_user_state (user_id, token_generation, seq) "
    "VALUES (OLD.id, 1, (SELECT value FROM jwtauth_revocation_seq WHERE id = "
    "1)) ON CONFLICT (user_id) DO UPDATE SET "
    "token_generation = token_generation + 1, seq = excluded.seq; "
    "END";

constexpr const char* kCreateMigrationsTable =
    "CREATE TABLE IF NOT EXISTS jwtauth_schema_migrations "
    "(version INTEGER PRIMARY KEY, applied_at TEXT)";

// Connection: one sqlite3 handle, its statement cache and the identity of the
// file it opened. Closing a connection whose file was deleted, moved or
// replaced since is safe: SQLite then skips its close-time checkpoint and does
// not delete "<path>-wal" / "-shm" by name, which may belong to a restored
// database (tested by ReplacedDatabaseIsUsedAndItsWalIsLeftAlone).
struct Connection {
  sqlite3* db = nullptr;
  dev_t dev = 0;
  ino_t ino = 0;
  std::array<sqlite3_stmt*, kStmtCount> stmts{};

  Connection() = default;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection() {
    for (sqlite3_stmt* s : stmts) sqlite3_finalize(s);
    sqlite3_close_v2(db);
  }
};

// PathState is what stat() said about the database path: the file's identity,
// or the errno.
struct PathState {
  int error = 0;
  dev_t dev = 0;
  ino_t ino = 0;
};

PathState StatPath(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return {errno, 0, 0};
  return {0, st.st_dev, st.st_ino};
}

// Access: whether a call may write. Writes always stat() the path first.
enum class Access { kRead, kWrite };

// ScopedStmt resets a cached statement and clears its bindings when done, so
// no bound value outlives the call that bound it.
class ScopedStmt {
 public:
  explicit ScopedStmt(sqlite3_stmt* stmt) : stmt_(stmt) {}
  ScopedStmt(const ScopedStmt&) = delete;
  ScopedStmt& operator=(const ScopedStmt&) = delete;
  ~ScopedStmt() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  sqlite3_stmt* get() const { return stmt_; }

 private:
  sqlite3_stmt* stmt_;
};

// BindText binds `value` without copying (destructor nullptr is
// SQLITE_STATIC): the value must outlive the statement's use, which
// ScopedStmt guarantees for the values of one call.
int BindText(sqlite3_stmt* stmt, int index, absl::string_view value) {
  const char* data = value.data() != nullptr ? value.data() : "";
  return sqlite3_bind_text64(stmt, index, data, value.size(), nullptr,
                             SQLITE_UTF8);
}

std::string ColumnText(sqlite3_stmt* stmt, int column) {
  const unsigned char* text = sqlite3_column_text(stmt, column);
  if (text == nullptr) return std::string();
  const int size = sqlite3_column_bytes(stmt, column);
  return std::string(reinterpret_cast<const char*>(text),
                     static_cast<size_t>(size));
}

// FormatDjangoTime writes `t` (UTC, truncated to microseconds) as Django's
// SQLite backend does, i.e. Python's str(naive datetime):
// "YYYY-MM-DD HH:MM:SS.ffffff", without the fraction when it is zero.
std::string FormatDjangoTime(absl::Time t) {
  const int64_t micros = absl::ToUnixMicros(t);
  const absl::Time truncated = absl::FromUnixMicros(micros);
  const char* format =
      micros % 1'000'000 == 0 ? "%Y-%m-%d %H:%M:%S" : "%Y-%m-%d %H:%M:%E6S";
  return absl::FormatTime(format, truncated, absl::UTCTimeZone());
}

// ParseDjangoTime reads what Django (or a hand-edited row) stores: with or
// without fractional seconds, ' ' or 'T' between date and time, and an
// optional UTC offset. Naive values are UTC (Django's USE_TZ=True).
// ParseCanonicalDjangoTime reads exactly "YYYY-MM-DD HH:MM:SS[.f{1,6}]",
// what Django and FormatDjangoTime write, without absl::ParseTime's general
// machinery (it was ~5 % of a VerifyToken's CPU). nullopt for anything else,
// including impossible dates, which ParseDjangoTime then hands to
// absl::ParseTime, so both paths agree on every input.
std::optional<absl::Time> ParseCanonicalDjangoTime(absl::string_view t) {
  if (t.size() < 19 || t[4] != '-' || t[7] != '-' || t[10] != ' ' ||
      t[13] != ':' || t[16] != ':') {
    return std::nullopt;
  }
  auto digits = [&t](size_t pos, size_t len, int64_t* out) {
    int64_t v = 0;
    for (size_t i = pos; i < pos + len; ++i) {
      if (t[i] < '0' || t[i] > '9') return false;
      v = v * 10 + (t[i] - '0');
    }
    *out = v;
    return true;
  };
  int64_t y, mo, d, h, mi, sec;
  if (!digits(0, 4, &y) || !digits(5, 2, &mo) || !digits(8, 2, &d) ||
      !digits(11, 2, &h) || !digits(14, 2, &mi) || !digits(17, 2, &sec)) {
    return std::nullopt;
  }
  int64_t micros = 0;
  if (t.size() > 19) {
    const size_t n = t.size() - 20;
    if (t[19] != '.' || n < 1 || n > 6 || !digits(20, n, &micros))
      return std::nullopt;
    for (size_t i = n; i < 6; ++i) micros *= 10;
  }
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 59)
    return std::nullopt;
  const absl::CivilSecond cs(y, static_cast<int>(mo), static_cast<int>(d),
                             static_cast<int>(h), static_cast<int>(mi),
                             static_cast<int>(sec));
  if (cs.month() != mo || cs.day() != d) return std::nullopt;  // Feb 30
  return absl::FromCivil(cs, absl::UTCTimeZone()) + absl::Microseconds(micros);
}

std::optional<absl::Time> ParseDjangoTime(absl::string_view text) {
  if (std::optional<absl::Time> fast = ParseCanonicalDjangoTime(text))
    return fast;
  static constexpr const char* kFormats[] = {
      "%Y-%m-%d %H:%M:%E*S",    "%Y-%m-%d %H:%M:%E*S%Ez", "%Y-%m-%dT%H:%M:%E*S",
      "%Y-%m-%dT%H:%M:%E*S%Ez", "%Y-%m-%d %H:%M",         "%Y-%m-%d",
  };
  for (const char* format : kFormats) {
    absl::Time t;
    std::string error;
    if (absl::ParseTime(format, text, absl::UTCTimeZone(), &t, &error))
      return t;
  }
  return std::nullopt;
}

absl::Time TruncateToMicros(absl::Time t) {
  return absl::FromUnixMicros(absl::ToUnixMicros(t));
}

// ReadUser reads a row selected with the column order of kSql's SELECTs.
// Unreadable datetimes do not fail the lookup: date_joined falls back to the
// epoch and last_login to "never".
User ReadUser(sqlite3_stmt* stmt) {
  User user;
  user.id = sqlite3_column_int64(stmt, 0);
  user.password_hash = ColumnText(stmt, 1);
  if (sqlite3_column_type(stmt, 2) != SQLITE_NULL) {
    std::optional<absl::Time> last_login = ParseDjangoTime(ColumnText(stmt, 2));
    if (last_login.has_value()) user.last_login = *last_login;
  }
  user.is_superuser = sqlite3_column_int64(stmt, 3) != 0;
  user.username = ColumnText(stmt, 4);
  user.first_name = ColumnText(stmt, 5);
  user.last_name = ColumnText(stmt, 6);
  user.email = ColumnText(stmt, 7);
  user.is_staff = sqlite3_column_int64(stmt, 8) != 0;
  user.is_active = sqlite3_column_int64(stmt, 9) != 0;
  user.date_joined =
      ParseDjangoTime(ColumnText(stmt, 10)).value_or(absl::UnixEpoch());
  user.token_generation = sqlite3_column_int64(stmt, 11);
  return user;
}

inline const absl::Status& StatusOf(const absl::Status& s) { return s; }
template <typename T>
const absl::Status& StatusOf(const absl::StatusOr<T>& s) {
  return s.status();
}

}  // namespace

struct SqliteUserStore::Impl {
  Impl(std::string p, SqliteOptions o) : path(std::move(p)), options(o) {}
  // Connections still in use when the store is destroyed are a caller bug.
  ~Impl() { DropIdle(); }

  const std::string path;
  const SqliteOptions options;

  common::Mutex mu;
  std::vector<std::unique_ptr<Connection>> idle ABSL_GUARDED_BY(mu);
  size_t open_count ABSL_GUARDED_BY(mu) = 0;  // idle + in use
  // The last stat() of `path`, for reads within file_check_interval.
  std::optional<PathState> checked ABSL_GUARDED_BY(mu);
  absl::Time checked_at ABSL_GUARDED_BY(mu);

  bool CanAcquire() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    return !idle.empty() || open_count < kMaxConnections;
  }

  absl::Status Unavailable(absl::string_view what,
                           absl::string_view why) const {
    return absl::UnavailableError(
        absl::StrCat("user store ", path, ": ", what, ": ", why));
  }

  // Error maps a SQLite result code to the UserStore error contract. Messages
  // carry SQLite's description and the file, never bound values.
  absl::Status Error(sqlite3* db, int rc, absl::string_view what) const {
    switch (rc & 0xff) {
      case SQLITE_CONSTRAINT:
        if (rc == SQLITE_CONSTRAINT_UNIQUE ||
            rc == SQLITE_CONSTRAINT_PRIMARYKEY) {
          return absl::AlreadyExistsError(
              "a user with that username already exists");
        }
        if (rc == SQLITE_CONSTRAINT_FOREIGNKEY) {
          return absl::FailedPreconditionError(
              absl::StrCat("user store ", path, ": ", what,
                           ": other rows still refer to this user (e.g. Django "
                           "groups, permissions or "
                           "admin log); remove them first"));
        }
        return absl::FailedPreconditionError(absl::StrCat(
            "user store ", path, ": ", what, ": ", sqlite3_errstr(rc)));
      case SQLITE_BUSY:
      case SQLITE_LOCKED:
        return Unavailable(
            what, absl::StrCat("the database is locked (waited ",
                               absl::FormatDuration(options.busy_timeout),
                               "); try again"));
      case SQLITE_READONLY:
        return Unavailable(what, "the database is read-only");
      case SQLITE_CANTOPEN:
        return Unavailable(what, "the database file cannot be opened");
      case SQLITE_ERROR:
        // Schema-level errors ("no such table: auth_user"): no bound values.
        return Unavailable(
            what, db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
      default:
        return Unavailable(what, sqlite3_errstr(rc));
    }
  }

  absl::Status Missing(absl::string_view what, int err) const {
    if (err == ENOENT || err == ENOTDIR) {
      return Unavailable(
          what, "the database file is missing (jwtauth does not recreate it)");
    }
    return Unavailable(what, absl::StrCat("cannot access the database file: ",
                                          std::strerror(err)));
  }

  absl::Status Exec(sqlite3* db, const char* sql,
                    absl::string_view what) const {
    const int rc = sqlite3_exec(db, sql, nullptr, nullptr, nullptr);
    return rc == SQLITE_OK ? absl::OkStatus() : Error(db, rc, what);
  }

  // OpenConnection opens and configures a new connection. With create=false
  // a missing file is an error rather than a new empty database.
  // SetWal switches `db` to WAL. On a new file, still in rollback mode,
  // that needs an exclusive lock; while another connection is in a
  // transaction on it (stores opened together, one of them migrating),
  // SQLite answers SQLITE_BUSY at once, without its busy handler (waiting
  // there could deadlock). So wait here, up to busy_timeout.
  absl::Status SetWal(sqlite3* db, absl::string_view what) const {
    const absl::Time deadline = absl::Now() + options.busy_timeout;
    for (;;) {
      const int rc = sqlite3_exec(db, "PRAGMA journal_mode=WAL", nullptr,
                                  nullptr, nullptr);
      if (rc == SQLITE_OK) return absl::OkStatus();
      if ((rc & 0xff) != SQLITE_BUSY || absl::Now() >= deadline)
        return Error(db, rc, what);
      absl::SleepFor(absl::Milliseconds(5));
    }
  }

  absl::StatusOr<std::unique_ptr<Connection>> OpenConnection(
      bool create, absl::string_view what) const {
    auto conn = std::make_unique<Connection>();
    const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX |
                      (create ? SQLITE_OPEN_CREATE : 0);
    int rc = sqlite3_open_v2(path.c_str(), &conn->db, flags, nullptr);
    if (rc != SQLITE_OK) {
      struct stat st;
      if (!create && ::stat(path.c_str(), &st) != 0)
        return Missing(what, errno);
      return Error(conn->db, rc, what);
    }
    sqlite3_extended_result_codes(conn->db, 1);
    const int64_t ms = absl::ToInt64Milliseconds(options.busy_timeout);
    sqlite3_busy_timeout(conn->db,
                         static_cast<int>(std::clamp<int64_t>(ms, 0, INT_MAX)));
    // journal_mode answers with a row; the mode itself is persistent in the
    // file. A file that cannot switch (e.g. read-only media) keeps its mode.
    absl::Status s = SetWal(conn->db, what);
    if (s.ok()) s = Exec(conn->db, "PRAGMA foreign_keys=ON", what);
    if (s.ok()) s = Exec(conn->db, "PRAGMA synchronous=NORMAL", what);
    if (!s.ok()) return s;
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) return Missing(what, errno);
    conn->dev = st.st_dev;
    conn->ino = st.st_ino;
    return conn;
  }

  void DropIdle() {
    std::vector<std::unique_ptr<Connection>> dropped;
    {
      common::MutexLock lock(&mu);
      dropped.swap(idle);
      open_count -= dropped.size();
    }
    dropped.clear();  // closes them, outside the lock
  }

  // CurrentFile says what is at `path`: stat()ed now for writes, and for
  // reads when the last check is older than file_check_interval (or the
  // clock went back).
  PathState CurrentFile(Access access) {
    const absl::Duration interval = options.file_check_interval;
    const bool cache = interval > absl::ZeroDuration();
    const absl::Time now = cache ? options.clock() : absl::InfinitePast();
    if (cache && access == Access::kRead) {
      common::MutexLock lock(&mu);
      if (checked.has_value() && now >= checked_at &&
          now - checked_at < interval) {
        return *checked;
      }
    }
    const PathState state = StatPath(path);
    if (cache) {
      common::MutexLock lock(&mu);
      if (!checked.has_value() || now >= checked_at) {  // keep the newest
        checked = state;
        checked_at = now;
      }
    }
    return state;
  }

  // Acquire returns a connection to the file now at `path`, waiting while
  // kMaxConnections are in use.
  absl::StatusOr<std::unique_ptr<Connection>> Acquire(absl::string_view what,
                                                      Access access) {
    const PathState file = CurrentFile(access);
    if (file.error != 0) {
      DropIdle();
      return Missing(what, file.error);
    }
    std::vector<std::unique_ptr<Connection>> stale;
    std::unique_ptr<Connection> conn;
    {
      common::MutexLock lock(&mu);
      mu.Await([this] { return CanAcquire(); });
      while (!idle.empty() && conn == nullptr) {
        std::unique_ptr<Connection> c = std::move(idle.back());
        idle.pop_back();
        if (c->dev == file.dev && c->ino == file.ino) {
          conn = std::move(c);
        } else {
          stale.push_back(std::move(c));
          --open_count;
        }
      }
      if (conn == nullptr) ++open_count;  // reserve a slot for a new one
    }
    stale.clear();
    if (conn != nullptr) return conn;
    absl::StatusOr<std::unique_ptr<Connection>> opened =
        OpenConnection(/*create=*/false, what);
    if (!opened.ok()) {
      common::MutexLock lock(&mu);
      --open_count;
    }
    return opened;
  }

  // Release pools a healthy connection (rolling back any open transaction)
  // and closes the rest.
  void Release(std::unique_ptr<Connection> conn, bool healthy) {
    if (healthy && sqlite3_get_autocommit(conn->db) == 0) {
      sqlite3_exec(conn->db, "ROLLBACK", nullptr, nullptr, nullptr);
      healthy = sqlite3_get_autocommit(conn->db) != 0;
    }
    {
      common::MutexLock lock(&mu);
      if (healthy && idle.size() < kMaxConnections) {
        idle.push_back(std::move(conn));
        return;
      }
      --open_count;
    }
    conn.reset();
  }

  // WithConnection runs `fn(Connection&)` on a pooled connection. A result of
  // UNAVAILABLE retires the connection, so the next call starts afresh.
  template <typename Fn>
  auto WithConnection(absl::string_view what, Access access, Fn&& fn)
      -> decltype(fn(std::declval<Connection&>())) {
    absl::StatusOr<std::unique_ptr<Connection>> conn = Acquire(what, access);
    if (!conn.ok()) return conn.status();
    auto result = fn(**conn);
    Release(*std::move(conn),
            StatusOf(result).code() != absl::StatusCode::kUnavailable);
    return result;
  }

  absl::StatusOr<sqlite3_stmt*> Prepare(Connection& conn, Stmt which,
                                        absl::string_view what) const {
    sqlite3_stmt*& stmt = conn.stmts[which];
    if (stmt == nullptr) {
      const int rc = sqlite3_prepare_v3(
          conn.db, kSql[which], -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
      if (rc != SQLITE_OK) {
        sqlite3_finalize(stmt);
        stmt = nullptr;
        return Error(conn.db, rc, what);
      }
    }
    return stmt;
  }

  // FindOne runs a lookup whose ?1 is bound by `bind`.
  absl::StatusOr<std::optional<User>> FindOne(
      Stmt which, const std::function<int(sqlite3_stmt*)>& bind) {
    constexpr absl::string_view kWhat = "cannot look up user";
    return WithConnection(
        kWhat, Access::kRead,
        [&](Connection& conn) -> absl::StatusOr<std::optional<User>> {
          absl::StatusOr<sqlite3_stmt*> prepared = Prepare(conn, which, kWhat);
          if (!prepared.ok()) return prepared.status();
          ScopedStmt stmt(*prepared);
          int rc = bind(stmt.get());
          if (rc != SQLITE_OK) return Error(conn.db, rc, kWhat);
          rc = sqlite3_step(stmt.get());
          if (rc == SQLITE_DONE) return std::optional<User>();
          if (rc != SQLITE_ROW) return Error(conn.db, rc, kWhat);
          return std::optional<User>(ReadUser(stmt.get()));
        });
  }

  // UpdateOne runs a mutation of the user `id` (bound as ?1; `bind` binds
  // the rest); NOT_FOUND when no row changed.
  absl::Status UpdateOne(Stmt which, int64_t id,
                         const std::function<int(sqlite3_stmt*)>& bind,
                         absl::string_view what) {
    return WithConnection(
        what, Access::kWrite, [&](Connection& conn) -> absl::Status {
          absl::StatusOr<sqlite3_stmt*> prepared = Prepare(conn, which, what);
          if (!prepared.ok()) return prepared.status();
          ScopedStmt stmt(*prepared);
          int rc = sqlite3_bind_int64(stmt.get(), 1, id);
          if (rc == SQLITE_OK) rc = bind(stmt.get());
          if (rc != SQLITE_OK) return Error(conn.db, rc, what);
          rc = sqlite3_step(stmt.get());
          if (rc != SQLITE_DONE) return Error(conn.db, rc, what);
          if (sqlite3_changes(conn.db) == 0) {
            return absl::NotFoundError(absl::StrCat("no user with id ", id));
          }
          return absl::OkStatus();
        });
  }

  // QueryInt runs a one-off query (no user input) answering one integer.
  absl::StatusOr<int64_t> QueryInt(Connection& conn, const char* sql,
                                   absl::string_view what) const {
    sqlite3_stmt* raw = nullptr;
    int rc = sqlite3_prepare_v2(conn.db, sql, -1, &raw, nullptr);
    std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)> stmt(
        raw, &sqlite3_finalize);
    if (rc != SQLITE_OK) return Error(conn.db, rc, what);
    rc = sqlite3_step(stmt.get());
    if (rc != SQLITE_ROW) return Error(conn.db, rc, what);
    return static_cast<int64_t>(sqlite3_column_int64(stmt.get(), 0));
  }

  absl::StatusOr<bool> TableExists(Connection& conn, const char* sql_exists,
                                   absl::string_view what) const {
    absl::StatusOr<int64_t> n = QueryInt(conn, sql_exists, what);
    if (!n.ok()) return n.status();
    return *n != 0;
  }

  // ApplyMigration applies `m` once, inside one IMMEDIATE transaction (so
  // two processes opening the same new file cannot both apply it).
  absl::Status ApplyMigration(Connection& conn, const Migration& m) const {
    constexpr absl::string_view kWhat = "cannot migrate the schema";
    absl::Status s = Exec(conn.db, "BEGIN IMMEDIATE", kWhat);
    if (!s.ok()) return s;
    auto fail = [&](absl::Status status) {
      sqlite3_exec(conn.db, "ROLLBACK", nullptr, nullptr, nullptr);
      return status;
    };
    s = Exec(conn.db, kCreateMigrationsTable, kWhat);
    if (!s.ok()) return fail(s);
    sqlite3_stmt* raw = nullptr;
    int rc = sqlite3_prepare_v2(
        conn.db,
        "SELECT count(*) FROM jwtauth_schema_migrations WHERE version = ?1", -1,
        &raw, nullptr);
    std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)> select(
        raw, &sqlite3_finalize);
    if (rc == SQLITE_OK) rc = sqlite3_bind_int(select.get(), 1, m.version);
    if (rc == SQLITE_OK) rc = sqlite3_step(select.get());
    if (rc != SQLITE_ROW) return fail(Error(conn.db, rc, kWhat));
    const bool applied = sqlite3_column_int64(select.get(), 0) != 0;
    select.reset();
    if (!applied) {
      s = Exec(conn.db, m.sql, kWhat);
      if (!s.ok()) return fail(s);
      raw = nullptr;
      rc = sqlite3_prepare_v2(conn.db,
                              "INSERT INTO jwtauth_schema_migrations (version, "
                              "applied_at) VALUES (?1, ?2)",
                              -1, &raw, nullptr);
      std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)> insert(
          raw, &sqlite3_finalize);
      const std::string now = FormatDjangoTime(absl::Now());
      if (rc == SQLITE_OK) rc = sqlite3_bind_int(insert.get(), 1, m.version);
      if (rc == SQLITE_OK) rc = BindText(insert.get(), 2, now);
      if (rc == SQLITE_OK) rc = sqlite3_step(insert.get());
      if (rc != SQLITE_DONE) return fail(Error(conn.db, rc, kWhat));
    }
    s = Exec(conn.db, "COMMIT", kWhat);
    if (!s.ok()) return fail(s);
    return absl::OkStatus();
  }
  template <typename Fn>
  absl::Status InTransaction(absl::string_view what, Fn&& fn) {
    Impl& impl = *this;
    return impl.WithConnection(
        what, Access::kWrite, [&](Connection& conn) -> absl::Status {
          absl::Status s = impl.Exec(conn.db, "BEGIN IMMEDIATE", what);
          if (!s.ok()) return s;
          // run: prepare-and-step helper with SQLite's own error mapping.
          auto run = [&](Stmt which,
                         const std::function<int(sqlite3_stmt*)>& bind,
                         std::optional<int64_t>* out) -> absl::Status {
            absl::StatusOr<sqlite3_stmt*> prepared =
                impl.Prepare(conn, which, what);
            if (!prepared.ok()) return prepared.status();
            ScopedStmt stmt(*prepared);
            int rc = bind(stmt.get());
            if (rc != SQLITE_OK) return impl.Error(conn.db, rc, what);
            rc = sqlite3_step(stmt.get());
            if (rc == SQLITE_ROW) {
              if (out != nullptr) *out = sqlite3_column_int64(stmt.get(), 0);
              rc = sqlite3_step(
                  stmt.get());  // RETURNING finishes on the next step
            }
            if (rc != SQLITE_DONE) return impl.Error(conn.db, rc, what);
            return absl::OkStatus();
          };
          s = fn(run);
          if (s.ok()) s = impl.Exec(conn.db, "COMMIT", what);
          if (!s.ok())
            sqlite3_exec(conn.db, "ROLLBACK", nullptr, nullptr, nullptr);
          return s;
        });
  }
};

namespace {
constexpr const char* kAuthUserExists =
    "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = "
    "'auth_user'";
constexpr const char* kMigrationsTableExists =
    "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND "
    "name = 'jwtauth_schema_migrations'";
}  // namespace

absl::StatusOr<std::unique_ptr<SqliteUserStore>> SqliteUserStore::Open(
    const std::string& path, SqliteOptions options) {
  if (path.empty() || path.find('\0') != std::string::npos) {
    return absl::InvalidArgumentError(
        "user store: the database path must be a file name");
  }
  if (options.busy_timeout < absl::ZeroDuration())
    options.busy_timeout = absl::ZeroDuration();
  auto impl = std::make_unique<Impl>(path, options);
  absl::StatusOr<std::unique_ptr<Connection>> conn =
      impl->OpenConnection(options.create, "cannot open the database");
  if (!conn.ok()) return conn.status();
  if (options.create) {
    for (const Migration& m : kMigrations) {
      absl::Status s = impl->ApplyMigration(**conn, m);
      if (!s.ok()) return s;
    }
    absl::StatusOr<bool> has_trigger =
        impl->TableExists(**conn, kRevokeTriggerExists, "cannot migrate");
    if (!has_trigger.ok()) return has_trigger.status();
    if (!*has_trigger) {
      absl::Status s =
          impl->Exec((*conn)->db, kCreateRevokeTrigger, "cannot migrate");
      if (!s.ok()) return s;
    }
  } else {
    // Without `create` nothing is written: the file must already hold users.
    absl::StatusOr<bool> has_users =
        impl->TableExists(**conn, kAuthUserExists, "cannot open");
    if (!has_users.ok()) return has_users.status();
    if (!*has_users) {
      return absl::FailedPreconditionError(absl::StrCat(
          "user store ", path,
          ": no auth_user table; open it with create=true to initialise it"));
    }
  }
  {
    common::MutexLock lock(&impl->mu);
    ++impl->open_count;
  }
  impl->Release(*std::move(conn), /*healthy=*/true);
  return std::unique_ptr<SqliteUserStore>(new SqliteUserStore(std::move(impl)));
}

SqliteUserStore::SqliteUserStore(std::unique_ptr<Impl> impl)
    : impl_(std::move(impl)) {}
SqliteUserStore::~SqliteUserStore() = default;

int SqliteUserStore::LatestSchemaVersion() {
  int latest = 0;
  for (const Migration& m : kMigrations) latest = std::max(latest, m.version);
  return latest;
}

absl::StatusOr<int> SqliteUserStore::SchemaVersion() {
  constexpr absl::string_view kWhat = "cannot read the schema version";
  return impl_->WithConnection(
      kWhat, Access::kRead, [&](Connection& conn) -> absl::StatusOr<int> {
        absl::StatusOr<bool> exists =
            impl_->TableExists(conn, kMigrationsTableExists, kWhat);
        if (!exists.ok()) return exists.status();
        if (!*exists) return 0;
        absl::StatusOr<int64_t> version = impl_->QueryInt(
            conn,
            "SELECT COALESCE(MAX(version), 0) FROM jwtauth_schema_migrations",
            kWhat);
        if (!version.ok()) return version.status();
        return static_cast<int>(*version);
      });
}

absl::StatusOr<std::optional<User>> SqliteUserStore::FindByUsername(
    absl::string_view username) {
  return impl_->FindOne(kFindByUsername, [&](sqlite3_stmt* stmt) {
    return BindText(stmt, 1, username);
  });
}

absl::StatusOr<std::optional<User>> SqliteUserStore::FindById(int64_t id) {
  return impl_->FindOne(kFindById, [&](sqlite3_stmt* stmt) {
    return sqlite3_bind_int64(stmt, 1, id);
  });
}

absl::StatusOr<std::vector<User>> SqliteUserStore::ListUsers() {
  constexpr absl::string_view kWhat = "cannot list users";
  return impl_->WithConnection(
      kWhat, Access::kRead,
      [&](Connection& conn) -> absl::StatusOr<std::vector<User>> {
        absl::StatusOr<sqlite3_stmt*> prepared =
            impl_->Prepare(conn, kListUsers, kWhat);
        if (!prepared.ok()) return prepared.status();
        ScopedStmt stmt(*prepared);
        std::vector<User> users;
        int rc;
        while ((rc = sqlite3_step(stmt.get())) == SQLITE_ROW)
          users.push_back(ReadUser(stmt.get()));
        if (rc != SQLITE_DONE) return impl_->Error(conn.db, rc, kWhat);
        return users;
      });
}

absl::StatusOr<User> SqliteUserStore::CreateUser(const NewUser& user) {
  constexpr absl::string_view kWhat = "cannot create user";
  absl::Status valid = ValidateUsername(user.username);
  if (!valid.ok()) return valid;
  const absl::Time joined = TruncateToMicros(absl::Now());
  const std::string joined_text = FormatDjangoTime(joined);
  return impl_->WithConnection(
      kWhat, Access::kWrite, [&](Connection& conn) -> absl::StatusOr<User> {
        absl::StatusOr<sqlite3_stmt*> prepared =
            impl_->Prepare(conn, kInsertUser, kWhat);
        if (!prepared.ok()) return prepared.status();
        ScopedStmt stmt(*prepared);
        int rc = BindText(stmt.get(), 1, user.password_hash);
        if (rc == SQLITE_OK)
          rc = sqlite3_bind_int(stmt.get(), 2, user.is_superuser ? 1 : 0);
        if (rc == SQLITE_OK) rc = BindText(stmt.get(), 3, user.username);
        if (rc == SQLITE_OK) rc = BindText(stmt.get(), 4, user.email);
        if (rc == SQLITE_OK)
          rc = sqlite3_bind_int(stmt.get(), 5, user.is_staff ? 1 : 0);
        if (rc == SQLITE_OK)
          rc = sqlite3_bind_int(stmt.get(), 6, user.is_active ? 1 : 0);
        if (rc == SQLITE_OK) rc = BindText(stmt.get(), 7, joined_text);
        if (rc != SQLITE_OK) return impl_->Error(conn.db, rc, kWhat);
        rc = sqlite3_step(stmt.get());
        if (rc != SQLITE_DONE) return impl_->Error(conn.db, rc, kWhat);
        return CreatedUser(user, sqlite3_last_insert_rowid(conn.db), joined);
      });
}

absl::Status SqliteUserStore::SetPasswordHash(int64_t id,
                                              absl::string_view hash) {
  return impl_->UpdateOne(
      kSetPassword, id,
      [&](sqlite3_stmt* stmt) { return BindText(stmt, 2, hash); },
      "cannot set password");
}

absl::Status SqliteUserStore::SetActive(int64_t id, bool active) {
  return impl_->UpdateOne(
      kSetActive, id,
      [&](sqlite3_stmt* stmt) {
        return sqlite3_bind_int(stmt, 2, active ? 1 : 0);
      },
      "cannot set active flag");
}

absl::Status SqliteUserStore::DeleteUser(int64_t id) {
  return impl_->UpdateOne(
      kDeleteUser, id, [](sqlite3_stmt*) { return SQLITE_OK; },
      "cannot delete user");
}

absl::Status SqliteUserStore::RecordLogin(int64_t id, absl::Time when) {
  if (when == absl::InfiniteFuture() || when == absl::InfinitePast()) {
    return absl::InvalidArgumentError("login time must be finite");
  }
  const std::string text = FormatDjangoTime(when);
  return impl_->UpdateOne(
      kRecordLogin, id,
      [&](sqlite3_stmt* stmt) { return BindText(stmt, 2, text); },
      "cannot record login");
}

absl::StatusOr<std::optional<TokenSubject>> SqliteUserStore::FindForToken(
    absl::string_view username, absl::string_view jti) {
  constexpr absl::string_view kWhat = "cannot look up user";
  return impl_->WithConnection(
      kWhat, Access::kRead,
      [&](Connection& conn) -> absl::StatusOr<std::optional<TokenSubject>> {
        absl::StatusOr<sqlite3_stmt*> prepared =
            impl_->Prepare(conn, kFindForToken, kWhat);
        if (!prepared.ok()) return prepared.status();
        ScopedStmt stmt(*prepared);
        int rc = BindText(stmt.get(), 1, username);
        if (rc == SQLITE_OK) rc = BindText(stmt.get(), 2, jti);
        if (rc != SQLITE_OK) return impl_->Error(conn.db, rc, kWhat);
        rc = sqlite3_step(stmt.get());
        if (rc == SQLITE_DONE) return std::optional<TokenSubject>();
        if (rc != SQLITE_ROW) return impl_->Error(conn.db, rc, kWhat);
        return std::optional<TokenSubject>(TokenSubject{
            ReadUser(stmt.get()), sqlite3_column_int64(stmt.get(), 12) != 0});
      });
}

namespace {

// NextRevocationSeq takes the next value of the revocation counter inside an
// InTransaction (`run` is its statement runner).
template <typename Run>
absl::StatusOr<int64_t> NextRevocationSeq(Run& run) {
  std::optional<int64_t> seq;
  absl::Status s = run(
      kNextSeq, [](sqlite3_stmt*) { return SQLITE_OK; }, &seq);
  if (!s.ok()) return s;
  if (!seq.has_value())
    return absl::UnavailableError("revocation counter is missing");
  return *seq;
}

// RequireUser is NOT_FOUND unless user `user_id` exists.
template <typename Run>
absl::Status RequireUser(Run& run, int64_t user_id) {
  std::optional<int64_t> exists;
  absl::Status s = run(
      kUserExists,
      [&](sqlite3_stmt* st) { return sqlite3_bind_int64(st, 1, user_id); },
      &exists);
  if (!s.ok()) return s;
  if (!exists.has_value())
    return absl::NotFoundError(absl::StrCat("no user with id ", user_id));
  return absl::OkStatus();
}

// BumpGeneration bumps `user_id`'s token generation under `seq` and returns
// the new generation.
template <typename Run>
absl::StatusOr<int64_t> BumpGeneration(Run& run, int64_t user_id, int64_t seq) {
  std::optional<int64_t> generation;
  absl::Status s = run(
      kBumpGeneration,
      [&](sqlite3_stmt* st) {
        int rc = sqlite3_bind_int64(st, 1, user_id);
        if (rc == SQLITE_OK) rc = sqlite3_bind_int64(st, 2, seq);
        return rc;
      },
      &generation);
  if (!s.ok()) return s;
  if (!generation.has_value())
    return absl::UnavailableError("token generation was not updated");
  return *generation;
}

}  // namespace

absl::StatusOr<TokenRevocation> SqliteUserStore::RevokeToken(
    absl::string_view jti, int64_t user_id, absl::Time expires_at,
    absl::Time watch_until, absl::Time now, size_t max_per_user) {
  if (jti.empty() || jti.size() > kMaxJtiLength) {
    return absl::InvalidArgumentError("jti must be 1 to 255 bytes");
  }
  const int64_t until = absl::ToUnixSeconds(expires_at);
  const int64_t watch = absl::ToUnixSeconds(std::min(watch_until, expires_at));
  const int64_t now_s = absl::ToUnixSeconds(now);
  TokenRevocation result;
  // A write transaction (BEGIN IMMEDIATE): the count and the write that
  // depends on it see no concurrent revocation in between.
  absl::Status status =
      impl_->InTransaction("cannot revoke token", [&](auto& run) {
        absl::Status s = run(
            kPurgeRevoked,
            [&](sqlite3_stmt* st) { return sqlite3_bind_int64(st, 1, now_s); },
            nullptr);
        if (!s.ok()) return s;
        s = RequireUser(run, user_id);
        if (!s.ok()) return s;
        // Counted up to the cap only: a cap lowered below what a user
        // holds costs no more than the cap.
        std::optional<int64_t> over_cap;
        if (max_per_user != kNoRevocationCap) {
          s = run(
              kCountRevoked,
              [&](sqlite3_stmt* st) {
                int rc = sqlite3_bind_int64(st, 1, user_id);
                if (rc == SQLITE_OK) rc = BindText(st, 2, jti);
                if (rc == SQLITE_OK)
                  rc = sqlite3_bind_int64(st, 3, CountLimit(max_per_user));
                if (rc == SQLITE_OK) rc = sqlite3_bind_int64(st, 4, now_s);
                if (rc == SQLITE_OK)
                  rc = sqlite3_bind_int64(st, 5, HeldLimit(max_per_user));
                return rc;
              },
              &over_cap);
          if (!s.ok()) return s;
        }
        absl::StatusOr<int64_t> seq = NextRevocationSeq(run);
        if (!seq.ok()) return seq.status();
        if (over_cap.value_or(0) == 1) {
          absl::StatusOr<int64_t> generation =
              BumpGeneration(run, user_id, *seq);
          if (!generation.ok()) return generation.status();
          result.all_sessions = true;
          result.generation = *generation;
          return absl::OkStatus();
        }
        return run(
            kInsertRevoked,
            [&](sqlite3_stmt* st) {
              int rc = BindText(st, 1, jti);
              if (rc == SQLITE_OK) rc = sqlite3_bind_int64(st, 2, user_id);
              if (rc == SQLITE_OK) rc = sqlite3_bind_int64(st, 3, until);
              if (rc == SQLITE_OK) rc = sqlite3_bind_int64(st, 4, *seq);
              if (rc == SQLITE_OK) rc = sqlite3_bind_int64(st, 5, watch);
              return rc;
            },
            nullptr);
      });
  if (!status.ok()) return status;
  return result;
}

absl::StatusOr<int64_t> SqliteUserStore::BumpTokenGeneration(int64_t user_id) {
  int64_t generation = 0;
  absl::Status status =
      impl_->InTransaction("cannot revoke tokens", [&](auto& run) {
        absl::Status s = RequireUser(run, user_id);
        if (!s.ok()) return s;
        absl::StatusOr<int64_t> seq = NextRevocationSeq(run);
        if (!seq.ok()) return seq.status();
        absl::StatusOr<int64_t> bumped = BumpGeneration(run, user_id, *seq);
        if (!bumped.ok()) return bumped.status();
        generation = *bumped;
        return absl::OkStatus();
      });
  if (!status.ok()) return status;
  return generation;
}

absl::StatusOr<Revocations> SqliteUserStore::RevocationsSince(int64_t seq,
                                                              absl::Time now) {
  constexpr absl::string_view kWhat = "cannot read revocations";
  const int64_t now_s = absl::ToUnixSeconds(now);
  return impl_->WithConnection(
      kWhat, Access::kRead,
      [&](Connection& conn) -> absl::StatusOr<Revocations> {
        // One read transaction: the three reads see the same state.
        absl::Status s = impl_->Exec(conn.db, "BEGIN", kWhat);
        if (!s.ok()) return s;
        absl::StatusOr<Revocations> out = [&]() -> absl::StatusOr<Revocations> {
          Revocations r;
          absl::StatusOr<sqlite3_stmt*> p =
              impl_->Prepare(conn, kCurrentSeq, kWhat);
          if (!p.ok()) return p.status();
          {
            ScopedStmt stmt(*p);
            int rc = sqlite3_step(stmt.get());
            if (rc != SQLITE_ROW) return impl_->Error(conn.db, rc, kWhat);
            r.seq = sqlite3_column_int64(stmt.get(), 0);
          }
          p = impl_->Prepare(conn, kRevokedSince, kWhat);
          if (!p.ok()) return p.status();
          {
            ScopedStmt stmt(*p);
            int rc = sqlite3_bind_int64(stmt.get(), 1, seq);
            if (rc == SQLITE_OK) rc = sqlite3_bind_int64(stmt.get(), 2, now_s);
            if (rc != SQLITE_OK) return impl_->Error(conn.db, rc, kWhat);
            while ((rc = sqlite3_step(stmt.get())) == SQLITE_ROW) {
              r.tokens.push_back(
                  {ColumnText(stmt.get(), 0),
                   sqlite3_column_int64(stmt.get(), 1),
                   absl::FromUnixSeconds(sqlite3_column_int64(stmt.get(), 2))});
            }
            if (rc != SQLITE_DONE) return impl_->Error(conn.db, rc, kWhat);
          }
          p = impl_->Prepare(conn, kGenerationsSince, kWhat);
          if (!p.ok()) return p.status();
          {
            ScopedStmt stmt(*p);
            int rc = sqlite3_bind_int64(stmt.get(), 1, seq);
            if (rc != SQLITE_OK) return impl_->Error(conn.db, rc, kWhat);
            while ((rc = sqlite3_step(stmt.get())) == SQLITE_ROW) {
              r.users.push_back({sqlite3_column_int64(stmt.get(), 0),
                                 sqlite3_column_int64(stmt.get(), 1)});
            }
            if (rc != SQLITE_DONE) return impl_->Error(conn.db, rc, kWhat);
          }
          return r;
        }();
        sqlite3_exec(conn.db, "COMMIT", nullptr, nullptr, nullptr);
        return out;
      });
}

}  // namespace jwtauth::server
