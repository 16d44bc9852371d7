// postgres_user_store.h: the user store for several server replicas, one
// PostgreSQL database shared by all of them (libpq).
//
// The table is Django's PostgreSQL auth_user, so an existing Django project's
// database works unchanged (jwtauth reads and writes its auth_user and never
// alters tables it did not create). jwtauth's schema version lives in
// jwtauth_schema_migrations; migrations are versioned, each runs in its own
// transaction, serialised across replicas by an advisory lock, and running
// them again is a no-op.
//
//   absl::StatusOr<std::unique_ptr<PostgresUserStore>> store =
//       PostgresUserStore::Open("postgresql://jwtauth@db:5432/jwtauth");
//
// The password belongs in PGPASSWORD or ~/.pgpass (a password in the URL
// works, but is never repeated in messages). Errors follow user_store.h: an
// unreachable, restarting or overloaded server, a timed-out statement or a
// read-only database is UNAVAILABLE, and the store reconnects by itself once
// the server is back (no reopening).
//
// Calls block on the network (up to acquire_timeout + connect_timeout +
// statement_timeout): keep them off gRPC callback threads.
//
// Thread-safety: thread-safe (a bounded pool of connections, each used by one
// call at a time).
#ifndef JWTAUTH_SERVER_POSTGRES_USER_STORE_H_
#define JWTAUTH_SERVER_POSTGRES_USER_STORE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "server/user_store.h"

namespace jwtauth::server {

struct PostgresOptions {
  // Most connections open at once (idle + in use).
  int pool_size = 4;
  // Per connection attempt (libpq's connect_timeout, whole seconds, >= 1).
  absl::Duration connect_timeout = absl::Seconds(2);
  // Server-side limit of every statement (SET statement_timeout at connect);
  // a statement cut short is UNAVAILABLE. Zero or less: no limit.
  absl::Duration statement_timeout = absl::Seconds(2);
  // How long a call waits for a free pooled connection before UNAVAILABLE.
  absl::Duration acquire_timeout = absl::Seconds(2);
  // Apply pending migrations in Open(). When false, Open() writes nothing and
  // requires an existing auth_user table (FAILED_PRECONDITION otherwise).
  bool migrate = true;
};

class PostgresUserStore : public UserStore {
 public:
  // Open checks the URL (INVALID_ARGUMENT), connects once (UNAVAILABLE when
  // the server cannot be reached) and migrates when options.migrate is set.
  static absl::StatusOr<std::unique_ptr<PostgresUserStore>> Open(
      const std::string& url, PostgresOptions options = {});
  ~PostgresUserStore() override;

  // Migrate applies pending jwtauth migrations (idempotent; safe from several
  // replicas at once).
  [[nodiscard]] absl::Status Migrate();
  // SchemaVersion returns the applied jwtauth migration version (0: none).
  absl::StatusOr<int> SchemaVersion();
  // LatestSchemaVersion is the version Migrate() brings a database to.
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
  // Step runs one statement of a RunRevocation transaction (SQL, params) and
  // returns the first column of its first row; a SELECT or RETURNING with no
  // row is NOT_FOUND.
  using Step = absl::FunctionRef<absl::StatusOr<std::optional<int64_t>>(
      const char* sql, const std::vector<std::string>& params)>;
  absl::Status RunRevocation(absl::string_view what,
                             absl::FunctionRef<absl::Status(Step)> body);
  absl::Status RunRevocationOnce(absl::string_view what,
                                 absl::FunctionRef<absl::Status(Step)> body);
  explicit PostgresUserStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace jwtauth::server

#endif  // JWTAUTH_SERVER_POSTGRES_USER_STORE_H_
