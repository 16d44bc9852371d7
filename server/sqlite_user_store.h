// sqlite_user_store.h: the embedded default user store, one SQLite file.
//
// The table is Django's auth_user (id, password, last_login, is_superuser,
// username, first_name, last_name, email, is_staff, is_active, date_joined),
// so an existing Django project's SQLite database works unchanged; jwtauth
// keeps its own schema version in table jwtauth_schema_migrations and never
// alters tables it did not create. The database runs in WAL mode with a busy
// timeout; errors from a missing, read-only or locked file are UNAVAILABLE,
// and the store recovers by itself when the file is usable again (reads notice
// a moved file within SqliteOptions::file_check_interval, writes at once).
//
//   absl::StatusOr<std::unique_ptr<SqliteUserStore>> store =
//       SqliteUserStore::Open("data/jwtauth.sqlite3", {.create = true});
//
// Thread-safety: thread-safe (a small pool of connections behind a mutex).
#ifndef JWTAUTH_SERVER_SQLITE_USER_STORE_H_
#define JWTAUTH_SERVER_SQLITE_USER_STORE_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "jwt/clock.h"
#include "server/user_store.h"

namespace jwtauth::server {

struct SqliteOptions {
  // Create the file and run migrations when needed. When false, a missing file
  // is an error (used by tools that must not create databases by accident).
  bool create = true;
  // How long a call waits for a lock held by another process.
  absl::Duration busy_timeout = absl::Seconds(2);
  // How often reads stat() the database path to notice a deleted or replaced
  // file (then UNAVAILABLE, or fresh connections to the new file). Writes
  // always check first, so none lands in a file that is no longer at `path`;
  // a read may use the previous file for up to this long after it was moved.
  // The stat is a path lookup per call otherwise, ~30 % of a VerifyToken's
  // server CPU on the benchmark VM (bench/RESULTS.md). Zero: every call.
  absl::Duration file_check_interval = absl::Milliseconds(10);
  // The clock for file_check_interval; tests inject one.
  jwt::Clock clock = jwt::SystemClock();
};

class SqliteUserStore : public UserStore {
 public:
  static absl::StatusOr<std::unique_ptr<SqliteUserStore>> Open(
      const std::string& path, SqliteOptions options = {});
  ~SqliteUserStore() override;

  // SchemaVersion returns the applied jwtauth migration version.
  absl::StatusOr<int> SchemaVersion();
  // LatestSchemaVersion is the version Open(create=true) brings a file to.
  static int LatestSchemaVersion();

  absl::StatusOr<std::optional<User>> FindByUsername(
      absl::string_view username) override;
  absl::StatusOr<std::optional<User>> FindById(int64_t id) override;
  absl::StatusOr<std::vector<User>> ListUsers() override;
  absl::StatusOr<User> CreateUser(const NewUser& user) override;
  absl::Status SetPasswordHash(int64_t id, absl::string_view hash) override;
  absl::Status SetActive(int64_t id, bool active) override;
  absl::Status DeleteUser(int64_t id) override;
  absl::Status RecordLogin(int64_t id, absl::Time when) override;
  absl::StatusOr<std::optional<TokenSubject>> FindForToken(
      absl::string_view username, absl::string_view jti) override;
  absl::StatusOr<TokenRevocation> RevokeToken(
      absl::string_view jti, int64_t user_id, absl::Time expires_at,
      absl::Time watch_until, absl::Time now, size_t max_per_user) override;
  absl::StatusOr<int64_t> BumpTokenGeneration(int64_t user_id) override;
  absl::StatusOr<Revocations> RevocationsSince(int64_t seq,
                                               absl::Time now) override;

 private:
  struct Impl;
  explicit SqliteUserStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace jwtauth::server

#endif  // JWTAUTH_SERVER_SQLITE_USER_STORE_H_
