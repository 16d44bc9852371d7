// user_store_factory.h: opens the user store a --database value names.
//
//   "postgresql://user@host:port/db" or "postgres://..."  PostgreSQL (libpq
//   URL) anything else                                         a SQLite file
//   path
//
//   StoreOpenOptions options;
//   options.create_or_migrate = false;  // tools that must not create databases
//   absl::StatusOr<std::unique_ptr<UserStore>> store = OpenUserStore(database,
//   options); LogLine(absl::StrCat("database ", RedactDatabase(database)));
//
// Thread-safety: the functions are thread-safe; the stores are thread-safe.
#ifndef JWTAUTH_SERVER_USER_STORE_FACTORY_H_
#define JWTAUTH_SERVER_USER_STORE_FACTORY_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "server/postgres_user_store.h"
#include "server/sqlite_user_store.h"
#include "server/user_store.h"

namespace jwtauth::server {

struct StoreOpenOptions {
  // SQLite: create the file and run migrations (SqliteOptions::create).
  // PostgreSQL: apply pending migrations (PostgresOptions::migrate).
  // When false nothing is created or migrated: the store must already exist.
  bool create_or_migrate = true;
  // Without create_or_migrate: refuse a schema older than this version's
  // (FAILED_PRECONDITION naming both versions), whose missing trigger, table
  // or index would fail calls or revoke less than asked. jwtauth-server sets
  // it; jwtauth-admin's user commands do not, so an operator can still list,
  // disable or revoke on a database not migrated yet.
  bool require_current_schema = false;
  // Backend tuning; their create / migrate fields are taken from
  // create_or_migrate.
  SqliteOptions sqlite;
  PostgresOptions postgres;
};

// OpenUserStore opens the SQLite file or PostgreSQL database `database` names.
absl::StatusOr<std::unique_ptr<UserStore>> OpenUserStore(
    const std::string& database, StoreOpenOptions options = {});

// IsRemoteStore is true for a database reached over the network (PostgreSQL):
// its calls may block for seconds, so callers must keep them off gRPC
// callback threads.
bool IsRemoteStore(const std::string& database);

// RedactDatabase returns `database` fit for logs: a URL loses its password
// (user:password@ and password= / sslpassword= parameters); a file path is
// returned unchanged.
std::string RedactDatabase(const std::string& database);

}  // namespace jwtauth::server

#endif  // JWTAUTH_SERVER_USER_STORE_FACTORY_H_
