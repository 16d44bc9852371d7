// The UserStore contract (server/user_store.h), one parameterised suite that
// every backend must pass: CRUD, the error contract, username rules, datetime
// round trips, unicode, concurrency and idempotent migrations.
//
// Instances:
//   Sqlite    a fresh SQLite file per test
//   Postgres  a fresh schema per test (search_path in the URL) in the
//             throw-away cluster of the ctest fixture "postgres"
//             (scripts/pg-test-cluster); the URL is read from the file named
//             by $JWTAUTH_TEST_PG_URL_FILE.
// Stores are opened through OpenUserStore (user_store_factory.h), as the
// programs open them.
#include <libpq-fe.h>
#include <sqlite3.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <ostream>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/postgres_user_store.h"
#include "server/sqlite_user_store.h"
#include "server/user_store.h"
#include "server/user_store_factory.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/test_util.h"

namespace jwtauth::server {
namespace {

using ::jwtauth::testing::IsOk;
using ::jwtauth::testing::TempDir;
using ::testing::AllOf;
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

// ------------------------------------------------------------- backends

// Database: one empty database of one backend, private to one test.
class Database {
 public:
  virtual ~Database() = default;
  // Ready is false (with a test failure) when the backend is not reachable.
  virtual bool Ready() const = 0;
  // Name is what OpenUserStore takes.
  virtual std::string Name() const = 0;
  // AddForeignTable makes the database non-empty without auth_user.
  virtual void AddForeignTable() = 0;
  // Sql runs statements behind the store's back; false (with a test
  // failure) when they fail.
  virtual bool Sql(const std::string& sql) = 0;
};

class SqliteDatabase : public Database {
 public:
  bool Ready() const override { return !dir_.path().empty(); }
  std::string Name() const override { return dir_.File("users.sqlite3"); }
  void AddForeignTable() override {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(Name().c_str(), &db), SQLITE_OK);
    EXPECT_EQ(sqlite3_exec(db, "CREATE TABLE notes (body TEXT)", nullptr,
                           nullptr, nullptr),
              SQLITE_OK);
    sqlite3_close(db);
  }
  bool Sql(const std::string& sql) override {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open(Name().c_str(), &db), SQLITE_OK);
    const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr);
    EXPECT_EQ(rc, SQLITE_OK) << sql << ": " << sqlite3_errmsg(db);
    sqlite3_close(db);
    return rc == SQLITE_OK;
  }

 private:
  TempDir dir_;
};

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// PostgresDatabase: a fresh schema in the fixture's cluster, dropped at the
// end; stores reach it through search_path in the URL.
class PostgresDatabase : public Database {
 public:
  PostgresDatabase() {
    const char* url_file = std::getenv("JWTAUTH_TEST_PG_URL_FILE");
    if (url_file == nullptr) {
      ADD_FAILURE()
          << "JWTAUTH_TEST_PG_URL_FILE is not set: run under ctest (fixture "
             "postgres, "
             "scripts/pg-test-cluster start DIR; then point it at DIR/url)";
      return;
    }
    base_url_ = std::string(absl::StripAsciiWhitespace(ReadAll(url_file)));
    if (base_url_.empty()) {
      ADD_FAILURE() << url_file
                    << " is empty or missing: did PostgresCluster.Start run?";
      return;
    }
    admin_ = PQconnectdb(base_url_.c_str());
    if (PQstatus(admin_) != CONNECTION_OK) {
      ADD_FAILURE() << "cannot connect to " << base_url_ << ": "
                    << PQerrorMessage(admin_);
      return;
    }
    PQsetNoticeProcessor(
        admin_, [](void*, const char*) {}, nullptr);
    schema_ = absl::StrCat("contract_", ::getpid(), "_", ++counter_);
    Exec(absl::StrCat("DROP SCHEMA IF EXISTS ", schema_, " CASCADE"));
    ready_ = Exec(absl::StrCat("CREATE SCHEMA ", schema_));
  }
  ~PostgresDatabase() override {
    if (ready_)
      Exec(absl::StrCat("DROP SCHEMA IF EXISTS ", schema_, " CASCADE"));
    PQfinish(admin_);
  }
  bool Ready() const override { return ready_; }
  std::string Name() const override {
    return absl::StrCat(base_url_, "?options=-c%20search_path%3D", schema_);
  }
  void AddForeignTable() override {
    ASSERT_TRUE(
        Exec(absl::StrCat("CREATE TABLE ", schema_, ".notes (body text)")));
  }
  bool Sql(const std::string& sql) override {
    return Exec(absl::StrCat("SET search_path = ", schema_, "; ", sql,
                             "; RESET search_path"));
  }

 private:
  bool Exec(const std::string& sql) {
    PGresult* r = PQexec(admin_, sql.c_str());
    const bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    EXPECT_TRUE(ok) << sql << ": " << PQerrorMessage(admin_);
    PQclear(r);
    return ok;
  }

  static int counter_;
  std::string base_url_;
  std::string schema_;
  PGconn* admin_ = nullptr;
  bool ready_ = false;
};
int PostgresDatabase::counter_ = 0;

struct Backend {
  const char* name;
  std::function<std::unique_ptr<Database>()> make;
};

void PrintTo(const Backend& backend, std::ostream* os) { *os << backend.name; }

std::string BackendName(const ::testing::TestParamInfo<Backend>& info) {
  return info.param.name;
}

class UserStoreContract : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    db_ = GetParam().make();
    ASSERT_TRUE(db_->Ready());
    store_ = Open();
    ASSERT_NE(store_, nullptr);
  }

  std::unique_ptr<UserStore> Open(bool create_or_migrate = true) {
    StoreOpenOptions options;
    options.create_or_migrate = create_or_migrate;
    absl::StatusOr<std::unique_ptr<UserStore>> store =
        OpenUserStore(db_->Name(), options);
    EXPECT_THAT(store, IsOk());
    return store.ok() ? *std::move(store) : nullptr;
  }

  static absl::StatusOr<int> SchemaVersion(UserStore& store) {
    if (auto* s = dynamic_cast<SqliteUserStore*>(&store))
      return s->SchemaVersion();
    if (auto* p = dynamic_cast<PostgresUserStore*>(&store))
      return p->SchemaVersion();
    return absl::UnimplementedError("unknown backend");
  }

  User MustCreate(const NewUser& user) {
    absl::StatusOr<User> created = store_->CreateUser(user);
    EXPECT_THAT(created, IsOk());
    return created.ok() ? *created : User();
  }

  User MustFind(absl::string_view username) {
    absl::StatusOr<std::optional<User>> found =
        store_->FindByUsername(username);
    EXPECT_THAT(found, IsOk());
    EXPECT_TRUE(found.ok() && found->has_value()) << username;
    return found.ok() && found->has_value() ? **found : User();
  }

  std::unique_ptr<Database> db_;
  std::unique_ptr<UserStore> store_;
};

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

// ---------------------------------------------------------------- CRUD

TEST_P(UserStoreContract, CreatedUserIsFoundByUsernameAndId) {
  const absl::Time before = absl::Now() - absl::Seconds(1);
  absl::StatusOr<User> created = store_->CreateUser(Ada());
  ASSERT_THAT(created, IsOk());
  EXPECT_GT(created->id, 0);
  EXPECT_EQ(created->username, "ada");
  EXPECT_GE(created->date_joined, before);
  EXPECT_LE(created->date_joined, absl::Now());
  EXPECT_EQ(created->last_login, std::nullopt);

  for (auto found :
       {store_->FindByUsername("ada"), store_->FindById(created->id)}) {
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

TEST_P(UserStoreContract, FlagsAreStoredAsGiven) {
  NewUser admin = Named("root");
  admin.is_active = false;
  admin.is_staff = true;
  admin.is_superuser = true;
  ASSERT_THAT(store_->CreateUser(admin), IsOk());
  NewUser plain = Named("plain");
  ASSERT_THAT(store_->CreateUser(plain), IsOk());
  const User root = MustFind("root");
  EXPECT_FALSE(root.is_active);
  EXPECT_TRUE(root.is_staff);
  EXPECT_TRUE(root.is_superuser);
  const User found = MustFind("plain");
  EXPECT_TRUE(found.is_active);
  EXPECT_FALSE(found.is_staff);
  EXPECT_FALSE(found.is_superuser);
}

TEST_P(UserStoreContract, EmptyEmailAndHashAreStoredAsGiven) {
  NewUser bare = Named("bare");
  bare.email = "";
  bare.password_hash = "";
  ASSERT_THAT(store_->CreateUser(bare), IsOk());
  const User found = MustFind("bare");
  EXPECT_EQ(found.email, "");
  EXPECT_EQ(found.password_hash, "");
}

TEST_P(UserStoreContract, AbsentUserIsOkWithoutValue) {
  EXPECT_THAT(store_->FindByUsername("nobody"), IsOkWithoutValue());
  EXPECT_THAT(store_->FindById(42), IsOkWithoutValue());
  EXPECT_THAT(store_->FindById(0), IsOkWithoutValue());
  EXPECT_THAT(store_->FindById(-1), IsOkWithoutValue());
  EXPECT_THAT(store_->FindById(INT64_MAX), IsOkWithoutValue());
  EXPECT_THAT(store_->FindByUsername(""), IsOkWithoutValue());
  // Names no user can have are simply not found.
  EXPECT_THAT(store_->FindByUsername(std::string("nul\0inside", 10)),
              IsOkWithoutValue());
  EXPECT_THAT(store_->FindByUsername("bad\xFFutf8"), IsOkWithoutValue());
  EXPECT_THAT(store_->FindByUsername(std::string(kMaxUsernameLength + 1, 'a')),
              IsOkWithoutValue());
}

TEST_P(UserStoreContract, UsernameLookupIsExactAndCaseSensitive) {
  ASSERT_THAT(store_->CreateUser(Named("Ada")), IsOk());
  EXPECT_THAT(store_->FindByUsername("ada"), IsOkWithoutValue());
  EXPECT_THAT(store_->FindByUsername("ADA"), IsOkWithoutValue());
  EXPECT_THAT(store_->FindByUsername("Ada "), IsOkWithoutValue());
  EXPECT_THAT(store_->FindByUsername(" Ada"), IsOkWithoutValue());
  EXPECT_THAT(store_->FindByUsername("Ad%"), IsOkWithoutValue());
  EXPECT_THAT(store_->FindByUsername("Ad_"), IsOkWithoutValue());
  EXPECT_EQ(MustFind("Ada").username, "Ada");
}

TEST_P(UserStoreContract, HostileUsernameIsStoredLiterally) {
  const std::vector<std::string> hostile = {"x'); DROP TABLE auth_user; --",
                                            "x\"; DELETE FROM auth_user; --",
                                            "$1",
                                            "\\x00",
                                            "%s%n",
                                            "' OR '1'='1"};
  for (const std::string& name : hostile) {
    ASSERT_THAT(store_->CreateUser(Named(name)), IsOk()) << name;
  }
  for (const std::string& name : hostile)
    EXPECT_EQ(MustFind(name).username, name);
  EXPECT_EQ(store_->ListUsers()->size(), hostile.size());
}

TEST_P(UserStoreContract, ListUsersReturnsEveryUserInIdOrder) {
  absl::StatusOr<std::vector<User>> empty = store_->ListUsers();
  ASSERT_THAT(empty, IsOk());
  EXPECT_TRUE(empty->empty());
  for (const char* name : {"carol", "ada", "bob"}) {
    ASSERT_THAT(store_->CreateUser(Named(name)), IsOk());
  }
  absl::StatusOr<std::vector<User>> users = store_->ListUsers();
  ASSERT_THAT(users, IsOk());
  std::vector<std::string> names;
  for (const User& u : *users) names.push_back(u.username);
  EXPECT_THAT(names, ElementsAre("carol", "ada", "bob"));
  EXPECT_LT((*users)[0].id, (*users)[1].id);
  EXPECT_LT((*users)[1].id, (*users)[2].id);
  EXPECT_EQ((*users)[1].email, "ada@example.com");
}

TEST_P(UserStoreContract, SetPasswordHashReplacesHash) {
  const User ada = MustCreate(Ada());
  const User bob = MustCreate(Named("bob"));
  ASSERT_THAT(store_->SetPasswordHash(ada.id, "pbkdf2_sha256$2$new$hash"),
              IsOk());
  EXPECT_EQ(MustFind("ada").password_hash, "pbkdf2_sha256$2$new$hash");
  EXPECT_EQ(MustFind("bob").password_hash, Ada().password_hash);  // only ada's
  (void)bob;
}

TEST_P(UserStoreContract, SetActiveTogglesActiveFlag) {
  const User ada = MustCreate(Ada());
  ASSERT_THAT(store_->SetActive(ada.id, false), IsOk());
  EXPECT_FALSE(MustFind("ada").is_active);
  // Setting the value it already has still finds the user.
  ASSERT_THAT(store_->SetActive(ada.id, false), IsOk());
  ASSERT_THAT(store_->SetActive(ada.id, true), IsOk());
  EXPECT_TRUE(MustFind("ada").is_active);
}

TEST_P(UserStoreContract, DeleteUserRemovesUser) {
  const User ada = MustCreate(Ada());
  const User bob = MustCreate(Named("bob"));
  ASSERT_THAT(store_->DeleteUser(ada.id), IsOk());
  EXPECT_THAT(store_->FindById(ada.id), IsOkWithoutValue());
  EXPECT_THAT(store_->FindByUsername("ada"), IsOkWithoutValue());
  EXPECT_EQ(MustFind("bob").id, bob.id);
  EXPECT_THAT(store_->DeleteUser(ada.id), HasCode(absl::StatusCode::kNotFound));
  // The name is free again, under a new id.
  const User again = MustCreate(Ada());
  EXPECT_NE(again.id, ada.id);
}

TEST_P(UserStoreContract, MutationsOfMissingUserAreNotFound) {
  const User ada = MustCreate(Ada());
  for (const int64_t id :
       {ada.id + 1000, int64_t{0}, int64_t{-1}, INT64_MAX, INT64_MIN}) {
    EXPECT_THAT(store_->SetPasswordHash(id, "x"),
                HasCode(absl::StatusCode::kNotFound))
        << id;
    EXPECT_THAT(store_->SetActive(id, false),
                HasCode(absl::StatusCode::kNotFound))
        << id;
    EXPECT_THAT(store_->DeleteUser(id), HasCode(absl::StatusCode::kNotFound))
        << id;
    EXPECT_THAT(store_->RecordLogin(id, absl::Now()),
                HasCode(absl::StatusCode::kNotFound))
        << id;
  }
  // Nothing happened to the user that exists.
  const User found = MustFind("ada");
  EXPECT_TRUE(found.is_active);
  EXPECT_EQ(found.password_hash, Ada().password_hash);
  EXPECT_EQ(found.last_login, std::nullopt);
}

// --------------------------------------------------------- revocation

// RevokeToken's per-user cap where a test does not exercise it.
constexpr size_t kCap = 100;

TEST_P(UserStoreContract, RevokedJtiIsReportedInTheSameReadAsTheUser) {
  const User ada = MustCreate(Ada());
  const absl::Time now = absl::FromUnixSeconds(1'800'000'000);
  ASSERT_THAT(store_->RevokeToken("jti-1", ada.id, now + absl::Minutes(5),
                                  now + absl::Minutes(5), now, kCap),
              IsOk());
  absl::StatusOr<std::optional<TokenSubject>> revoked =
      store_->FindForToken("ada", "jti-1");
  ASSERT_THAT(revoked, IsOk());
  ASSERT_TRUE(revoked->has_value());
  EXPECT_TRUE((*revoked)->jti_revoked);
  EXPECT_EQ((*revoked)->user.id, ada.id);
  EXPECT_EQ((*revoked)->user.email, "ada@example.com");
  for (absl::string_view other : {"jti-2", "", "JTI-1", "jti-1 "}) {
    absl::StatusOr<std::optional<TokenSubject>> fine =
        store_->FindForToken("ada", other);
    ASSERT_THAT(fine, IsOk());
    ASSERT_TRUE(fine->has_value());
    EXPECT_FALSE((*fine)->jti_revoked) << other;
  }
  absl::StatusOr<std::optional<TokenSubject>> nobody =
      store_->FindForToken("nobody", "jti-1");
  ASSERT_THAT(nobody, IsOk());
  EXPECT_FALSE(nobody->has_value());
  // Revoking again is fine and keeps the later expiry.
  EXPECT_THAT(store_->RevokeToken("jti-1", ada.id, now + absl::Minutes(1),
                                  now + absl::Minutes(1), now, kCap),
              IsOk());
  absl::StatusOr<Revocations> all = store_->RevocationsSince(0, now);
  ASSERT_THAT(all, IsOk());
  ASSERT_EQ(all->tokens.size(), 1u);
  EXPECT_EQ(all->tokens[0].expires_at, now + absl::Minutes(5));
}

TEST_P(UserStoreContract, BadJtisAreInvalidArgumentAndStoreNothing) {
  const User ada = MustCreate(Ada());
  const absl::Time now = absl::FromUnixSeconds(1'800'000'000);
  EXPECT_THAT(store_->RevokeToken("", ada.id, now, now, now, kCap),
              HasCode(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(
      store_->RevokeToken(std::string(256, 'j'), ada.id, now, now, now, kCap),
      HasCode(absl::StatusCode::kInvalidArgument));
  absl::StatusOr<Revocations> all = store_->RevocationsSince(0, now);
  ASSERT_THAT(all, IsOk());
  EXPECT_TRUE(all->tokens.empty());
}

TEST_P(UserStoreContract, RevokingPastTheCap_BumpsTheGenerationAndStoresNoJti) {
  const User ada = MustCreate(Ada());
  const User bob = MustCreate(Named("bob"));
  const absl::Time now = absl::FromUnixSeconds(1'800'000'000);
  const absl::Time until = now + absl::Minutes(15);
  for (const char* jti : {"a1", "a2", "a3"}) {
    absl::StatusOr<TokenRevocation> r =
        store_->RevokeToken(jti, ada.id, until, until, now, 3);
    ASSERT_THAT(r, IsOk()) << jti;
    EXPECT_FALSE(r->all_sessions) << jti;
  }
  absl::StatusOr<TokenRevocation> over =
      store_->RevokeToken("a4", ada.id, until, until, now, 3);
  ASSERT_THAT(over, IsOk());
  EXPECT_TRUE(over->all_sessions);
  EXPECT_EQ(over->generation, 1);
  EXPECT_EQ(MustFind("ada").token_generation, 1);
  // Each one past the cap bumps again.
  over = store_->RevokeToken("a5", ada.id, until, until, now, 3);
  ASSERT_THAT(over, IsOk());
  EXPECT_TRUE(over->all_sessions);
  EXPECT_EQ(over->generation, 2);
  // Revoking a jti already held is no new entry.
  absl::StatusOr<TokenRevocation> again = store_->RevokeToken(
      "a2", ada.id, until + absl::Minutes(1), until + absl::Minutes(1), now, 3);
  ASSERT_THAT(again, IsOk());
  EXPECT_FALSE(again->all_sessions);
  // The cap is per user.
  absl::StatusOr<TokenRevocation> other =
      store_->RevokeToken("b1", bob.id, until, until, now, 3);
  ASSERT_THAT(other, IsOk());
  EXPECT_FALSE(other->all_sessions);

  absl::StatusOr<Revocations> all = store_->RevocationsSince(0, now);
  ASSERT_THAT(all, IsOk());
  std::set<std::string> jtis;
  for (const Revocations::Token& t : all->tokens) jtis.insert(t.jti);
  EXPECT_EQ(jtis, (std::set<std::string>{"a1", "a2", "a3", "b1"}));
  ASSERT_EQ(all->users.size(), 1u);
  EXPECT_EQ(all->users[0].user_id, ada.id);
  EXPECT_EQ(all->users[0].generation, 2);
  absl::StatusOr<std::optional<TokenSubject>> a4 =
      store_->FindForToken("ada", "a4");
  ASSERT_THAT(a4, IsOk());
  ASSERT_TRUE(a4->has_value());
  EXPECT_FALSE((*a4)->jti_revoked);
  EXPECT_EQ(MustFind("bob").token_generation, 0);
}

// A token revoked inside a refresh window: the server refuses it to the end
// of the window, services validating locally need it only to exp + leeway.
TEST_P(UserStoreContract, WatchUntilBoundsWhatIsListedAndCounted_NotRefused) {
  const User ada = MustCreate(Ada());
  const absl::Time now = absl::FromUnixSeconds(1'800'000'000);
  const absl::Time window_end = now + absl::Hours(24 * 7);
  const absl::Time watch = now + absl::Minutes(15);
  ASSERT_THAT(store_->RevokeToken("a1", ada.id, window_end, watch, now, 1),
              IsOk());
  absl::StatusOr<Revocations> listed = store_->RevocationsSince(0, now);
  ASSERT_THAT(listed, IsOk());
  ASSERT_EQ(listed->tokens.size(), 1u);
  EXPECT_EQ(listed->tokens[0].expires_at, watch);
  // An hour later: no longer listed nor counted, still refused here.
  const absl::Time later = now + absl::Hours(1);
  absl::StatusOr<Revocations> after = store_->RevocationsSince(0, later);
  ASSERT_THAT(after, IsOk());
  EXPECT_TRUE(after->tokens.empty());
  absl::StatusOr<TokenRevocation> next = store_->RevokeToken(
      "a2", ada.id, window_end, later + absl::Minutes(15), later, 1);
  ASSERT_THAT(next, IsOk());
  EXPECT_FALSE(next->all_sessions);
  absl::StatusOr<std::optional<TokenSubject>> a1 =
      store_->FindForToken("ada", "a1");
  ASSERT_THAT(a1, IsOk());
  ASSERT_TRUE(a1->has_value());
  EXPECT_TRUE((*a1)->jti_revoked);
  // watch_until never outlives expires_at; revoking again keeps the later.
  ASSERT_THAT(store_->RevokeToken("a3", ada.id, later + absl::Minutes(1),
                                  later + absl::Hours(1), later, kCap),
              IsOk());
  ASSERT_THAT(store_->RevokeToken("a2", ada.id, window_end, later, later, kCap),
              IsOk());
  absl::StatusOr<Revocations> kept = store_->RevocationsSince(0, later);
  ASSERT_THAT(kept, IsOk());
  std::map<std::string, absl::Time> until;
  for (const Revocations::Token& t : kept->tokens) until[t.jti] = t.expires_at;
  EXPECT_EQ(until["a2"], later + absl::Minutes(15));
  EXPECT_EQ(until["a3"], later + absl::Minutes(1));
}

// Rows kept to the end of a refresh window but no longer listed are bounded
// too: at 10 times the cap, the user's generation is bumped instead.
TEST_P(UserStoreContract, RowsKeptPastTheirWatch_AreCappedAtTenTimesTheCap) {
  const User ada = MustCreate(Ada());
  const absl::Time now = absl::FromUnixSeconds(1'800'000'000);
  const absl::Time window_end = now + absl::Hours(24 * 7);
  for (int i = 0; i < 10; ++i) {
    const absl::Time at = now + absl::Hours(i);
    absl::StatusOr<TokenRevocation> r = store_->RevokeToken(
        absl::StrCat("r", i), ada.id, window_end, at + absl::Minutes(1), at, 1);
    ASSERT_THAT(r, IsOk()) << i;
    EXPECT_FALSE(r->all_sessions) << i;  // never more than one listed
  }
  const absl::Time at = now + absl::Hours(10);
  absl::StatusOr<TokenRevocation> over = store_->RevokeToken(
      "r10", ada.id, window_end, at + absl::Minutes(1), at, 1);
  ASSERT_THAT(over, IsOk());
  EXPECT_TRUE(over->all_sessions);
}

TEST_P(UserStoreContract, ExpiredRevocationsDoNotCountTowardsTheCap) {
  const User ada = MustCreate(Ada());
  const absl::Time now = absl::FromUnixSeconds(1'800'000'000);
  ASSERT_THAT(store_->RevokeToken("a1", ada.id, now + absl::Seconds(1),
                                  now + absl::Seconds(1), now, 1),
              IsOk());
  absl::StatusOr<TokenRevocation> later =
      store_->RevokeToken("a2", ada.id, now + absl::Hours(1),
                          now + absl::Hours(1), now + absl::Minutes(1), 1);
  ASSERT_THAT(later, IsOk());
  EXPECT_FALSE(later->all_sessions);
  EXPECT_EQ(MustFind("ada").token_generation, 0);
}

TEST_P(UserStoreContract, RevokingForAMissingUser_IsNotFoundAndStoresNothing) {
  const User ada = MustCreate(Ada());
  const absl::Time now = absl::FromUnixSeconds(1'800'000'000);
  for (size_t cap : {size_t{0}, kCap}) {
    EXPECT_THAT(store_->RevokeToken("x1", ada.id + 1000, now + absl::Hours(1),
                                    now + absl::Hours(1), now, cap),
                HasCode(absl::StatusCode::kNotFound))
        << cap;
  }
  absl::StatusOr<Revocations> all = store_->RevocationsSince(0, now);
  ASSERT_THAT(all, IsOk());
  EXPECT_TRUE(all->tokens.empty());
  EXPECT_TRUE(all->users.empty());
}

TEST_P(UserStoreContract, ConcurrentRevocations_NeverOvershootTheCap) {
  const User ada = MustCreate(Ada());
  const absl::Time now = absl::FromUnixSeconds(1'800'000'000);
  constexpr int kThreads = 8;
  constexpr int kEach = 10;
  constexpr size_t kSmallCap = 20;
  std::atomic<int> bumped{0};
  std::atomic<int> failed{0};
  std::atomic<bool> go{false};  // all threads start together
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      while (!go.load()) std::this_thread::yield();
      for (int i = 0; i < kEach; ++i) {
        absl::StatusOr<TokenRevocation> r = store_->RevokeToken(
            absl::StrCat("t", t, "-", i), ada.id, now + absl::Hours(1),
            now + absl::Hours(1), now, kSmallCap);
        if (!r.ok()) {
          ++failed;
        } else if (r->all_sessions) {
          ++bumped;
        }
      }
    });
  }
  go.store(true);
  for (std::thread& t : threads) t.join();
  ASSERT_EQ(failed.load(), 0);
  absl::StatusOr<Revocations> all = store_->RevocationsSince(0, now);
  ASSERT_THAT(all, IsOk());
  EXPECT_EQ(all->tokens.size(), kSmallCap);
  EXPECT_EQ(bumped.load(), kThreads * kEach - static_cast<int>(kSmallCap));
  EXPECT_EQ(MustFind("ada").token_generation, bumped.load());
}

TEST_P(UserStoreContract, TokenGenerationStartsAtZeroAndBumpsPerUser) {
  const User ada = MustCreate(Ada());
  const User bob = MustCreate(Named("bob"));
  EXPECT_EQ(ada.token_generation, 0);
  EXPECT_EQ(MustFind("ada").token_generation, 0);
  EXPECT_THAT(store_->BumpTokenGeneration(ada.id), IsOkAndHolds(int64_t{1}));
  EXPECT_THAT(store_->BumpTokenGeneration(ada.id), IsOkAndHolds(int64_t{2}));
  EXPECT_EQ(MustFind("ada").token_generation, 2);
  EXPECT_EQ(MustFind("bob").token_generation, 0);
  absl::StatusOr<std::optional<User>> by_id = store_->FindById(ada.id);
  ASSERT_THAT(by_id, IsOk());
  EXPECT_EQ((*by_id)->token_generation, 2);
  absl::StatusOr<std::optional<TokenSubject>> subject =
      store_->FindForToken("ada", "x");
  ASSERT_THAT(subject, IsOk());
  EXPECT_EQ((*subject)->user.token_generation, 2);
  EXPECT_THAT(store_->BumpTokenGeneration(ada.id + 1000),
              HasCode(absl::StatusCode::kNotFound));
  (void)bob;
}

TEST_P(UserStoreContract, PasswordChangeAndDeactivationBumpTheGeneration) {
  const User ada = MustCreate(Ada());
  ASSERT_THAT(store_->SetPasswordHash(ada.id, "pbkdf2_sha256$2$new$hash"),
              IsOk());
  EXPECT_EQ(MustFind("ada").token_generation, 1);
  // The same hash again is no change.
  ASSERT_THAT(store_->SetPasswordHash(ada.id, "pbkdf2_sha256$2$new$hash"),
              IsOk());
  EXPECT_EQ(MustFind("ada").token_generation, 1);
  ASSERT_THAT(store_->SetActive(ada.id, false), IsOk());
  EXPECT_EQ(MustFind("ada").token_generation, 2);
  // Enabling, a login and disabling a disabled user revoke nothing more.
  ASSERT_THAT(store_->SetActive(ada.id, false), IsOk());
  ASSERT_THAT(store_->SetActive(ada.id, true), IsOk());
  ASSERT_THAT(store_->RecordLogin(ada.id, absl::Now()), IsOk());
  EXPECT_EQ(MustFind("ada").token_generation, 2);
}

TEST_P(UserStoreContract, DeletedUser_KeepsABumpedGenerationForWatchers) {
  const User ada = MustCreate(Ada());
  const User bob = MustCreate(Named("bob"));
  ASSERT_THAT(store_->BumpTokenGeneration(ada.id), IsOkAndHolds(int64_t{1}));
  const absl::Time now = absl::FromUnixSeconds(1'800'000'000);
  absl::StatusOr<Revocations> before = store_->RevocationsSince(0, now);
  ASSERT_THAT(before, IsOk());
  ASSERT_THAT(store_->DeleteUser(ada.id), IsOk());
  ASSERT_THAT(store_->DeleteUser(bob.id), IsOk());  // never revoked before
  absl::StatusOr<Revocations> after =
      store_->RevocationsSince(before->seq, now);
  ASSERT_THAT(after, IsOk());
  ASSERT_EQ(after->users.size(), 2u);
  EXPECT_EQ(after->users[0].user_id, ada.id);
  EXPECT_EQ(after->users[0].generation, 2);
  EXPECT_EQ(after->users[1].user_id, bob.id);
  EXPECT_EQ(after->users[1].generation, 1);
  // A feed reading from scratch (after a restart) still lists both.
  absl::StatusOr<Revocations> all = store_->RevocationsSince(0, now);
  ASSERT_THAT(all, IsOk());
  EXPECT_EQ(all->users.size(), 2u);
  EXPECT_THAT(store_->FindById(ada.id), IsOkAndHolds(std::nullopt));
}

TEST_P(UserStoreContract, RevocationsSinceReturnsOnlyLaterUnexpiredChanges) {
  const User ada = MustCreate(Ada());
  const User bob = MustCreate(Named("bob"));
  const absl::Time now = absl::FromUnixSeconds(1'800'000'000);
  absl::StatusOr<Revocations> empty = store_->RevocationsSince(0, now);
  ASSERT_THAT(empty, IsOk());
  EXPECT_TRUE(empty->tokens.empty());
  EXPECT_TRUE(empty->users.empty());
  ASSERT_THAT(store_->RevokeToken("a1", ada.id, now + absl::Minutes(5),
                                  now + absl::Minutes(5), now, kCap),
              IsOk());
  ASSERT_THAT(store_->RevokeToken("old", ada.id, now - absl::Seconds(1),
                                  now - absl::Seconds(1),
                                  now - absl::Minutes(10), kCap),
              IsOk());
  ASSERT_THAT(store_->BumpTokenGeneration(bob.id), IsOk());
  absl::StatusOr<Revocations> first = store_->RevocationsSince(0, now);
  ASSERT_THAT(first, IsOk());
  ASSERT_EQ(first->tokens.size(), 1u);  // "old" has expired
  EXPECT_EQ(first->tokens[0].jti, "a1");
  EXPECT_EQ(first->tokens[0].user_id, ada.id);
  EXPECT_EQ(first->tokens[0].expires_at, now + absl::Minutes(5));
  ASSERT_EQ(first->users.size(), 1u);
  EXPECT_EQ(first->users[0].user_id, bob.id);
  EXPECT_EQ(first->users[0].generation, 1);
  EXPECT_GT(first->seq, 0);

  absl::StatusOr<Revocations> none = store_->RevocationsSince(first->seq, now);
  ASSERT_THAT(none, IsOk());
  EXPECT_TRUE(none->tokens.empty());
  EXPECT_TRUE(none->users.empty());
  EXPECT_EQ(none->seq, first->seq);

  ASSERT_THAT(store_->RevokeToken("b1", bob.id, now + absl::Minutes(5),
                                  now + absl::Minutes(5), now, kCap),
              IsOk());
  ASSERT_THAT(store_->SetActive(ada.id, false), IsOk());  // trigger
  absl::StatusOr<Revocations> later = store_->RevocationsSince(first->seq, now);
  ASSERT_THAT(later, IsOk());
  ASSERT_EQ(later->tokens.size(), 1u);
  EXPECT_EQ(later->tokens[0].jti, "b1");
  ASSERT_EQ(later->users.size(), 1u);
  EXPECT_EQ(later->users[0].user_id, ada.id);
  EXPECT_GT(later->seq, first->seq);
}

TEST_P(UserStoreContract,
       RevokingPurgesExpiredEntriesAndDeletingUserDropsItsJtis) {
  const User ada = MustCreate(Ada());
  const User bob = MustCreate(Named("bob"));
  const absl::Time now = absl::FromUnixSeconds(1'800'000'000);
  ASSERT_THAT(store_->RevokeToken("gone-soon", ada.id, now + absl::Seconds(1),
                                  now + absl::Seconds(1), now, kCap),
              IsOk());
  ASSERT_THAT(store_->RevokeToken("bob-1", bob.id, now + absl::Hours(1),
                                  now + absl::Hours(1), now, kCap),
              IsOk());
  ASSERT_THAT(store_->BumpTokenGeneration(bob.id), IsOk());
  // A later revocation deletes what expired before it.
  ASSERT_THAT(
      store_->RevokeToken("ada-2", ada.id, now + absl::Hours(1),
                          now + absl::Hours(1), now + absl::Minutes(1), kCap),
      IsOk());
  absl::StatusOr<Revocations> all =
      store_->RevocationsSince(0, now - absl::Hours(1));
  ASSERT_THAT(all, IsOk());
  std::vector<std::string> jtis;
  for (const Revocations::Token& t : all->tokens) jtis.push_back(t.jti);
  EXPECT_THAT(jtis, ::testing::UnorderedElementsAre("bob-1", "ada-2"));
  ASSERT_THAT(store_->DeleteUser(bob.id), IsOk());
  all = store_->RevocationsSince(0, now - absl::Hours(1));
  ASSERT_THAT(all, IsOk());
  ASSERT_EQ(all->tokens.size(), 1u);
  EXPECT_EQ(all->tokens[0].jti, "ada-2");
  // Its generation stays, bumped (every token of bob's is refused).
  ASSERT_EQ(all->users.size(), 1u);
  EXPECT_EQ(all->users[0].user_id, bob.id);
  EXPECT_EQ(all->users[0].generation, 2);
}

// ------------------------------------------------------------- errors

TEST_P(UserStoreContract, DuplicateUsernameIsAlreadyExists) {
  ASSERT_THAT(store_->CreateUser(Ada()), IsOk());
  NewUser again = Ada();
  again.email = "other@example.com";
  absl::StatusOr<User> dup = store_->CreateUser(again);
  EXPECT_THAT(dup, HasCode(absl::StatusCode::kAlreadyExists));
  EXPECT_THAT(dup.status().message(), Not(HasSubstr("ada")));
  // The store is still usable, and the first user untouched.
  EXPECT_EQ(MustFind("ada").email, "ada@example.com");
  EXPECT_THAT(store_->CreateUser(Named("bob")), IsOk());
  EXPECT_EQ(store_->ListUsers()->size(), 2u);
}

TEST_P(UserStoreContract, ConcurrentDuplicateCreatesLetExactlyOneWin) {
  std::atomic<int> ok{0}, exists{0}, other{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      absl::StatusOr<User> r = store_->CreateUser(Ada());
      if (r.ok()) {
        ++ok;
      } else if (r.status().code() == absl::StatusCode::kAlreadyExists) {
        ++exists;
      } else {
        ++other;
        ADD_FAILURE() << r.status();
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(ok.load(), 1);
  EXPECT_EQ(exists.load(), 7);
  EXPECT_EQ(other.load(), 0);
}

TEST_P(UserStoreContract, InvalidUsernamesAreInvalidArgument) {
  const std::vector<std::string> invalid = {
      "",
      std::string(kMaxUsernameLength + 1, 'a'),
      std::string("nul\0inside", 10),
      std::string("\0", 1),
      "bad\xFFutf8",
      "\xC0\xAF",          // overlong '/'
      "\xED\xA0\x80",      // a surrogate
      "\xF4\x90\x80\x80",  // above U+10FFFF
      "truncated\xE2\x82",
  };
  for (const std::string& name : invalid) {
    absl::StatusOr<User> r = store_->CreateUser(Named(name));
    EXPECT_THAT(r, HasCode(absl::StatusCode::kInvalidArgument)) << name.size();
  }
  EXPECT_TRUE(store_->ListUsers()->empty());
}

TEST_P(UserStoreContract, UsernameLimitCountsCharactersNotBytes) {
  std::string longest;
  for (size_t i = 0; i < kMaxUsernameLength; ++i)
    longest += "\xC3\xA9";  // é: 2 bytes
  EXPECT_THAT(store_->CreateUser(Named(longest)), IsOk());
  EXPECT_EQ(MustFind(longest).username, longest);
  EXPECT_THAT(store_->CreateUser(Named(longest + "e")),
              HasCode(absl::StatusCode::kInvalidArgument));
  std::string emoji;  // 4 bytes each
  for (size_t i = 0; i < kMaxUsernameLength; ++i) emoji += "\xF0\x9F\x90\x8D";
  EXPECT_THAT(store_->CreateUser(Named(emoji)), IsOk());
  EXPECT_THAT(store_->CreateUser(Named(std::string(kMaxUsernameLength, 'a'))),
              IsOk());
}

// ----------------------------------------------------------- datetimes

TEST_P(UserStoreContract, RecordLoginRoundTripsWithMicrosecondPrecision) {
  const User ada = MustCreate(Ada());
  // 2023-11-14 22:13:20.123456789 UTC: kept truncated to microseconds.
  ASSERT_THAT(store_->RecordLogin(
                  ada.id, absl::FromUnixNanos(1'700'000'000'123'456'789)),
              IsOk());
  EXPECT_THAT(MustFind("ada").last_login,
              Optional(absl::FromUnixMicros(1'700'000'000'123'456)));
  const std::vector<absl::Time> times = {
      absl::FromUnixSeconds(1'700'000'000),         // a whole second
      absl::FromUnixMicros(1'700'000'000'000'001),  // one microsecond past
      absl::FromUnixMicros(
          1'700'000'000'999'999),  // just before the next second
      absl::UnixEpoch(),           // the epoch itself
      absl::FromUnixMicros(-1),    // before the epoch
      absl::FromCivil(absl::CivilSecond(1901, 12, 13, 20, 45, 52),
                      absl::UTCTimeZone()) +
          absl::Microseconds(7),
      absl::FromCivil(absl::CivilSecond(2038, 1, 19, 3, 14, 8),
                      absl::UTCTimeZone()),
      absl::FromCivil(absl::CivilSecond(9999, 12, 31, 23, 59, 59),
                      absl::UTCTimeZone()) +
          absl::Microseconds(999'999),
  };
  for (const absl::Time t : times) {
    ASSERT_THAT(store_->RecordLogin(ada.id, t), IsOk()) << t;
    EXPECT_THAT(MustFind("ada").last_login, Optional(t)) << t;
    absl::StatusOr<std::optional<User>> by_id = store_->FindById(ada.id);
    ASSERT_THAT(by_id, IsOk());
    EXPECT_THAT((*by_id)->last_login, Optional(t)) << t;
  }
}

TEST_P(UserStoreContract, RecordLoginOfInfiniteTimeIsInvalidArgument) {
  const User ada = MustCreate(Ada());
  EXPECT_THAT(store_->RecordLogin(ada.id, absl::InfiniteFuture()),
              HasCode(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(store_->RecordLogin(ada.id, absl::InfinitePast()),
              HasCode(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(MustFind("ada").last_login, std::nullopt);
}

TEST_P(UserStoreContract, LastLoginAndDateJoinedRoundTripPerUser) {
  const absl::Time before = absl::Now();
  const User ada = MustCreate(Ada());
  const User bob = MustCreate(Named("bob"));
  const absl::Time after = absl::Now();
  for (const User& u : {ada, bob}) {
    // date_joined is "now", kept to the microsecond, and read back exactly.
    EXPECT_GE(u.date_joined, absl::FromUnixMicros(absl::ToUnixMicros(before)));
    EXPECT_LE(u.date_joined, after);
    EXPECT_EQ(u.date_joined,
              absl::FromUnixMicros(absl::ToUnixMicros(u.date_joined)));
  }
  EXPECT_LE(ada.date_joined, bob.date_joined);
  const absl::Time login = absl::FromUnixMicros(1'650'000'000'654'321);
  ASSERT_THAT(store_->RecordLogin(bob.id, login), IsOk());
  const User ada_found = MustFind("ada");
  const User bob_found = MustFind("bob");
  EXPECT_EQ(ada_found.date_joined, ada.date_joined);
  EXPECT_EQ(bob_found.date_joined, bob.date_joined);
  EXPECT_EQ(ada_found.last_login, std::nullopt);
  EXPECT_THAT(bob_found.last_login, Optional(login));
  // Other mutations leave both datetimes alone.
  ASSERT_THAT(store_->SetActive(bob.id, false), IsOk());
  ASSERT_THAT(store_->SetPasswordHash(bob.id, "x"), IsOk());
  absl::StatusOr<std::vector<User>> users = store_->ListUsers();
  ASSERT_THAT(users, IsOk());
  ASSERT_EQ(users->size(), 2u);
  EXPECT_EQ((*users)[1].date_joined, bob.date_joined);
  EXPECT_THAT((*users)[1].last_login, Optional(login));
  EXPECT_EQ((*users)[0].last_login, std::nullopt);
}

// -------------------------------------------------------------- unicode

TEST_P(UserStoreContract, UnicodeUsernamesAndEmailsRoundTrip) {
  const std::vector<std::pair<std::string, std::string>> people = {
      {"Zo\xC3\xAB", "zo\xC3\xAB@exampl\xC3\xA9.fr"},  // Zoë
      {"\xE5\xBC\xA0\xE4\xBC\x9F",
       "\xE5\xBC\xA0@\xE4\xBE\x8B\xE5\xAD\x90.cn"},  // 张伟
      {"\xF0\x9F\x90\x8D\xF0\x9F\x90\x8D",
       "snake@example.com"},  // two snakes (4 bytes)
      {"\xD0\x90\xD0\xBD\xD0\xBD\xD0\xB0", "anna@example.ru"},  // Анна
      {"e\xCC\x81", "combining@example.com"},   // e + combining acute: not "é"
      {"\xC3\xA9", "precomposed@example.com"},  // é
  };
  for (const auto& [name, email] : people) {
    NewUser u = Named(name);
    u.email = email;
    ASSERT_THAT(store_->CreateUser(u), IsOk()) << name;
  }
  for (const auto& [name, email] : people) {
    const User found = MustFind(name);
    EXPECT_EQ(found.username, name);
    EXPECT_EQ(found.email, email);
  }
  // No normalisation or case folding: these are different users.
  EXPECT_NE(MustFind("e\xCC\x81").id, MustFind("\xC3\xA9").id);
  EXPECT_THAT(store_->FindByUsername("ZO\xC3\x8B"), IsOkWithoutValue());
  EXPECT_THAT(store_->FindByUsername("zo\xC3\xAB"), IsOkWithoutValue());
  EXPECT_EQ(store_->ListUsers()->size(), people.size());
}

// ---------------------------------------------------------- concurrency

TEST_P(UserStoreContract,
       ConcurrentCreatesAndLookupsFromEightThreadsAreConsistent) {
  constexpr int kThreads = 8;
  constexpr int kPerThread = 15;
  std::vector<std::thread> threads;
  std::vector<std::vector<int64_t>> ids(kThreads);
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        const std::string name = absl::StrCat("t", t, "u", i);
        absl::StatusOr<User> created = store_->CreateUser(Named(name));
        if (!created.ok()) {
          ADD_FAILURE() << created.status();
          ++failures;
          continue;
        }
        ids[static_cast<size_t>(t)].push_back(created->id);
        auto by_name = store_->FindByUsername(name);
        auto by_id = store_->FindById(created->id);
        if (!by_name.ok() || !by_name->has_value() ||
            (*by_name)->id != created->id || !by_id.ok() ||
            !by_id->has_value() || (*by_id)->username != name) {
          ++failures;
        }
        // Another thread's user, possibly not created yet: OK either way.
        auto other = store_->FindByUsername(
            absl::StrCat("t", (t + 1) % kThreads, "u", i));
        if (!other.ok()) ++failures;
        if (i % 5 == 0 && !store_->ListUsers().ok()) ++failures;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  absl::StatusOr<std::vector<User>> users = store_->ListUsers();
  ASSERT_THAT(users, IsOk());
  EXPECT_EQ(users->size(), static_cast<size_t>(kThreads * kPerThread));
  std::set<int64_t> unique;
  for (const auto& v : ids) unique.insert(v.begin(), v.end());
  EXPECT_EQ(unique.size(), static_cast<size_t>(kThreads * kPerThread));
}

// ----------------------------------------------------------- migrations

TEST_P(UserStoreContract, MigrationsAreIdempotentAcrossOpens) {
  EXPECT_THAT(SchemaVersion(*store_), IsOkAndHolds(5));
  ASSERT_THAT(store_->CreateUser(Ada()), IsOk());
  for (int i = 0; i < 2; ++i) {
    std::unique_ptr<UserStore> again = Open();
    ASSERT_NE(again, nullptr);
    EXPECT_THAT(SchemaVersion(*again), IsOkAndHolds(5));
    EXPECT_EQ(again->ListUsers()->size(), 1u);
  }
  EXPECT_THAT(SchemaVersion(*store_), IsOkAndHolds(5));
  EXPECT_EQ(MustFind("ada").email, "ada@example.com");
}

TEST_P(UserStoreContract, OpenWithoutMigrateNeedsAnExistingStore) {
  std::unique_ptr<UserStore> plain = Open(/*create_or_migrate=*/false);
  ASSERT_NE(plain, nullptr);
  ASSERT_THAT(store_->CreateUser(Ada()), IsOk());
  EXPECT_EQ(plain->ListUsers()->size(), 1u);
  EXPECT_THAT(SchemaVersion(*plain), IsOkAndHolds(5));
}

TEST_P(UserStoreContract, OpenRequiringTheCurrentSchemaOfAnOlderOne_IsRefused) {
  // Back to version 4.
  ASSERT_TRUE(
      db_->Sql("DROP INDEX jwtauth_revoked_user_watch; "
               "ALTER TABLE jwtauth_revoked DROP COLUMN watch_until; "
               "CREATE INDEX jwtauth_revoked_user_id ON jwtauth_revoked "
               "(user_id); "
               "DELETE FROM jwtauth_schema_migrations WHERE version = 5"));
  StoreOpenOptions no_migrate;
  no_migrate.create_or_migrate = false;
  // jwtauth-admin's user commands still open it.
  EXPECT_THAT(OpenUserStore(db_->Name(), no_migrate), IsOk());
  no_migrate.require_current_schema = true;  // jwtauth-server
  absl::StatusOr<std::unique_ptr<UserStore>> old =
      OpenUserStore(db_->Name(), no_migrate);
  EXPECT_THAT(old, HasCode(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(old.status().message(),
              AllOf(HasSubstr("schema version 4"), HasSubstr("needs 5"),
                    HasSubstr("jwtauth-admin migrate")));
  // Migrating brings it to this version.
  std::unique_ptr<UserStore> migrated = Open();
  ASSERT_NE(migrated, nullptr);
  EXPECT_THAT(SchemaVersion(*migrated), IsOkAndHolds(5));
  EXPECT_THAT(OpenUserStore(db_->Name(), no_migrate), IsOk());
}

class UserStoreContractEmpty : public UserStoreContract {
 protected:
  void SetUp() override {
    db_ = GetParam().make();
    ASSERT_TRUE(db_->Ready());
  }
};

TEST_P(UserStoreContractEmpty,
       OpenWithoutMigrateOnForeignDatabaseIsRefusedAndWritesNothing) {
  db_->AddForeignTable();
  StoreOpenOptions no_create;
  no_create.create_or_migrate = false;
  EXPECT_THAT(OpenUserStore(db_->Name(), no_create),
              HasCode(absl::StatusCode::kFailedPrecondition));
  // Still no auth_user: nothing was created by the refused open.
  EXPECT_THAT(OpenUserStore(db_->Name(), no_create),
              HasCode(absl::StatusCode::kFailedPrecondition));
  // Migrating adds the store beside the foreign table.
  store_ = Open();
  ASSERT_NE(store_, nullptr);
  EXPECT_THAT(SchemaVersion(*store_), IsOkAndHolds(5));
  EXPECT_THAT(store_->CreateUser(Ada()), IsOk());
}

TEST_P(UserStoreContractEmpty, StoresOpenedTogetherMigrateOnce) {
  constexpr int kOpeners = 4;
  std::vector<std::unique_ptr<UserStore>> stores(kOpeners);
  std::vector<std::thread> threads;
  for (int i = 0; i < kOpeners; ++i) {
    threads.emplace_back([&, i] {
      StoreOpenOptions options;
      absl::StatusOr<std::unique_ptr<UserStore>> s =
          OpenUserStore(db_->Name(), options);
      EXPECT_THAT(s, IsOk());
      if (s.ok()) stores[static_cast<size_t>(i)] = *std::move(s);
    });
  }
  for (std::thread& t : threads) t.join();
  for (auto& s : stores) {
    ASSERT_NE(s, nullptr);
    EXPECT_THAT(SchemaVersion(*s), IsOkAndHolds(5));
  }
  ASSERT_THAT(stores[0]->CreateUser(Ada()), IsOk());
  for (auto& s : stores) {
    absl::StatusOr<std::optional<User>> found = s->FindByUsername("ada");
    ASSERT_THAT(found, IsOk());
    EXPECT_TRUE(found->has_value());
  }
}

const Backend kBackends[] = {
    {"Sqlite", [] { return std::unique_ptr<Database>(new SqliteDatabase()); }},
    {"Postgres",
     [] { return std::unique_ptr<Database>(new PostgresDatabase()); }},
};

INSTANTIATE_TEST_SUITE_P(Backends, UserStoreContract,
                         ::testing::ValuesIn(kBackends), BackendName);
INSTANTIATE_TEST_SUITE_P(Backends, UserStoreContractEmpty,
                         ::testing::ValuesIn(kBackends), BackendName);

}  // namespace
}  // namespace jwtauth::server
