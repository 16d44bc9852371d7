// user_store_factory.cc: picks the backend from the --database value.
#include "server/user_store_factory.h"

#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"

namespace jwtauth::server {
namespace {

constexpr absl::string_view kSchemes[] = {"postgresql://", "postgres://"};

// IsSecretParameter: libpq URI query parameters that carry a secret.
bool IsSecretParameter(absl::string_view parameter) {
  const absl::string_view key = parameter.substr(0, parameter.find('='));
  return absl::StrContains(absl::AsciiStrToLower(key), "password");
}

}  // namespace

bool IsRemoteStore(const std::string& database) {
  for (absl::string_view scheme : kSchemes) {
    if (absl::StartsWith(database, scheme)) return true;
  }
  return false;
}

std::string RedactDatabase(const std::string& database) {
  absl::string_view scheme;
  for (absl::string_view s : kSchemes) {
    if (absl::StartsWith(database, s)) scheme = s;
  }
  if (scheme.empty()) return database;
  absl::string_view rest = absl::string_view(database).substr(scheme.size());
  absl::string_view query;
  if (const size_t q = rest.find('?'); q != absl::string_view::npos) {
    query = rest.substr(q + 1);
    rest = rest.substr(0, q);
  }
  // Userinfo ends at the last '@' (a password may hold '/', ':' or '@' when
  // written carelessly): keep only the user name before the first ':'.
  std::string out(scheme);
  if (const size_t at = rest.rfind('@'); at != absl::string_view::npos) {
    const absl::string_view userinfo = rest.substr(0, at);
    const size_t colon = userinfo.find(':');
    if (colon != absl::string_view::npos) {
      out.append(userinfo.substr(0, colon).data(), colon);
      out.append(rest.substr(at).data(), rest.size() - at);
    } else {
      out.append(rest.data(), rest.size());
    }
  } else {
    out.append(rest.data(), rest.size());
  }
  if (!query.empty()) {
    std::vector<absl::string_view> kept;
    for (absl::string_view parameter : absl::StrSplit(query, '&')) {
      if (!parameter.empty() && !IsSecretParameter(parameter))
        kept.push_back(parameter);
    }
    if (!kept.empty()) out += "?" + absl::StrJoin(kept, "&");
  }
  return out;
}

namespace {

// Checked is `store`, refused when `require_current` and its schema is older
// than this version's (StoreOpenOptions::require_current_schema).
template <typename Store>
absl::StatusOr<std::unique_ptr<UserStore>> Checked(
    absl::StatusOr<std::unique_ptr<Store>> store, bool require_current) {
  if (!store.ok()) return store.status();
  if (require_current) {
    absl::StatusOr<int> version = (*store)->SchemaVersion();
    if (!version.ok()) return version.status();
    if (*version < Store::LatestSchemaVersion()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "user store: jwtauth schema version ", *version,
          ", this version of jwtauth needs ", Store::LatestSchemaVersion(),
          "; run `jwtauth-admin migrate` first"));
    }
  }
  return std::unique_ptr<UserStore>(*std::move(store));
}

}  // namespace

absl::StatusOr<std::unique_ptr<UserStore>> OpenUserStore(
    const std::string& database, StoreOpenOptions options) {
  if (IsRemoteStore(database)) {
    PostgresOptions postgres = options.postgres;
    postgres.migrate = options.create_or_migrate;
    return Checked(PostgresUserStore::Open(database, postgres),
                   options.require_current_schema);
  }
  SqliteOptions sqlite = options.sqlite;
  sqlite.create = options.create_or_migrate;
  return Checked(SqliteUserStore::Open(database, sqlite),
                 options.require_current_schema);
}

}  // namespace jwtauth::server
