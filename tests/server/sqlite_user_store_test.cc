// Tests of SqliteUserStore on real files in a fresh temporary folder per
// test: CRUD, the error contract, migrations, concurrency, recovery from a
// vanished / locked / unreadable file without reopening the store, and
// compatibility with a database made by Django 3.2 itself (django_db.py).
#include "server/sqlite_user_store.h"

#include <fcntl.h>
#include <linux/fs.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "jwt/json.h"
#include "server/password_hasher.h"
#include "tests/testing/test_util.h"

namespace jwtauth::server {
namespace {

namespace fs = std::filesystem;
using ::jwtauth::testing::IsOk;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::Optional;

MATCHER(IsOkWithoutValue, "is OK without a user") {
  if (!arg.ok()) *result_listener << "status: " << arg.status();
  return arg.ok() && !arg->has_value();
}

MATCHER_P(IsOkAndHolds, value, "") {
  if (!arg.ok()) *result_listener << "status: " << arg.status();
  return arg.ok() && *arg == value;
}

MATCHER_P(HasCode, code, "") {
  const absl::Status& s = ::jwtauth::testing::StatusOf(arg);
  *result_listener << "status: " << s;
  return s.code() == code;
}

// TempDir: a fresh private folder, removed with its contents at the end.
class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/jwtauth-store-XXXXXX";
    const char* made = ::mkdtemp(tmpl);
    EXPECT_NE(made, nullptr);
    path_ = made != nullptr ? made : "/tmp";
  }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  std::string File(absl::string_view name) const {
    return absl::StrCat(path_, "/", name);
  }

 private:
  std::string path_;
};

// RawDb: a plain sqlite3 connection of the test's own, to look behind the
// store's back and to hold locks.
class RawDb {
 public:
  explicit RawDb(const std::string& path) {
    EXPECT_EQ(
        sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE, nullptr),
        SQLITE_OK);
  }
  ~RawDb() { sqlite3_close_v2(db_); }
  void Exec(const std::string& sql) {
    char* error = nullptr;
    EXPECT_EQ(sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error),
              SQLITE_OK)
        << sql << ": " << (error != nullptr ? error : "");
    sqlite3_free(error);
  }
  // Text returns the first column of the first row of `sql`, or "<none>".
  std::string Text(const std::string& sql) {
    sqlite3_stmt* stmt = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr),
              SQLITE_OK)
        << sql;
    std::string out = "<none>";
    if (sqlite3_step(stmt) == SQLITE_ROW) {
      const unsigned char* text = sqlite3_column_text(stmt, 0);
      out = text != nullptr ? reinterpret_cast<const char*>(text) : "<null>";
    }
    sqlite3_finalize(stmt);
    return out;
  }
  // Column returns `column` of every row, one line each.
  std::string Column(const std::string& sql, int column) {
    sqlite3_stmt* stmt = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr),
              SQLITE_OK)
        << sql;
    std::string out;
    while (sqlite3_step(stmt) == SQLITE_ROW) {
      const unsigned char* text = sqlite3_column_text(stmt, column);
      absl::StrAppend(
          &out,
          text != nullptr ? reinterpret_cast<const char*>(text) : "<null>",
          "\n");
    }
    sqlite3_finalize(stmt);
    return out;
  }

 private:
  sqlite3* db_ = nullptr;
};

std::unique_ptr<SqliteUserStore> MustOpen(const std::string& path,
                                          SqliteOptions options = {}) {
  absl::StatusOr<std::unique_ptr<SqliteUserStore>> store =
      SqliteUserStore::Open(path, options);
  EXPECT_THAT(store, IsOk());
  return store.ok() ? *std::move(store) : nullptr;
}

SqliteOptions NoCreate() {
  SqliteOptions options;
  options.create = false;
  return options;
}

// EveryCall: reads stat() the path on every call, so a test sees a moved file
// on the next read (the default looks again after file_check_interval).
SqliteOptions EveryCall() {
  SqliteOptions options;
  options.file_check_interval = absl::ZeroDuration();
  return options;
}

SqliteOptions ShortBusyTimeout() {
  SqliteOptions options;
  options.busy_timeout = absl::Milliseconds(50);
  return options;
}

NewUser Ada() {
  NewUser user;
  user.username = "ada";
  user.email = "ada@example.com";
  user.password_hash =
      "pbkdf2_sha256$1000$saltsaltsalt$notarealhashbutstoredasis=";
  return user;
}

NewUser Named(absl::string_view username) {
  NewUser user = Ada();
  user.username = std::string(username);
  user.email = absl::StrCat(username, "@example.com");
  return user;
}

void MoveFiles(const std::string& from, const std::string& to) {
  for (const char* suffix : {"", "-wal", "-shm"}) {
    std::error_code ignored;
    fs::rename(from + suffix, to + suffix, ignored);
  }
}

void RemoveFiles(const std::string& path) {
  for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(path + suffix);
}

// ---------------------------------------------------------------- CRUD

TEST(SqliteUserStore, CreatedUserIsFoundByUsernameAndId) {
  TempDir dir;
  auto store = MustOpen(dir.File("users.sqlite3"));
  ASSERT_NE(store, nullptr);
  const absl::Time before = absl::Now() - absl::Seconds(1);
  absl::StatusOr<User> created = store->CreateUser(Ada());
  ASSERT_THAT(created, IsOk());
  EXPECT_GT(created->id, 0);
  EXPECT_EQ(created->username, "ada");
  EXPECT_GE(created->date_joined, before);
  EXPECT_LE(created->date_joined, absl::Now());
  EXPECT_EQ(created->last_login, std::nullopt);

  for (auto found :
       {store->FindByUsername("ada"), store->FindById(created->id)}) {
    ASSERT_THAT(found, IsOk());
    ASSERT_TRUE(found->has_value());
    const User& user = **found;
    EXPECT_EQ(user.id, created->id);
    EXPECT_EQ(user.username, "ada");
    EXPECT_EQ(user.email, "ada@example.com");
    EXPECT_EQ(user.first_name, "");
    EXPECT_EQ(user.last_name, "");
    EXPECT_EQ(user.password_hash, Ada().password_hash);
    EXPECT_TRUE(user.is_active);
    EXPECT_FALSE(user.is_staff);
    EXPECT_FALSE(user.is_superuser);
    EXPECT_EQ(user.date_joined, created->date_joined);
    EXPECT_EQ(user.last_login, std::nullopt);
  }
}

TEST(SqliteUserStore, FindForTokenReturnsTheUserAndWhetherTheJtiIsRevoked) {
  TempDir dir;
  auto store = MustOpen(dir.File("users.sqlite3"));
  ASSERT_NE(store, nullptr);
  absl::StatusOr<User> created = store->CreateUser(Ada());
  ASSERT_THAT(created, IsOk());
  const absl::Time now = absl::Now();
  ASSERT_TRUE(store
                  ->RevokeToken("gone", created->id, now + absl::Hours(1),
                                now + absl::Hours(1), now, 100)
                  .ok());
  for (const char* jti : {"gone", "kept", ""}) {
    absl::StatusOr<std::optional<TokenSubject>> found =
        store->FindForToken("ada", jti);
    ASSERT_THAT(found, IsOk()) << jti;
    ASSERT_TRUE(found->has_value()) << jti;
    EXPECT_EQ((*found)->user.id, created->id);
    EXPECT_EQ((*found)->jti_revoked, std::string(jti) == "gone") << jti;
  }
  absl::StatusOr<std::optional<TokenSubject>> absent =
      store->FindForToken("nobody", "gone");
  ASSERT_THAT(absent, IsOk());
  EXPECT_FALSE(absent->has_value());
}

TEST(SqliteUserStore, FlagsAreStoredAsGiven) {
  TempDir dir;
  auto store = MustOpen(dir.File("users.sqlite3"));
  NewUser admin = Named("root");
  admin.is_active = false;
  admin.is_staff = true;
  admin.is_superuser = true;
  ASSERT_THAT(store->CreateUser(admin), IsOk());
  absl::StatusOr<std::optional<User>> found = store->FindByUsername("root");
  ASSERT_THAT(found, IsOk());
  ASSERT_TRUE(found->has_value());
  EXPECT_FALSE((*found)->is_active);
  EXPECT_TRUE((*found)->is_staff);
  EXPECT_TRUE((*found)->is_superuser);
  RawDb raw(dir.File("users.sqlite3"));
  EXPECT_EQ(
      raw.Text("SELECT is_active || is_staff || is_superuser FROM auth_user"),
      "011");
}

TEST(SqliteUserStore, AbsentUserIsOkWithoutValue) {
  TempDir dir;
  auto store = MustOpen(dir.File("users.sqlite3"));
  EXPECT_THAT(store->FindByUsername("nobody"), IsOkWithoutValue());
  EXPECT_THAT(store->FindById(42), IsOkWithoutValue());
  EXPECT_THAT(store->FindByUsername(""), IsOkWithoutValue());
}

TEST(SqliteUserStore, UsernameLookupIsExactAndCaseSensitive) {
  TempDir dir;
  auto store = MustOpen(dir.File("users.sqlite3"));
  ASSERT_THAT(store->CreateUser(Named("Ada")), IsOk());
  EXPECT_THAT(store->FindByUsername("ada"), IsOkWithoutValue());
  EXPECT_THAT(store->FindByUsername("ADA"), IsOkWithoutValue());
  EXPECT_THAT(store->FindByUsername("Ada "), IsOkWithoutValue());
  EXPECT_THAT(store->FindByUsername("Ad%"), IsOkWithoutValue());
  absl::StatusOr<std::optional<User>> found = store->FindByUsername("Ada");
  ASSERT_THAT(found, IsOk());
  EXPECT_TRUE(found->has_value());
}

TEST(SqliteUserStore, HostileUsernameIsStoredLiterally) {
  TempDir dir;
  auto store = MustOpen(dir.File("users.sqlite3"));
  const std::string hostile = "x'); DROP TABLE auth_user; --";
  ASSERT_THAT(store->CreateUser(Named(hostile)), IsOk());
  absl::StatusOr<std::optional<User>> found = store->FindByUsername(hostile);
  ASSERT_THAT(found, IsOk());
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ((*found)->username, hostile);
}

TEST(SqliteUserStore, ListUsersReturnsEveryUserInIdOrder) {
  TempDir dir;
  auto store = MustOpen(dir.File("users.sqlite3"));
  EXPECT_TRUE(store->ListUsers()->empty());
  for (const char* name : {"carol", "ada", "bob"})
    ASSERT_THAT(store->CreateUser(Named(name)), IsOk());
  absl::StatusOr<std::vector<User>> users = store->ListUsers();
  ASSERT_THAT(users, IsOk());
  std::vector<std::string> names;
  for (const User& u : *users) names.push_back(u.username);
  EXPECT_THAT(names, ElementsAre("carol", "ada", "bob"));
  EXPECT_LT((*users)[0].id, (*users)[1].id);
  EXPECT_LT((*users)[1].id, (*users)[2].id);
}

TEST(SqliteUserStore, SetPasswordHashReplacesHash) {
  TempDir dir;
  auto store = MustOpen(dir.File("users.sqlite3"));
  absl::StatusOr<User> ada = store->CreateUser(Ada());
  ASSERT_THAT(ada, IsOk());
  ASSERT_THAT(store->SetPasswordHash(ada->id, "pbkdf2_sha256$2$new$hash"),
              IsOk());
  absl::StatusOr<std::optional<User>> found = store->FindById(ada->id);
  ASSERT_THAT(found, IsOk());
  EXPECT_EQ((*found)->password_hash, "pbkdf2_sha256$2$new$hash");
}

TEST(SqliteUserStore, SetActiveTogglesActiveFlag) {
  TempDir dir;
  auto store = MustOpen(dir.File("users.sqlite3"));
  absl::StatusOr<User> ada = store->CreateUser(Ada());
  ASSERT_THAT(ada, IsOk());
  ASSERT_THAT(store->SetActive(ada->id, false), IsOk());
  EXPECT_FALSE((*store->FindById(ada->id))->is_active);
  ASSERT_THAT(store->SetActive(ada->id, true), IsOk());
  EXPECT_TRUE((*store->FindById(ada->id))->is_active);
}

TEST(SqliteUserStore, RecordLoginStoresMicrosecondTimeAsDjangoDoes) {
  TempDir dir;
  auto store = MustOpen(dir.File("users.sqlite3"));
  absl::StatusOr<User> ada = store->CreateUser(Ada());
  ASSERT_THAT(ada, IsOk());
  // 2023-11-14 22:13:20.123456789 UTC: stored truncated to microseconds.
  const absl::Time when = absl::FromUnixNanos(1'700'000'000'123'456'789);
  ASSERT_THAT(store->RecordLogin(ada->id, when), IsOk());
  absl::StatusOr<std::optional<User>> found = store->FindById(ada->id);
  ASSERT_THAT(found, IsOk());
  EXPECT_THAT((*found)->last_login,
              Optional(absl::FromUnixMicros(1'700'000'000'123'456)));
  RawDb raw(dir.File("users.sqlite3"));
  EXPECT_EQ(raw.Text("SELECT last_login FROM auth_user"),
            "2023-11-14 22:13:20.123456");

  // A whole second is written without a fraction, like Python's str(datetime).
  ASSERT_THAT(store->RecordLogin(ada->id, absl::FromUnixSeconds(1'700'000'000)),
              IsOk());
  EXPECT_EQ(raw.Text("SELECT last_login FROM auth_user"),
            "2023-11-14 22:13:20");
  EXPECT_THAT((*store->FindById(ada->id))->last_login,
              Optional(absl::FromUnixSeconds(1'700'000'000)));
}

TEST(SqliteUserStore, DateJoinedIsStoredInDjangoFormat) {
  TempDir dir;
  auto store = MustOpen(dir.File("users.sqlite3"));
  absl::StatusOr<User> ada = store->CreateUser(Ada());
  ASSERT_THAT(ada, IsOk());
  RawDb raw(dir.File("users.sqlite3"));
  const std::string text = raw.Text("SELECT date_joined FROM auth_user");
  EXPECT_EQ(text, absl::FormatTime(
                      absl::ToUnixMicros(ada->date_joined) % 1'000'000 == 0
                          ? "%Y-%m-%d %H:%M:%S"
                          : "%Y-%m-%d %H:%M:%E6S",
                      ada->date_joined, absl::UTCTimeZone()));
}

TEST(SqliteUserStore, DatetimesWrittenByOthersAreReadTolerantly) {
  TempDir dir;
  auto store = MustOpen(dir.File("users.sqlite3"));
  {
    RawDb raw(dir.File("users.sqlite3"));
    auto row = [&](absl::string_view name, absl::string_view last_login,
                   absl::string_view joined) {
      raw.Exec(absl::StrCat(
          "INSERT INTO auth_user (password, last_login, is_superuser, "
          "username, first_name, "
          "last_name, email, is_staff, is_active, date_joined) VALUES ('', ",
          last_login, ", 0, '", name, "', '', '', '', 0, 1, ", joined, ")"));
    };
    row("whole", "'2020-01-02 03:04:05'", "'2019-12-31 23:59:59.000001'");
    row("short", "'2020-01-02 03:04:05.5'", "'2019-12-31 23:59:59'");
    row("iso", "'2020-01-02T03:04:05.25+00:00'", "'2019-12-31T23:59:59Z'");
    row("junk", "'yesterday'", "'not a date'");
    // Outside the canonical form's fast path: the general parser decides.
    row("feb30", "'2020-02-30 03:04:05'", "'2019-12-31 23:59:59.1234567'");
    row("leap", "'2020-01-02 03:04:60'", "'2019-12-31 23:59:59.'");
  }
  const absl::Time t = absl::FromCivil(absl::CivilSecond(2020, 1, 2, 3, 4, 5),
                                       absl::UTCTimeZone());
  const absl::Time joined = absl::FromCivil(
      absl::CivilSecond(2019, 12, 31, 23, 59, 59), absl::UTCTimeZone());
  auto get = [&](const char* name) { return **store->FindByUsername(name); };
  EXPECT_THAT(get("whole").last_login, Optional(t));
  EXPECT_EQ(get("whole").date_joined, joined + absl::Microseconds(1));
  EXPECT_THAT(get("short").last_login, Optional(t + absl::Milliseconds(500)));
  EXPECT_EQ(get("short").date_joined, joined);
  EXPECT_THAT(get("iso").last_login, Optional(t + absl::Milliseconds(250)));
  EXPECT_EQ(get("iso").date_joined, joined);
  // Unreadable values do not make the user unreadable.
  EXPECT_EQ(get("junk").last_login, std::nullopt);
  EXPECT_EQ(get("junk").date_joined, absl::UnixEpoch());
  // What absl::ParseTime makes of them, whichever path read them.
  auto slow = [](absl::string_view text) -> std::optional<absl::Time> {
    absl::Time v;
    std::string err;
    if (absl::ParseTime("%Y-%m-%d %H:%M:%E*S", text, absl::UTCTimeZone(), &v,
                        &err))
      return v;
    return std::nullopt;
  };
  EXPECT_EQ(get("feb30").last_login, slow("2020-02-30 03:04:05"));
  EXPECT_EQ(get("feb30").date_joined,
            slow("2019-12-31 23:59:59.1234567").value_or(absl::UnixEpoch()));
  EXPECT_EQ(get("leap").last_login, slow("2020-01-02 03:04:60"));
  EXPECT_EQ(get("leap").date_joined,
            slow("2019-12-31 23:59:59.").value_or(absl::UnixEpoch()));
}

TEST(SqliteUserStore, DeleteUserRemovesUser) {
  TempDir dir;
  auto store = MustOpen(dir.File("users.sqlite3"));
  absl::StatusOr<User> ada = store->CreateUser(Ada());
  ASSERT_THAT(ada, IsOk());
  ASSERT_THAT(store->DeleteUser(ada->id), IsOk());
  EXPECT_THAT(store->FindById(ada->id), IsOkWithoutValue());
  EXPECT_THAT(store->FindByUsername("ada"), IsOkWithoutValue());
  // The name is free again.
  EXPECT_THAT(store->CreateUser(Ada()), IsOk());
}

TEST(SqliteUserStore, MutationsOfMissingUserAreNotFound) {
  TempDir dir;
  auto store = MustOpen(dir.File("users.sqlite3"));
  EXPECT_THAT(store->SetPasswordHash(99, "x"),
              HasCode(absl::StatusCode::kNotFound));
  EXPECT_THAT(store->SetActive(99, false),
              HasCode(absl::StatusCode::kNotFound));
  EXPECT_THAT(store->DeleteUser(99), HasCode(absl::StatusCode::kNotFound));
  EXPECT_THAT(store->RecordLogin(99, absl::Now()),
              HasCode(absl::StatusCode::kNotFound));
}

TEST(SqliteUserStore, DuplicateUsernameIsAlreadyExists) {
  TempDir dir;
  auto store = MustOpen(dir.File("users.sqlite3"));
  ASSERT_THAT(store->CreateUser(Ada()), IsOk());
  NewUser again = Ada();
  again.email = "other@example.com";
  absl::StatusOr<User> dup = store->CreateUser(again);
  EXPECT_THAT(dup, HasCode(absl::StatusCode::kAlreadyExists));
  EXPECT_THAT(dup.status().message(), Not(HasSubstr("ada")));
  // The store is still usable, and the first user untouched.
  EXPECT_EQ((*store->FindByUsername("ada"))->email, "ada@example.com");
  EXPECT_THAT(store->CreateUser(Named("bob")), IsOk());
}

TEST(SqliteUserStore, InvalidUsernamesAreInvalidArgument) {
  TempDir dir;
  auto store = MustOpen(dir.File("users.sqlite3"));
  const std::vector<std::string> invalid = {
      "",
      std::string(kMaxUsernameLength + 1, 'a'),
      std::string("nul\0inside", 10),
      "bad\xFFutf8",
      "\xC0\xAF",      // overlong '/'
      "\xED\xA0\x80",  // a surrogate
      "truncated\xE2\x82",
  };
  for (const std::string& name : invalid) {
    EXPECT_THAT(store->CreateUser(Named(name)),
                HasCode(absl::StatusCode::kInvalidArgument))
        << name.size();
  }
  EXPECT_TRUE(store->ListUsers()->empty());
}

TEST(SqliteUserStore, UsernameLimitCountsCharactersNotBytes) {
  TempDir dir;
  auto store = MustOpen(dir.File("users.sqlite3"));
  std::string longest;
  for (size_t i = 0; i < kMaxUsernameLength; ++i)
    longest += "\xC3\xA9";  // é: 2 bytes
  EXPECT_THAT(store->CreateUser(Named(longest)), IsOk());
  EXPECT_THAT(store->CreateUser(Named(longest + "e")),
              HasCode(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(store->CreateUser(Named(std::string(kMaxUsernameLength, 'a'))),
              IsOk());
}

// ---------------------------------------------------------- migrations

TEST(SqliteUserStore, NewDatabaseIsAtTheLatestSchemaVersionInWalMode) {
  TempDir dir;
  auto store = MustOpen(dir.File("users.sqlite3"));
  EXPECT_THAT(store->SchemaVersion(), IsOkAndHolds(5));
  RawDb raw(dir.File("users.sqlite3"));
  EXPECT_EQ(raw.Text("PRAGMA journal_mode"), "wal");
  // RevokeToken's per-user count reads index ranges, not the whole table
  // or all of the user's rows.
  EXPECT_THAT(
      raw.Column("EXPLAIN QUERY PLAN SELECT count(*) FROM (SELECT 1 "
                 "FROM jwtauth_revoked WHERE user_id = 1 AND "
                 "watch_until >= 5 AND jti <> 'x' UNION ALL SELECT 1 "
                 "FROM jwtauth_revoked WHERE user_id = 1 AND "
                 "watch_until IS NULL AND jti <> 'x' LIMIT 100)",
                 3),
      AllOf(HasSubstr("USING INDEX jwtauth_revoked_user_watch (user_id=? "
                      "AND watch_until>?)"),
            HasSubstr("USING INDEX jwtauth_revoked_user_watch (user_id=? "
                      "AND watch_until=?)")));
  EXPECT_THAT(
      raw.Text("SELECT sql FROM sqlite_master WHERE name = 'auth_user'"),
      HasSubstr("\"username\" varchar(150) NOT NULL UNIQUE"));
}

TEST(SqliteUserStore,
     Version2StoreUpgrades_KeepsGenerationsAndRevokesOnDelete) {
  TempDir dir;
  const std::string path = dir.File("users.sqlite3");
  const absl::Time kNow = absl::FromUnixSeconds(1'800'000'000);
  const absl::Time kUntil = kNow + absl::Hours(1);
  int64_t ada_id = 0;
  int64_t bob_id = 0;
  {
    auto store = MustOpen(path);
    ada_id = store->CreateUser(Ada())->id;
    ASSERT_THAT(store->BumpTokenGeneration(ada_id), IsOk());
    NewUser bob = Ada();
    bob.username = "bob";
    bob_id = store->CreateUser(bob)->id;
    ASSERT_THAT(
        store->RevokeToken("bob-old", bob_id, kUntil, kUntil, kNow, 100),
        IsOk());
  }
  {
    // Back to version 2's shape: the foreign key, no delete trigger.
    RawDb raw(path);
    raw.Exec(
        "DROP TRIGGER jwtauth_revoke_on_user_delete;"
        "DROP TRIGGER jwtauth_revoke_on_user_change;"
        "CREATE TABLE v2 (user_id INTEGER NOT NULL PRIMARY KEY "
        "REFERENCES auth_user (id) ON DELETE CASCADE, "
        "token_generation INTEGER NOT NULL, seq INTEGER NOT NULL);"
        "INSERT INTO v2 SELECT * FROM jwtauth_user_state;"
        "DROP TABLE jwtauth_user_state;"
        "ALTER TABLE v2 RENAME TO jwtauth_user_state;"
        "DROP INDEX jwtauth_revoked_user_watch;"
        "ALTER TABLE jwtauth_revoked DROP COLUMN watch_until;"
        "DELETE FROM jwtauth_schema_migrations WHERE version >= 3;");
  }
  auto store = MustOpen(path);
  EXPECT_THAT(store->SchemaVersion(), IsOkAndHolds(5));
  EXPECT_EQ(RawDb(path).Text("SELECT count(*) FROM sqlite_master WHERE name = "
                             "'jwtauth_revoked_user_watch'"),
            "1");
  EXPECT_EQ(store->FindById(ada_id)->value().token_generation, 1);
  ASSERT_THAT(store->DeleteUser(ada_id), IsOk());
  absl::StatusOr<Revocations> all = store->RevocationsSince(0, kNow);
  ASSERT_THAT(all, IsOk());
  ASSERT_EQ(all->users.size(), 1u);
  EXPECT_EQ(all->users[0].user_id, ada_id);
  EXPECT_EQ(all->users[0].generation, 2);
  // bob's row from before version 5 (no watch_until) is listed until its
  // expires_at, revoking it again keeps that, and it counts for the cap.
  ASSERT_EQ(all->tokens.size(), 1u);
  EXPECT_EQ(all->tokens[0].jti, "bob-old");
  EXPECT_EQ(all->tokens[0].expires_at, kUntil);
  ASSERT_THAT(store->RevokeToken("bob-old", bob_id, kUntil,
                                 kNow + absl::Minutes(1), kNow, 100),
              IsOk());
  all = store->RevocationsSince(0, kNow);
  ASSERT_THAT(all, IsOk());
  ASSERT_EQ(all->tokens.size(), 1u);
  EXPECT_EQ(all->tokens[0].expires_at, kUntil);
  absl::StatusOr<TokenRevocation> over =
      store->RevokeToken("bob-2", bob_id, kUntil, kUntil, kNow, 1);
  ASSERT_THAT(over, IsOk());
  EXPECT_TRUE(over->all_sessions);
}

TEST(SqliteUserStore, MigrationsRunOnceAcrossOpens) {
  TempDir dir;
  const std::string path = dir.File("users.sqlite3");
  {
    auto store = MustOpen(path);
    ASSERT_THAT(store->CreateUser(Ada()), IsOk());
  }
  RawDb raw(path);
  const std::string applied_at = raw.Text(
      "SELECT applied_at FROM jwtauth_schema_migrations WHERE version = 1");
  for (int i = 0; i < 3; ++i) {
    auto store = MustOpen(path);
    EXPECT_THAT(store->SchemaVersion(), IsOkAndHolds(5));
    EXPECT_EQ(store->ListUsers()->size(), 1u);
  }
  EXPECT_EQ(raw.Text("SELECT count(*) FROM jwtauth_schema_migrations"), "5");
  EXPECT_EQ(
      raw.Text(
          "SELECT applied_at FROM jwtauth_schema_migrations WHERE version = 1"),
      applied_at);
}

TEST(SqliteUserStore,
     OpenWithoutCreateOnMissingFileIsUnavailableAndCreatesNothing) {
  TempDir dir;
  const std::string path = dir.File("absent.sqlite3");
  absl::StatusOr<std::unique_ptr<SqliteUserStore>> store =
      SqliteUserStore::Open(path, NoCreate());
  EXPECT_THAT(store, HasCode(absl::StatusCode::kUnavailable));
  EXPECT_THAT(store.status().message(), HasSubstr(path));
  EXPECT_THAT(store.status().message(), HasSubstr("missing"));
  EXPECT_FALSE(fs::exists(path));
}

TEST(SqliteUserStore,
     OpenWithoutCreateOnForeignDatabaseIsFailedPreconditionAndWritesNothing) {
  TempDir dir;
  const std::string path = dir.File("other.sqlite3");
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, "CREATE TABLE notes (body TEXT)", nullptr,
                           nullptr, nullptr),
              SQLITE_OK);
    sqlite3_close(db);
  }
  EXPECT_THAT(SqliteUserStore::Open(path, NoCreate()),
              HasCode(absl::StatusCode::kFailedPrecondition));
  RawDb raw(path);
  EXPECT_EQ(raw.Text("SELECT count(*) FROM sqlite_master"), "1");
}

TEST(SqliteUserStore, OpenWithoutCreateOnExistingStoreWorks) {
  TempDir dir;
  const std::string path = dir.File("users.sqlite3");
  ASSERT_THAT(MustOpen(path)->CreateUser(Ada()), IsOk());
  auto store = MustOpen(path, NoCreate());
  ASSERT_NE(store, nullptr);
  EXPECT_THAT(store->SchemaVersion(), IsOkAndHolds(5));
  EXPECT_TRUE(store->FindByUsername("ada")->has_value());
}

TEST(SqliteUserStore, OpenInMissingFolderIsUnavailable) {
  TempDir dir;
  EXPECT_THAT(SqliteUserStore::Open(dir.File("no/such/folder/users.sqlite3")),
              HasCode(absl::StatusCode::kUnavailable));
}

TEST(SqliteUserStore, OpenOfNonDatabaseFileIsUnavailable) {
  TempDir dir;
  const std::string path = dir.File("garbage.sqlite3");
  std::ofstream(path) << std::string(4096, 'x');
  absl::StatusOr<std::unique_ptr<SqliteUserStore>> store =
      SqliteUserStore::Open(path);
  EXPECT_THAT(store, HasCode(absl::StatusCode::kUnavailable));
  EXPECT_THAT(store.status().message(), HasSubstr(path));
}

// --------------------------------------------------------- concurrency

TEST(SqliteUserStore,
     ConcurrentCreatesAndLookupsFromEightThreadsAreConsistent) {
  TempDir dir;
  auto store = MustOpen(dir.File("users.sqlite3"));
  constexpr int kThreads = 8;
  constexpr int kPerThread = 25;
  std::vector<std::thread> threads;
  std::vector<std::vector<int64_t>> ids(kThreads);
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        const std::string name = absl::StrCat("t", t, "u", i);
        absl::StatusOr<User> created = store->CreateUser(Named(name));
        if (!created.ok()) {
          ADD_FAILURE() << created.status();
          ++failures;
          continue;
        }
        ids[static_cast<size_t>(t)].push_back(created->id);
        auto by_name = store->FindByUsername(name);
        auto by_id = store->FindById(created->id);
        if (!by_name.ok() || !by_name->has_value() ||
            (*by_name)->id != created->id || !by_id.ok() ||
            !by_id->has_value() || (*by_id)->username != name) {
          ++failures;
        }
        // Another thread's user, possibly not created yet: OK either way.
        auto other = store->FindByUsername(
            absl::StrCat("t", (t + 1) % kThreads, "u", i));
        if (!other.ok()) ++failures;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  absl::StatusOr<std::vector<User>> users = store->ListUsers();
  ASSERT_THAT(users, IsOk());
  EXPECT_EQ(users->size(), static_cast<size_t>(kThreads * kPerThread));
  std::set<int64_t> unique;
  for (const auto& v : ids) unique.insert(v.begin(), v.end());
  EXPECT_EQ(unique.size(), static_cast<size_t>(kThreads * kPerThread));
}

TEST(SqliteUserStore, ConcurrentDuplicateCreatesLetExactlyOneWin) {
  TempDir dir;
  auto store = MustOpen(dir.File("users.sqlite3"));
  std::atomic<int> ok{0}, exists{0}, other{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      absl::StatusOr<User> r = store->CreateUser(Ada());
      if (r.ok()) {
        ++ok;
      } else if (r.status().code() == absl::StatusCode::kAlreadyExists) {
        ++exists;
      } else {
        ++other;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(ok.load(), 1);
  EXPECT_EQ(exists.load(), 7);
  EXPECT_EQ(other.load(), 0);
}

// ------------------------------------------------------------ recovery

TEST(SqliteUserStore, LockedDatabaseIsUnavailableForWritesThenRecovers) {
  TempDir dir;
  const std::string path = dir.File("users.sqlite3");
  auto store = MustOpen(path, ShortBusyTimeout());
  ASSERT_THAT(store->CreateUser(Ada()), IsOk());
  RawDb locker(path);
  locker.Exec("BEGIN EXCLUSIVE");
  NewUser bob = Named("bob");
  bob.password_hash =
      "pbkdf2_sha256$1$secret-looking-salt$secret-looking-hash=";
  absl::StatusOr<User> blocked = store->CreateUser(bob);
  EXPECT_THAT(blocked, HasCode(absl::StatusCode::kUnavailable));
  EXPECT_THAT(blocked.status().message(), HasSubstr(path));
  EXPECT_THAT(blocked.status().message(), HasSubstr("locked"));
  EXPECT_THAT(blocked.status().message(), Not(HasSubstr("bob")));
  EXPECT_THAT(blocked.status().message(), Not(HasSubstr("secret")));
  EXPECT_THAT(store->SetActive(1, false),
              HasCode(absl::StatusCode::kUnavailable));
  // WAL readers are not blocked by a writer.
  EXPECT_TRUE(store->FindByUsername("ada")->has_value());
  locker.Exec("COMMIT");
  EXPECT_THAT(store->CreateUser(bob), IsOk());
  EXPECT_THAT(store->SetActive(1, false), IsOk());
}

// SetImmutable sets or clears the file's immutable attribute (chattr +i):
// the one way to make a file read-only for root, who ignores mode bits.
// False when the filesystem does not support it.
bool SetImmutable(const std::string& path, bool on) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  int flags = 0;
  bool ok = ::ioctl(fd, FS_IOC_GETFLAGS, &flags) == 0;
  if (ok) {
    flags = on ? (flags | FS_IMMUTABLE_FL) : (flags & ~FS_IMMUTABLE_FL);
    ok = ::ioctl(fd, FS_IOC_SETFLAGS, &flags) == 0;
  }
  ::close(fd);
  return ok;
}

TEST(SqliteUserStore, ReadOnlyDatabaseIsUnavailableForWritesThenRecovers) {
  TempDir dir;
  const std::string path = dir.File("users.sqlite3");
  auto store = MustOpen(path, ShortBusyTimeout());
  ASSERT_THAT(store->CreateUser(Ada()), IsOk());
  // The database and its WAL (where a WAL-mode write lands first).
  const std::vector<std::string> files = {path, path + "-wal"};
  if (!SetImmutable(path, true)) {
    GTEST_SKIP() << "this filesystem has no immutable attribute (chattr +i)";
  }
  ASSERT_TRUE(SetImmutable(path + "-wal", true));
  absl::StatusOr<User> refused = store->CreateUser(Named("bob"));
  bool cleared = true;
  for (const std::string& f : files)
    cleared = SetImmutable(f, false) && cleared;
  ASSERT_TRUE(cleared);
  EXPECT_THAT(refused, HasCode(absl::StatusCode::kUnavailable));
  EXPECT_THAT(refused.status().message(), HasSubstr(path));
  std::printf("read-only store: %s\n",
              std::string(refused.status().message()).c_str());
  // Once writable again, without reopening the store.
  EXPECT_THAT(store->CreateUser(Named("bob")), IsOk());
  EXPECT_TRUE(store->FindByUsername("bob")->has_value());
}

TEST(SqliteUserStore, DeletedDatabaseIsUnavailableAndNotRecreated) {
  TempDir dir;
  const std::string path = dir.File("users.sqlite3");
  auto store = MustOpen(path, EveryCall());
  ASSERT_THAT(store->CreateUser(Ada()), IsOk());
  RemoveFiles(path);
  absl::StatusOr<std::optional<User>> found = store->FindByUsername("ada");
  EXPECT_THAT(found, HasCode(absl::StatusCode::kUnavailable));
  EXPECT_THAT(found.status().message(), HasSubstr(path));
  EXPECT_THAT(found.status().message(), HasSubstr("missing"));
  EXPECT_THAT(store->CreateUser(Named("bob")),
              HasCode(absl::StatusCode::kUnavailable));
  EXPECT_THAT(store->ListUsers(), HasCode(absl::StatusCode::kUnavailable));
  EXPECT_THAT(store->SchemaVersion(), HasCode(absl::StatusCode::kUnavailable));
  EXPECT_FALSE(fs::exists(path));
}

TEST(SqliteUserStore, DatabaseRestoredFromBackupWorksWithoutReopening) {
  TempDir dir;
  const std::string path = dir.File("users.sqlite3");
  const std::string backup = dir.File("backup.sqlite3");
  auto store = MustOpen(path, EveryCall());
  ASSERT_THAT(store->CreateUser(Ada()), IsOk());
  {
    RawDb raw(path);
    raw.Exec(absl::StrCat("VACUUM INTO '", backup, "'"));
  }
  ASSERT_THAT(store->CreateUser(Named("after-backup")), IsOk());
  RemoveFiles(path);
  EXPECT_THAT(store->FindByUsername("ada"),
              HasCode(absl::StatusCode::kUnavailable));
  fs::copy_file(backup, path);
  absl::StatusOr<std::optional<User>> found = store->FindByUsername("ada");
  ASSERT_THAT(found, IsOk());
  EXPECT_TRUE(found->has_value());
  EXPECT_THAT(store->FindByUsername("after-backup"), IsOkWithoutValue());
  EXPECT_THAT(store->CreateUser(Named("bob")), IsOk());
  EXPECT_EQ(store->ListUsers()->size(), 2u);
  // And the restored file is the one that has bob.
  RawDb raw(path);
  EXPECT_EQ(raw.Text("SELECT count(*) FROM auth_user WHERE username = 'bob'"),
            "1");
}

TEST(SqliteUserStore, DatabaseMovedAwayAndBackKeepsEveryCommittedWrite) {
  TempDir dir;
  const std::string path = dir.File("users.sqlite3");
  const std::string aside = dir.File("aside.sqlite3");
  auto store = MustOpen(path, EveryCall());
  for (const char* name : {"ada", "bob", "carol"}) {
    ASSERT_THAT(store->CreateUser(Named(name)), IsOk());
  }
  MoveFiles(path, aside);
  EXPECT_THAT(store->FindByUsername("ada"),
              HasCode(absl::StatusCode::kUnavailable));
  EXPECT_THAT(store->CreateUser(Named("dave")),
              HasCode(absl::StatusCode::kUnavailable));
  MoveFiles(aside, path);
  absl::StatusOr<std::vector<User>> users = store->ListUsers();
  ASSERT_THAT(users, IsOk());
  EXPECT_EQ(users->size(), 3u);
  EXPECT_THAT(store->CreateUser(Named("dave")), IsOk());
}

TEST(SqliteUserStore, UnreadableDatabaseIsUnavailableThenRecovers) {
  TempDir dir;
  const std::string path = dir.File("users.sqlite3");
  const std::string aside = dir.File("aside.sqlite3");
  auto store = MustOpen(path, EveryCall());
  ASSERT_THAT(store->CreateUser(Ada()), IsOk());
  MoveFiles(path, aside);
  std::ofstream(path) << std::string(8192, '\x5a');  // not a database
  absl::StatusOr<std::optional<User>> found = store->FindByUsername("ada");
  EXPECT_THAT(found, HasCode(absl::StatusCode::kUnavailable));
  EXPECT_THAT(found.status().message(), HasSubstr(path));
  EXPECT_THAT(store->CreateUser(Named("bob")),
              HasCode(absl::StatusCode::kUnavailable));
  fs::remove(path);
  MoveFiles(aside, path);
  found = store->FindByUsername("ada");
  ASSERT_THAT(found, IsOk());
  EXPECT_TRUE(found->has_value());
}

TEST(SqliteUserStore, ReplacedDatabaseIsUsedAndItsWalIsLeftAlone) {
  TempDir dir;
  const std::string path = dir.File("users.sqlite3");
  auto store = MustOpen(path, EveryCall());
  ASSERT_THAT(store->CreateUser(Ada()),
              IsOk());  // a pooled connection to the old file
  {
    auto other = MustOpen(dir.File("new.sqlite3"));
    ASSERT_THAT(other->CreateUser(Named("zed")), IsOk());
  }
  // Swap the files under the running store, then let another connection
  // commit to the new file: that commit lives only in "<path>-wal" for now.
  MoveFiles(path, dir.File("old.sqlite3"));
  MoveFiles(dir.File("new.sqlite3"), path);
  RawDb writer(path);
  writer.Exec("PRAGMA journal_mode=WAL");
  writer.Exec(
      "INSERT INTO auth_user (password, is_superuser, username, first_name, "
      "last_name, email, "
      "is_staff, is_active, date_joined) VALUES ('', 0, 'yan', '', '', '', 0, "
      "1, "
      "'2024-01-01 00:00:00')");
  // Retiring the stale connection must not delete the new file's WAL.
  absl::StatusOr<std::optional<User>> yan = store->FindByUsername("yan");
  ASSERT_THAT(yan, IsOk());
  EXPECT_TRUE(yan->has_value());
  EXPECT_TRUE(store->FindByUsername("zed")->has_value());
  EXPECT_THAT(store->FindByUsername("ada"), IsOkWithoutValue());
  EXPECT_TRUE(fs::exists(path + "-wal"));
}

TEST(SqliteUserStore, ReadsSeeAMovedFileAfterTheCheckIntervalWritesAtOnce) {
  TempDir dir;
  const std::string path = dir.File("users.sqlite3");
  const std::string aside = dir.File("aside.sqlite3");
  ::jwtauth::testing::FakeClock clock(absl::FromUnixSeconds(1700000000));
  SqliteOptions options;
  options.file_check_interval = absl::Milliseconds(10);
  options.clock = clock.AsClock();
  auto store = MustOpen(path, options);
  ASSERT_THAT(store->CreateUser(Ada()), IsOk());
  ASSERT_TRUE(store->FindByUsername("ada")->has_value());
  MoveFiles(path, aside);
  // Within the interval a read may still use the file it last saw...
  clock.Advance(absl::Milliseconds(9));
  absl::StatusOr<std::optional<User>> found = store->FindByUsername("ada");
  ASSERT_THAT(found, IsOk());
  EXPECT_TRUE(found->has_value());
  // ...a write never: it looks first, and nothing lands in the moved file.
  EXPECT_THAT(store->CreateUser(Named("bob")),
              HasCode(absl::StatusCode::kUnavailable));
  EXPECT_THAT(store->FindByUsername("ada"),
              HasCode(absl::StatusCode::kUnavailable));  // the write's look
  MoveFiles(aside, path);
  // The missing file is remembered for one interval, then looked at again.
  EXPECT_THAT(store->FindByUsername("ada"),
              HasCode(absl::StatusCode::kUnavailable));
  clock.Advance(absl::Milliseconds(10));
  found = store->FindByUsername("ada");
  ASSERT_THAT(found, IsOk());
  EXPECT_TRUE(found->has_value());
  EXPECT_THAT(store->FindByUsername("bob"), IsOkWithoutValue());
  // A clock that goes back never extends a check.
  MoveFiles(path, aside);
  clock.Advance(absl::Seconds(-1));
  EXPECT_THAT(store->FindByUsername("ada"),
              HasCode(absl::StatusCode::kUnavailable));
}

TEST(SqliteUserStore, StoreWithMissingFileCanBeDestroyed) {
  TempDir dir;
  const std::string path = dir.File("users.sqlite3");
  auto store = MustOpen(path);
  ASSERT_THAT(store->CreateUser(Ada()), IsOk());
  RemoveFiles(path);
  store.reset();
  EXPECT_FALSE(fs::exists(path));
}

// -------------------------------------------------- Django compatibility

constexpr char kAlicePassword[] = "wonderland";  // as in django_db.py
constexpr char kBobPassword[] = "jabberwocky";   // as in django_db.py

// RunDjango runs tests/server/django_db.py `mode` on `path` and returns its
// JSON answer.
jwt::Json RunDjango(absl::string_view mode, const std::string& path) {
  const std::string cmd =
      absl::StrCat(JWTAUTH_PYTHON3, " ", JWTAUTH_TESTS_DIR,
                   "/server/django_db.py ", mode, " '", path, "'");
  FILE* pipe = ::popen(cmd.c_str(), "r");
  std::string out;
  char buf[4096];
  size_t n;
  while (pipe != nullptr && (n = std::fread(buf, 1, sizeof buf, pipe)) > 0)
    out.append(buf, n);
  const int rc = pipe == nullptr ? -1 : ::pclose(pipe);
  EXPECT_EQ(rc, 0) << cmd << "\n" << out;
  absl::StatusOr<jwt::Json> answer = jwt::ParseJson(out);
  EXPECT_THAT(answer, IsOk()) << out;
  return answer.ok() ? *answer : jwt::Json::Object();
}

int64_t IntAt(const jwt::Json& json, absl::string_view user,
              absl::string_view field) {
  const jwt::Json* u = json.Find(user);
  const jwt::Json* f = u != nullptr ? u->Find(field) : nullptr;
  EXPECT_TRUE(f != nullptr && f->int_value().has_value())
      << user << "." << field;
  return f != nullptr ? f->int_value().value_or(-1) : -1;
}

std::string StringAt(const jwt::Json& json, absl::string_view user,
                     absl::string_view field) {
  const jwt::Json* u = json.Find(user);
  const jwt::Json* f = u != nullptr ? u->Find(field) : nullptr;
  EXPECT_TRUE(f != nullptr && f->is_string()) << user << "." << field;
  return f != nullptr ? f->string_value() : "";
}

bool BoolAt(const jwt::Json& json, absl::string_view field) {
  const jwt::Json* f = json.Find(field);
  EXPECT_TRUE(f != nullptr && f->is_bool()) << field;
  return f != nullptr && f->bool_value();
}

TEST(SqliteUserStore, DjangoMadeDatabaseIsReadAndStaysUsableByDjango) {
  TempDir dir;
  const std::string path = dir.File("django.sqlite3");
  const jwt::Json made = RunDjango("create", path);
  ASSERT_NE(made.Find("alice"), nullptr);

  auto store = MustOpen(path);  // create = true: jwtauth's migration runs here
  ASSERT_NE(store, nullptr);
  EXPECT_THAT(store->SchemaVersion(), IsOkAndHolds(5));
  absl::StatusOr<std::vector<User>> users = store->ListUsers();
  ASSERT_THAT(users, IsOk());
  EXPECT_EQ(users->size(), 2u);

  // alice, as Django wrote her.
  absl::StatusOr<std::optional<User>> alice = store->FindByUsername("alice");
  ASSERT_THAT(alice, IsOk());
  ASSERT_TRUE(alice->has_value());
  EXPECT_EQ((*alice)->id, IntAt(made, "alice", "id"));
  EXPECT_EQ((*alice)->email, "alice@example.com");
  EXPECT_TRUE((*alice)->is_active);
  EXPECT_FALSE((*alice)->is_staff);
  EXPECT_FALSE((*alice)->is_superuser);
  EXPECT_EQ(absl::ToUnixMicros((*alice)->date_joined),
            IntAt(made, "alice", "date_joined_us"));
  EXPECT_EQ((*alice)->last_login, std::nullopt);
  EXPECT_EQ((*alice)->password_hash, StringAt(made, "alice", "password"));
  EXPECT_THAT((*alice)->password_hash,
              ::testing::StartsWith("pbkdf2_sha256$260000$"));
  PasswordHasher hasher(260000);
  EXPECT_TRUE(hasher.Check(kAlicePassword, (*alice)->password_hash));
  EXPECT_FALSE(hasher.Check("Wonderland", (*alice)->password_hash));

  // carol is inactive and belongs to a Django group.
  absl::StatusOr<std::optional<User>> carol = store->FindByUsername("carol");
  ASSERT_THAT(carol, IsOk());
  ASSERT_TRUE(carol->has_value());
  EXPECT_FALSE((*carol)->is_active);
  // Django's auth_user_groups still points at her: deleting is refused, not
  // half-done.
  EXPECT_THAT(store->DeleteUser((*carol)->id),
              HasCode(absl::StatusCode::kFailedPrecondition));

  // Writes Django must understand: a login time and a user made by jwtauth.
  const absl::Time login = absl::FromUnixMicros(1'700'000'000'654'321);
  ASSERT_THAT(store->RecordLogin((*alice)->id, login), IsOk());
  NewUser bob_new = Named("bob");
  absl::StatusOr<std::string> bob_hash =
      PasswordHasher(1000).Hash(kBobPassword);
  ASSERT_THAT(bob_hash, IsOk());
  bob_new.password_hash = *bob_hash;
  absl::StatusOr<User> bob = store->CreateUser(bob_new);
  ASSERT_THAT(bob, IsOk());

  const jwt::Json checked = RunDjango("check", path);
  const jwt::Json* count = checked.Find("count");
  ASSERT_NE(count, nullptr);
  EXPECT_EQ(count->int_value(), 3);
  EXPECT_EQ(SerializeJson(*checked.Find("usernames")),
            R"(["alice","bob","carol"])");
  EXPECT_EQ(checked.Find("auth_user_sql")->string_value(),
            made.Find("auth_user_sql")->string_value());
  EXPECT_TRUE(BoolAt(checked, "alice_authenticates"));
  EXPECT_FALSE(BoolAt(checked, "carol_authenticates"));  // inactive
  EXPECT_TRUE(BoolAt(checked, "bob_authenticates"));
  EXPECT_EQ(IntAt(checked, "alice", "last_login_us"),
            absl::ToUnixMicros(login));
  EXPECT_EQ(IntAt(checked, "bob", "id"), bob->id);
  EXPECT_EQ(IntAt(checked, "bob", "date_joined_us"),
            absl::ToUnixMicros(bob->date_joined));
  EXPECT_EQ(StringAt(checked, "bob", "email"), "bob@example.com");
  // Django upgraded bob's 1000-iteration hash at login; jwtauth still reads it.
  absl::StatusOr<std::optional<User>> bob_after = store->FindByUsername("bob");
  ASSERT_THAT(bob_after, IsOk());
  ASSERT_TRUE(bob_after->has_value());
  EXPECT_THAT((*bob_after)->password_hash,
              ::testing::StartsWith("pbkdf2_sha256$260000$"));
  EXPECT_TRUE(hasher.Check(kBobPassword, (*bob_after)->password_hash));
  EXPECT_EQ(store->ListUsers()->size(), 3u);
}

}  // namespace
}  // namespace jwtauth::server
