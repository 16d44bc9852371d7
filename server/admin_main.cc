// jwtauth-admin: manages users in the same store jwtauth-server reads.
//
//   jwtauth-admin [--data_dir=data | --database=FILE] users add NAME
//   [--email=E]
//                 [--inactive] [--staff] [--superuser]
//   jwtauth-admin users list | show NAME | disable NAME | enable NAME
//   jwtauth-admin users set-password NAME | delete NAME
//   jwtauth-admin users revoke NAME      log NAME out everywhere (every token
//                                        issued so far is refused)
// set-password and disable revoke the user's tokens too (a store trigger
// does it for any change of password or deactivation, Django's included).
//   jwtauth-admin migrate          apply pending schema migrations (both
//   backends)
//
// --database takes a SQLite file or a postgresql:// URL (see jwtauth-server).
//
// Passwords are read from the terminal (echo off) or from standard input's
// first line; never from arguments. Exit codes: 0 done, 1 refused (no such
// user, name taken, store unavailable), 2 usage.
#include <sys/stat.h>

#include <cstdio>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "client/password_input.h"
#include "server/password_hasher.h"
#include "server/user_store_factory.h"

ABSL_FLAG(std::string, data_dir, "data", "Folder holding jwtauth.sqlite3");
ABSL_FLAG(std::string, database, "",
          "User store: SQLite file (default <data_dir>/jwtauth.sqlite3) or "
          "postgresql:// URL");
ABSL_FLAG(std::string, email, "", "users add: the user's email");
ABSL_FLAG(bool, inactive, false, "users add: create the user disabled");
ABSL_FLAG(bool, staff, false, "users add: is_staff");
ABSL_FLAG(bool, superuser, false, "users add: is_superuser");
ABSL_FLAG(int64_t, pbkdf2_iterations, 1'000'000,
          "PBKDF2 iterations for new password hashes");

namespace {

namespace server = jwtauth::server;

constexpr char kUsage[] =
    "jwtauth-admin [--data_dir=DIR|--database=FILE] users "
    "add NAME [--email=E] [--inactive] [--staff] [--superuser] | list | show "
    "NAME | "
    "disable NAME | enable NAME | set-password NAME | revoke NAME | delete "
    "NAME | migrate";

int Refused(absl::string_view message) {
  std::fprintf(stderr, "jwtauth-admin: %s\n", std::string(message).c_str());
  return 1;
}

std::string ShowTime(absl::Time t) {
  return absl::FormatTime("%Y-%m-%d %H:%M:%S UTC", t, absl::UTCTimeZone());
}

void PrintUser(const server::User& u) {
  std::printf(
      "id: %lld\nusername: %s\nemail: %s\nactive: %s\nstaff: %s\nsuperuser: "
      "%s\n"
      "date_joined: %s\nlast_login: %s\n",
      static_cast<long long>(u.id), u.username.c_str(), u.email.c_str(),
      u.is_active ? "yes" : "no", u.is_staff ? "yes" : "no",
      u.is_superuser ? "yes" : "no", ShowTime(u.date_joined).c_str(),
      u.last_login.has_value() ? ShowTime(*u.last_login).c_str() : "never");
}

std::string DatabaseFromFlags(bool create_dir) {
  std::string db = absl::GetFlag(FLAGS_database);
  if (!db.empty()) return db;
  const std::string dir = absl::GetFlag(FLAGS_data_dir);
  if (create_dir) ::mkdir(dir.c_str(), 0700);
  return dir + "/jwtauth.sqlite3";
}

int Run(const std::vector<std::string>& args) {
  if (args.size() == 1 && args[0] == "migrate") {
    const std::string db = DatabaseFromFlags(true);
    server::StoreOpenOptions options;
    options.create_or_migrate = true;
    absl::StatusOr<std::unique_ptr<server::UserStore>> store =
        server::OpenUserStore(db, options);
    if (!store.ok()) return Refused(store.status().message());
    std::printf("migrated %s\n", server::RedactDatabase(db).c_str());
    return 0;
  }
  if (args.size() < 2 || args[0] != "users") {
    std::fprintf(stderr, "usage: %s\n", kUsage);
    return 2;
  }
  const std::string& cmd = args[1];
  const bool needs_name = cmd != "list";
  if ((needs_name && args.size() != 3) || (!needs_name && args.size() != 2)) {
    std::fprintf(stderr, "usage: %s\n", kUsage);
    return 2;
  }
  const std::string db = DatabaseFromFlags(cmd == "add");
  server::StoreOpenOptions options;
  options.create_or_migrate = cmd == "add";
  absl::StatusOr<std::unique_ptr<server::UserStore>> store =
      server::OpenUserStore(db, options);
  if (!store.ok()) return Refused(store.status().message());
  server::UserStore& users = **store;
  const server::PasswordHasher hasher(absl::GetFlag(FLAGS_pbkdf2_iterations));

  if (cmd == "list") {
    absl::StatusOr<std::vector<server::User>> all = users.ListUsers();
    if (!all.ok()) return Refused(all.status().message());
    for (const server::User& u : *all) {
      std::printf("%lld\t%s\t%s\t%s\n", static_cast<long long>(u.id),
                  u.username.c_str(), u.email.c_str(),
                  u.is_active ? "active" : "disabled");
    }
    return 0;
  }
  const std::string& name = args[2];
  if (cmd == "add") {
    absl::StatusOr<std::string> password =
        jwtauth::client::ReadPassword("Password: ", true);
    if (!password.ok()) return Refused(password.status().message());
    absl::StatusOr<std::string> hash = hasher.Hash(*password);
    if (!hash.ok()) return Refused(hash.status().message());
    server::NewUser nu;
    nu.username = name;
    nu.email = absl::GetFlag(FLAGS_email);
    nu.password_hash = *hash;
    nu.is_active = !absl::GetFlag(FLAGS_inactive);
    nu.is_staff = absl::GetFlag(FLAGS_staff);
    nu.is_superuser = absl::GetFlag(FLAGS_superuser);
    absl::StatusOr<server::User> created = users.CreateUser(nu);
    if (!created.ok()) return Refused(created.status().message());
    std::printf("created user %s (id %lld)\n", created->username.c_str(),
                static_cast<long long>(created->id));
    return 0;
  }
  absl::StatusOr<std::optional<server::User>> user = users.FindByUsername(name);
  if (!user.ok()) return Refused(user.status().message());
  if (!user->has_value())
    return Refused(absl::StrCat("no user named \"", name, "\""));
  const server::User& u = **user;
  absl::Status done;
  if (cmd == "show") {
    PrintUser(u);
    return 0;
  } else if (cmd == "disable" || cmd == "enable") {
    done = users.SetActive(u.id, cmd == "enable");
  } else if (cmd == "set-password") {
    absl::StatusOr<std::string> password =
        jwtauth::client::ReadPassword("New password: ", true);
    if (!password.ok()) return Refused(password.status().message());
    absl::StatusOr<std::string> hash = hasher.Hash(*password);
    if (!hash.ok()) return Refused(hash.status().message());
    done = users.SetPasswordHash(u.id, *hash);
  } else if (cmd == "revoke") {
    absl::StatusOr<int64_t> generation = users.BumpTokenGeneration(u.id);
    done = generation.status();
  } else if (cmd == "delete") {
    done = users.DeleteUser(u.id);
  } else {
    std::fprintf(stderr, "usage: %s\n", kUsage);
    return 2;
  }
  if (!done.ok()) return Refused(done.message());
  std::printf("%s: %s\n", cmd.c_str(), name.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(kUsage);
  ::umask(077);  // the database holds password hashes; secrets are ours alone
  std::vector<char*> raw = absl::ParseCommandLine(argc, argv);
  return Run(std::vector<std::string>(raw.begin() + 1, raw.end()));
}
