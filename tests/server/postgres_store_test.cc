// PostgreSQL-specific tests of PostgresUserStore (the shared behaviour is in
// user_store_contract_test.cc): Django's exact schema, existing Django tables
// left alone, time zones, and faults — a server stopped / restarted under a
// running store, terminated sessions, statement timeouts, a busy pool,
// unreachable servers, read-only databases, values PostgreSQL cannot store —
// plus the factory's URL handling (no server needed).
//
// Runs in the ctest fixture "postgres" (scripts/pg-test-cluster); every test
// works in a fresh schema. The restart tests stop the fixture's cluster, so
// every test using it holds RESOURCE_LOCK postgres.
#include <libpq-fe.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
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
#include "server/user_store_factory.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/test_util.h"

namespace jwtauth::server {
namespace {

using ::jwtauth::testing::IsOk;
using ::jwtauth::testing::Subprocess;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::Optional;

MATCHER_P(HasCode, code, "") {
  const absl::Status& s = ::jwtauth::testing::StatusOf(arg);
  *result_listener << "status: " << s;
  return s.code() == code;
}

MATCHER_P(IsOkAndHolds, value, "") {
  if (!arg.ok()) *result_listener << "status: " << arg.status();
  return arg.ok() && *arg == value;
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

NewUser Named(absl::string_view username) {
  NewUser user;
  user.username = std::string(username);
  user.email = absl::StrCat(username, "@example.com");
  user.password_hash = "pbkdf2_sha256$1000$salt$hash=";
  return user;
}

// Pg: the fixture's cluster, a fresh schema for this test and an admin
// connection of the test's own (to look behind the store's back, hold locks).
class PostgresUserStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* url_file = std::getenv("JWTAUTH_TEST_PG_URL_FILE");
    ASSERT_NE(url_file, nullptr) << "run under ctest (fixture postgres)";
    base_url_ = std::string(absl::StripAsciiWhitespace(ReadAll(url_file)));
    ASSERT_FALSE(base_url_.empty()) << url_file;
    cluster_dir_ =
        std::string(url_file).substr(0, std::string(url_file).rfind('/'));
    // postgresql://postgres@127.0.0.1:PORT/jwtauth_test
    const size_t at = base_url_.find('@');
    host_and_db_ = base_url_.substr(at + 1);
    schema_ = absl::StrCat("pgtest_", ::getpid(), "_", ++counter_);
    admin_ = PQconnectdb(base_url_.c_str());
    ASSERT_EQ(PQstatus(admin_), CONNECTION_OK) << PQerrorMessage(admin_);
    PQsetNoticeProcessor(
        admin_, [](void*, const char*) {}, nullptr);
    Exec(absl::StrCat("DROP SCHEMA IF EXISTS ", schema_, " CASCADE"));
    Exec(absl::StrCat("CREATE SCHEMA ", schema_));
    Exec(absl::StrCat("SET search_path = ", schema_));
  }

  void TearDown() override {
    if (admin_ != nullptr && PQstatus(admin_) != CONNECTION_OK) {
      PQreset(admin_);
      PQsetNoticeProcessor(
          admin_, [](void*, const char*) {}, nullptr);
    }
    if (admin_ != nullptr) {
      if (PQtransactionStatus(admin_) != PQTRANS_IDLE)
        PQclear(PQexec(admin_, "ROLLBACK"));
      PGresult* r = PQexec(
          admin_,
          absl::StrCat("DROP SCHEMA IF EXISTS ", schema_, " CASCADE").c_str());
      PQclear(r);
    }
    PQfinish(admin_);
  }

  // Url: this test's schema, a recognisable application_name, extra options.
  std::string Url(absl::string_view extra_options = "") const {
    return absl::StrCat(base_url_, "?application_name=", schema_,
                        "&options=-c%20search_path%3D", schema_, extra_options);
  }

  std::unique_ptr<PostgresUserStore> MustOpen(
      PostgresOptions options = {}, absl::string_view extra_options = "") {
    absl::StatusOr<std::unique_ptr<PostgresUserStore>> store =
        PostgresUserStore::Open(Url(extra_options), options);
    EXPECT_THAT(store, IsOk());
    return store.ok() ? *std::move(store) : nullptr;
  }

  bool Exec(const std::string& sql) {
    PGresult* r = PQexec(admin_, sql.c_str());
    const ExecStatusType status = PQresultStatus(r);
    const bool ok = status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK;
    EXPECT_TRUE(ok) << sql << ": " << PQerrorMessage(admin_);
    PQclear(r);
    return ok;
  }

  // Text: the first column of the first row of `sql`, "<none>" or "<null>".
  std::string Text(const std::string& sql) {
    PGresult* r = PQexec(admin_, sql.c_str());
    EXPECT_EQ(PQresultStatus(r), PGRES_TUPLES_OK)
        << sql << ": " << PQerrorMessage(admin_);
    std::string out = "<none>";
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0) {
      out = PQgetisnull(r, 0, 0) ? "<null>" : PQgetvalue(r, 0, 0);
    }
    PQclear(r);
    return out;
  }

  // Rows: every row of `sql`, columns joined by '|'.
  std::vector<std::string> Rows(const std::string& sql) {
    PGresult* r = PQexec(admin_, sql.c_str());
    EXPECT_EQ(PQresultStatus(r), PGRES_TUPLES_OK)
        << sql << ": " << PQerrorMessage(admin_);
    std::vector<std::string> rows;
    for (int i = 0; i < PQntuples(r); ++i) {
      std::string row;
      for (int j = 0; j < PQnfields(r); ++j) {
        if (j > 0) row += "|";
        row += PQgetisnull(r, i, j) ? "<null>" : PQgetvalue(r, i, j);
      }
      rows.push_back(row);
    }
    PQclear(r);
    return rows;
  }

  // WaitUntilSessionsAreGone waits until the store's terminated sessions
  // have exited (their goodbyes sent, their sockets closed).
  void WaitUntilSessionsAreGone() {
    const std::string count = absl::StrCat(
        "SELECT count(*) FROM pg_stat_activity WHERE application_name = '",
        schema_, "'");
    for (int i = 0; i < 250 && Text(count) != "0"; ++i)
      absl::SleepFor(absl::Milliseconds(20));
    EXPECT_EQ(Text(count), "0");
  }

  int Cluster(const std::string& action) {
    Subprocess p({"/bin/bash", JWTAUTH_PG_TEST_CLUSTER, action, cluster_dir_});
    const int code = p.Run();
    EXPECT_EQ(code, 0) << p.Stdout() << p.Stderr();
    return code;
  }

  static int counter_;
  std::string base_url_, cluster_dir_, host_and_db_, schema_;
  PGconn* admin_ = nullptr;
};
int PostgresUserStoreTest::counter_ = 0;

// ------------------------------------------------------------- schema

TEST_F(PostgresUserStoreTest, FreshSchemaIsDjangosAuthUser) {
  auto store = MustOpen();
  ASSERT_NE(store, nullptr);
  EXPECT_THAT(store->SchemaVersion(), IsOkAndHolds(5));
  EXPECT_EQ(PostgresUserStore::LatestSchemaVersion(), 5);
  EXPECT_THAT(
      Rows(absl::StrCat(
          "SELECT column_name, data_type, is_nullable, "
          "coalesce(character_maximum_length::text, ''), is_identity, "
          "coalesce(identity_generation, '') FROM information_schema.columns "
          "WHERE table_schema = '",
          schema_, "' AND table_name = 'auth_user' ORDER BY ordinal_position")),
      ElementsAre("id|integer|NO||YES|BY DEFAULT",
                  "password|character varying|NO|128|NO|",
                  "last_login|timestamp with time zone|YES||NO|",
                  "is_superuser|boolean|NO||NO|",
                  "username|character varying|NO|150|NO|",
                  "first_name|character varying|NO|150|NO|",
                  "last_name|character varying|NO|150|NO|",
                  "email|character varying|NO|254|NO|",
                  "is_staff|boolean|NO||NO|", "is_active|boolean|NO||NO|",
                  "date_joined|timestamp with time zone|NO||NO|"));
  EXPECT_THAT(Rows(absl::StrCat(
                  "SELECT indexname FROM pg_indexes WHERE schemaname = '",
                  schema_, "' AND tablename = 'auth_user' ORDER BY indexname")),
              ElementsAre("auth_user_pkey", "auth_user_username_6821ab7c_like",
                          "auth_user_username_key"));
  EXPECT_THAT(
      Rows("SELECT version, applied_at <= now() FROM jwtauth_schema_migrations "
           "ORDER BY version"),
      ElementsAre("1|t", "2|t", "3|t", "4|t", "5|t"));
  EXPECT_THAT(store->Migrate(), IsOk());
  EXPECT_EQ(Text("SELECT count(*) FROM jwtauth_schema_migrations"), "5");
}

// A database at schema version 2 holding users, generations and revoked
// jtis: migrations 3 to 5 keep all of it, then deleting a user revokes its
// tokens (3) and revocations are capped per user (4, 5).
TEST_F(PostgresUserStoreTest, Version2DatabaseWithRowsUpgradesKeepingThem) {
  const absl::Time now = absl::FromUnixSeconds(1'800'000'000);
  int64_t ada = 0, bob = 0;
  {
    auto store = MustOpen();
    ASSERT_NE(store, nullptr);
    ada = store->CreateUser(Named("ada"))->id;
    bob = store->CreateUser(Named("bob"))->id;
    ASSERT_THAT(store->BumpTokenGeneration(ada), IsOk());
    ASSERT_THAT(store->RevokeToken("bob-1", bob, now + absl::Hours(1),
                                   now + absl::Hours(1), now, 1),
                IsOk());
  }
  // Back to version 2's shape.
  ASSERT_TRUE(
      Exec("DROP INDEX jwtauth_revoked_user_watch; "
           "ALTER TABLE jwtauth_revoked DROP COLUMN watch_until; "
           "DROP TRIGGER jwtauth_revoke_on_user_delete ON auth_user; "
           "DROP FUNCTION jwtauth_revoke_on_user_delete(); "
           "ALTER TABLE jwtauth_user_state ADD CONSTRAINT "
           "jwtauth_user_state_user_id_fkey FOREIGN KEY (user_id) "
           "REFERENCES auth_user (id) ON DELETE CASCADE; "
           "DELETE FROM jwtauth_schema_migrations WHERE version >= 3"));
  ASSERT_EQ(Text("SELECT count(*) FROM jwtauth_schema_migrations"), "2");

  auto store = MustOpen();
  ASSERT_NE(store, nullptr);
  EXPECT_THAT(store->SchemaVersion(), IsOkAndHolds(5));
  EXPECT_EQ(
      Text("SELECT count(*) FROM pg_indexes WHERE indexname = "
           "'jwtauth_revoked_user_watch' AND schemaname = current_schema()"),
      "1");
  EXPECT_EQ(store->FindById(ada)->value().token_generation, 1);
  absl::StatusOr<std::optional<TokenSubject>> revoked =
      store->FindForToken("bob", "bob-1");
  ASSERT_THAT(revoked, IsOk());
  ASSERT_TRUE(revoked->has_value());
  EXPECT_TRUE((*revoked)->jti_revoked);
  // bob holds one revocation: a second is over the cap of 1.
  absl::StatusOr<TokenRevocation> second = store->RevokeToken(
      "bob-2", bob, now + absl::Hours(1), now + absl::Hours(1), now, 1);
  ASSERT_THAT(second, IsOk());
  EXPECT_TRUE(second->all_sessions);
  ASSERT_THAT(store->DeleteUser(ada), IsOk());
  absl::StatusOr<Revocations> all = store->RevocationsSince(0, now);
  ASSERT_THAT(all, IsOk());
  std::vector<std::string> generations;
  for (const Revocations::Generation& g : all->users)
    generations.push_back(
        absl::StrCat(g.user_id == ada ? "ada" : "bob", "=", g.generation));
  EXPECT_THAT(generations, ::testing::UnorderedElementsAre("ada=2", "bob=1"));
}

// RevokeToken's count relies on READ COMMITTED: a database whose default is
// SERIALIZABLE must not turn concurrent revocations into failures.
TEST_F(PostgresUserStoreTest,
       MigrationsAndRevocationsUnderASerializableDefault_AllSucceed) {
  constexpr absl::string_view kSerializable =
      "%20-c%20default_transaction_isolation%3Dserializable";
  {
    // Sessions on this URL are SERIALIZABLE unless they say otherwise.
    PGconn* probe = PQconnectdb(Url(kSerializable).c_str());
    ASSERT_EQ(PQstatus(probe), CONNECTION_OK) << PQerrorMessage(probe);
    PGresult* r = PQexec(probe, "SHOW default_transaction_isolation");
    ASSERT_EQ(PQresultStatus(r), PGRES_TUPLES_OK);
    EXPECT_STREQ(PQgetvalue(r, 0, 0), "serializable");
    PQclear(r);
    PQfinish(probe);
  }
  // Replicas starting together migrate once, each seeing the others' work.
  std::vector<std::unique_ptr<PostgresUserStore>> opened(3);
  std::vector<std::thread> openers;
  for (auto& slot : opened)
    openers.emplace_back([&] { slot = MustOpen({}, kSerializable); });
  for (std::thread& t : openers) t.join();
  for (const auto& o : opened) ASSERT_NE(o, nullptr);
  auto& store = opened[0];
  const int64_t ada = store->CreateUser(Named("ada"))->id;
  const absl::Time now = absl::FromUnixSeconds(1'800'000'000);
  constexpr int kThreads = 4;
  constexpr int kEach = 10;
  std::atomic<int> failed{0};
  std::atomic<bool> go{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      while (!go.load()) std::this_thread::yield();
      for (int i = 0; i < kEach; ++i) {
        absl::StatusOr<TokenRevocation> r = store->RevokeToken(
            absl::StrCat("t", t, "-", i), ada, now + absl::Hours(1),
            now + absl::Hours(1), now, 15);
        if (!r.ok()) ++failed;
      }
    });
  }
  go.store(true);
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(failed.load(), 0);
  EXPECT_EQ(Text("SELECT count(*) FROM jwtauth_revoked"), "15");
}

// A transaction that bumps one user's generation (a password change: the
// trigger takes the revocation counter) and then writes another user's row,
// as Django's admin or a data script may, while that other user revokes a
// token: the revocation waits, nobody deadlocks, both commit.
TEST_F(PostgresUserStoreTest,
       RevokeWhileATransactionHoldsTheCounter_NoDeadlock) {
  // The store's sessions look for deadlocks only after a minute, so that a
  // deadlock would be found, and broken, by this test's own session: its
  // UPDATE below would fail (instead of the revocation, which would retry).
  auto store = MustOpen({}, "%20-c%20deadlock_timeout%3D60s");
  ASSERT_NE(store, nullptr);
  const int64_t ada = store->CreateUser(Named("ada"))->id;
  const int64_t bob = store->CreateUser(Named("bob"))->id;
  const absl::Time now = absl::Now();
  // An expired row of bob's, for the purge to find.
  ASSERT_THAT(store->RevokeToken("old", bob, now + absl::Seconds(1),
                                 now + absl::Seconds(1), now, 100),
              IsOk());
  ASSERT_TRUE(Exec("BEGIN"));
  ASSERT_TRUE(Exec(absl::StrCat(
      "UPDATE auth_user SET password = 'changed' WHERE id = ", ada)));
  absl::StatusOr<TokenRevocation> revoked;
  std::thread revoke([&] {
    revoked =
        store->RevokeToken("b1", bob, now + absl::Hours(1),
                           now + absl::Hours(1), now + absl::Minutes(1), 100);
  });
  // Wait until the revocation waits on a lock.
  const std::string waiting = absl::StrCat(
      "SELECT count(*) FROM pg_stat_activity WHERE application_name = '",
      schema_, "' AND wait_event_type = 'Lock'");
  for (int i = 0; i < 250 && Text(waiting) == "0"; ++i)
    absl::SleepFor(absl::Milliseconds(20));
  EXPECT_EQ(Text(waiting), "1");
  EXPECT_TRUE(Exec(absl::StrCat(
      "UPDATE auth_user SET first_name = 'Bob' WHERE id = ", bob)));
  EXPECT_TRUE(Exec(absl::StrCat("DELETE FROM jwtauth_revoked WHERE user_id = ",
                                bob, " AND jti = 'old'")));
  ASSERT_TRUE(Exec("COMMIT"));
  revoke.join();
  ASSERT_THAT(revoked, IsOk());
  EXPECT_FALSE(revoked->all_sessions);
  EXPECT_EQ(store->FindById(ada)->value().token_generation, 1);
}

// An auth_user made by Django 3.2 (serial id, no identity) with rows Django
// wrote: read as they are, written in kind, and the table is never altered.
TEST_F(PostgresUserStoreTest, ExistingDjangoTableIsUsedAndNotAltered) {
  Exec(
      "CREATE TABLE \"auth_user\" (\"id\" serial NOT NULL PRIMARY KEY, "
      "\"password\" varchar(128) NOT NULL, \"last_login\" timestamp with time "
      "zone NULL, "
      "\"is_superuser\" boolean NOT NULL, \"username\" varchar(150) NOT NULL "
      "UNIQUE, "
      "\"first_name\" varchar(150) NOT NULL, \"last_name\" varchar(150) NOT "
      "NULL, "
      "\"email\" varchar(254) NOT NULL, \"is_staff\" boolean NOT NULL, "
      "\"is_active\" boolean NOT NULL, \"date_joined\" timestamp with time "
      "zone NOT NULL)");
  Exec(
      "INSERT INTO auth_user (password, last_login, is_superuser, username, "
      "first_name, "
      "last_name, email, is_staff, is_active, date_joined) VALUES "
      "('h1', '2020-01-02 04:04:05.5+01', false, 'alice', 'Alice', 'Liddell', "
      "'a@x', false, "
      "true, '2019-12-31 23:59:59.000001+00'), "
      "('h2', 'infinity', true, 'odd', '', '', '', true, false, '-infinity')");
  const std::string before = Text(
      "SELECT string_agg(column_name || ' ' || data_type || ' ' || "
      "coalesce(column_default, ''), "
      "', ' ORDER BY ordinal_position) FROM information_schema.columns "
      "WHERE table_name = 'auth_user' AND table_schema = current_schema()");

  auto store = MustOpen();
  ASSERT_NE(store, nullptr);
  EXPECT_THAT(store->SchemaVersion(), IsOkAndHolds(5));
  absl::StatusOr<std::optional<User>> alice = store->FindByUsername("alice");
  ASSERT_THAT(alice, IsOk());
  ASSERT_TRUE(alice->has_value());
  const absl::Time t = absl::FromCivil(absl::CivilSecond(2020, 1, 2, 3, 4, 5),
                                       absl::UTCTimeZone());
  EXPECT_THAT((*alice)->last_login, Optional(t + absl::Milliseconds(500)));
  EXPECT_EQ((*alice)->date_joined,
            absl::FromCivil(absl::CivilSecond(2019, 12, 31, 23, 59, 59),
                            absl::UTCTimeZone()) +
                absl::Microseconds(1));
  EXPECT_EQ((*alice)->first_name, "Alice");
  EXPECT_EQ((*alice)->last_name, "Liddell");
  // Values no absl::Time holds do not make the user unreadable.
  absl::StatusOr<std::optional<User>> odd = store->FindByUsername("odd");
  ASSERT_THAT(odd, IsOk());
  ASSERT_TRUE(odd->has_value());
  EXPECT_EQ((*odd)->last_login, std::nullopt);
  EXPECT_EQ((*odd)->date_joined, absl::UnixEpoch());
  EXPECT_TRUE((*odd)->is_superuser);
  EXPECT_FALSE((*odd)->is_active);

  absl::StatusOr<User> bob = store->CreateUser(Named("bob"));
  ASSERT_THAT(bob, IsOk());
  EXPECT_EQ(bob->id, 3);  // from Django's serial sequence
  EXPECT_EQ(store->ListUsers()->size(), 3u);
  // Untouched: same columns and defaults, and no index of jwtauth's.
  EXPECT_EQ(
      Text("SELECT string_agg(column_name || ' ' || data_type || ' ' || "
           "coalesce(column_default, ''), ', ' ORDER BY ordinal_position) FROM "
           "information_schema.columns WHERE table_name = 'auth_user' AND "
           "table_schema = current_schema()"),
      before);
  EXPECT_THAT(
      Rows("SELECT indexname FROM pg_indexes WHERE tablename = 'auth_user' AND "
           "schemaname = current_schema() ORDER BY indexname"),
      ElementsAre("auth_user_pkey", "auth_user_username_key"));
}

TEST_F(PostgresUserStoreTest, TimesDoNotDependOnTheSessionTimeZone) {
  auto store = MustOpen({}, "%20-c%20TimeZone%3DAsia/Kathmandu");  // UTC+05:45
  ASSERT_NE(store, nullptr);
  absl::StatusOr<User> ada = store->CreateUser(Named("ada"));
  ASSERT_THAT(ada, IsOk());
  const absl::Time login = absl::FromUnixMicros(1'700'000'000'123'456);
  ASSERT_THAT(store->RecordLogin(ada->id, login), IsOk());
  Exec("SET TimeZone = 'UTC'");
  EXPECT_EQ(Text("SELECT last_login::text FROM auth_user"),
            "2023-11-14 22:13:20.123456+00");
  EXPECT_EQ(Text("SELECT (extract(epoch from date_joined) * 1000000)::bigint "
                 "FROM auth_user"),
            absl::StrCat(absl::ToUnixMicros(ada->date_joined)));
  absl::StatusOr<std::optional<User>> found = store->FindById(ada->id);
  ASSERT_THAT(found, IsOk());
  EXPECT_THAT((*found)->last_login, Optional(login));
  EXPECT_EQ((*found)->date_joined, ada->date_joined);
}

// ------------------------------------------------------------- errors

TEST_F(PostgresUserStoreTest,
       ValuesPostgresCannotStoreAreInvalidArgumentWithoutTheValue) {
  auto store = MustOpen();
  ASSERT_NE(store, nullptr);
  NewUser nul = Named("nul");
  nul.email = std::string("secret\0mail", 11);
  NewUser bad = Named("bad");
  bad.email = "secret\xFFmail";
  NewUser long_email = Named("long");
  long_email.email = std::string(255, 's');  // Django: max_length 254
  for (const NewUser& u : {nul, bad, long_email}) {
    absl::StatusOr<User> r = store->CreateUser(u);
    EXPECT_THAT(r, HasCode(absl::StatusCode::kInvalidArgument));
    EXPECT_THAT(r.status().message(),
                AllOf(Not(HasSubstr("secret")), Not(HasSubstr("sss"))));
  }
  absl::StatusOr<User> ok = store->CreateUser(Named("ok"));
  ASSERT_THAT(ok, IsOk());
  EXPECT_THAT(store->SetPasswordHash(ok->id, std::string("a\0b", 3)),
              HasCode(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(store->SetPasswordHash(ok->id, std::string(129, 'h')),
              HasCode(absl::StatusCode::kInvalidArgument));  // varchar(128)
  EXPECT_THAT(
      store->RecordLogin(
          ok->id, absl::FromCivil(absl::CivilSecond(10000, 1, 1, 0, 0, 0),
                                  absl::UTCTimeZone())),
      HasCode(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(store->ListUsers()->size(), 1u);
}

TEST_F(PostgresUserStoreTest, UserReferencedByDjangoRowsIsFailedPrecondition) {
  auto store = MustOpen();
  ASSERT_NE(store, nullptr);
  absl::StatusOr<User> carol = store->CreateUser(Named("carol"));
  ASSERT_THAT(carol, IsOk());
  Exec(
      "CREATE TABLE auth_user_groups (id bigserial PRIMARY KEY, "
      "user_id integer NOT NULL REFERENCES auth_user (id) DEFERRABLE INITIALLY "
      "DEFERRED, "
      "group_id integer NOT NULL)");
  Exec(absl::StrCat("INSERT INTO auth_user_groups (user_id, group_id) VALUES (",
                    carol->id, ", 1)"));
  absl::Status deleted = store->DeleteUser(carol->id);
  EXPECT_THAT(deleted, HasCode(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(deleted.message(), HasSubstr("refer"));
  EXPECT_TRUE(store->FindById(carol->id)->has_value());
}

TEST_F(PostgresUserStoreTest,
       IdSequenceBehindItsRowsIsFailedPreconditionNotAlreadyExists) {
  auto store = MustOpen();
  ASSERT_NE(store, nullptr);
  Exec(
      "INSERT INTO auth_user (id, password, is_superuser, username, "
      "first_name, last_name, "
      "email, is_staff, is_active, date_joined) VALUES (1, '', false, "
      "'restored', '', '', '', "
      "false, true, now())");
  EXPECT_THAT(store->CreateUser(Named("new")),
              HasCode(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(store->CreateUser(Named("new")),
              IsOk());  // the sequence moved on
  EXPECT_THAT(store->CreateUser(Named("restored")),
              HasCode(absl::StatusCode::kAlreadyExists));
}

TEST_F(PostgresUserStoreTest, TableDroppedBehindTheStoreIsUnavailable) {
  auto store = MustOpen();
  ASSERT_NE(store, nullptr);
  Exec("DROP TABLE auth_user CASCADE");
  absl::StatusOr<std::optional<User>> found = store->FindByUsername("ada");
  EXPECT_THAT(found, HasCode(absl::StatusCode::kUnavailable));
  EXPECT_THAT(found.status().message(), HasSubstr("auth_user"));
  EXPECT_THAT(store->CreateUser(Named("ada")),
              HasCode(absl::StatusCode::kUnavailable));
}

TEST_F(PostgresUserStoreTest, ReadOnlyDatabaseIsUnavailableForWritesOnly) {
  ASSERT_NE(MustOpen(), nullptr);  // migrated
  PostgresOptions no_migrate;
  no_migrate.migrate = false;
  auto store =
      MustOpen(no_migrate, "%20-c%20default_transaction_read_only%3Don");
  ASSERT_NE(store, nullptr);
  absl::StatusOr<User> r = store->CreateUser(Named("ada"));
  EXPECT_THAT(r, HasCode(absl::StatusCode::kUnavailable));
  EXPECT_THAT(r.status().message(), HasSubstr("read-only"));
  EXPECT_THAT(store->FindByUsername("ada"), IsOk());
  EXPECT_THAT(store->ListUsers(), IsOk());
}

TEST_F(PostgresUserStoreTest,
       OpenWithoutMigrateOnEmptySchemaIsFailedPrecondition) {
  PostgresOptions no_migrate;
  no_migrate.migrate = false;
  absl::StatusOr<std::unique_ptr<PostgresUserStore>> store =
      PostgresUserStore::Open(Url(), no_migrate);
  EXPECT_THAT(store, HasCode(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(store.status().message(), HasSubstr("migrate"));
  EXPECT_EQ(
      Text(
          "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()"),
      "0");
}

TEST_F(PostgresUserStoreTest,
       UnreachableServerIsUnavailableAtOpenWithoutThePassword) {
  const absl::Time start = absl::Now();
  absl::StatusOr<std::unique_ptr<PostgresUserStore>> store =
      PostgresUserStore::Open(
          "postgresql://jwtauth:s3cret-pw@127.0.0.1:1/users");
  EXPECT_THAT(store, HasCode(absl::StatusCode::kUnavailable));
  EXPECT_THAT(store.status().message(),
              AllOf(HasSubstr("user store postgresql://127.0.0.1:1/users: "),
                    HasSubstr("cannot connect"), Not(HasSubstr("s3cret")),
                    Not(HasSubstr("jwtauth:"))));
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
  // Through the factory too.
  EXPECT_THAT(OpenUserStore("postgres://u:s3cret-pw@127.0.0.1:1/users"),
              HasCode(absl::StatusCode::kUnavailable));
}

TEST_F(PostgresUserStoreTest, InvalidUrlIsInvalidArgumentWithoutThePassword) {
  for (const char* url :
       {"postgresql://u:s3cret-pw@host/db?no_such_parameter=1",
        "postgresql://u:s3cret-pw@host/db?sslmode"}) {
    absl::StatusOr<std::unique_ptr<PostgresUserStore>> store =
        PostgresUserStore::Open(url);
    EXPECT_THAT(store, HasCode(absl::StatusCode::kInvalidArgument)) << url;
    EXPECT_THAT(store.status().message(), Not(HasSubstr("s3cret"))) << url;
  }
}

// -------------------------------------------------------------- faults

TEST_F(PostgresUserStoreTest,
       StatementTimeoutIsUnavailableThenTheNextCallSucceeds) {
  PostgresOptions options;
  options.statement_timeout = absl::Milliseconds(300);
  auto store = MustOpen(options);
  ASSERT_NE(store, nullptr);
  absl::StatusOr<User> ada = store->CreateUser(Named("ada"));
  ASSERT_THAT(ada, IsOk());
  Exec("BEGIN");
  Exec("LOCK TABLE auth_user IN ACCESS EXCLUSIVE MODE");
  const absl::Time start = absl::Now();
  NewUser bob = Named("bob");
  bob.password_hash =
      "pbkdf2_sha256$1$secret-looking-salt$secret-looking-hash=";
  absl::StatusOr<User> blocked = store->CreateUser(bob);
  EXPECT_THAT(blocked, HasCode(absl::StatusCode::kUnavailable));
  EXPECT_THAT(
      blocked.status().message(),
      AllOf(HasSubstr(absl::StrCat("user store postgresql://", host_and_db_)),
            HasSubstr("timed out"), Not(HasSubstr("bob")),
            Not(HasSubstr("secret"))));
  EXPECT_THAT(store->SetActive(ada->id, false),
              HasCode(absl::StatusCode::kUnavailable));
  EXPECT_THAT(store->FindByUsername("ada"),
              HasCode(absl::StatusCode::kUnavailable));
  EXPECT_LT(absl::Now() - start, absl::Seconds(3));
  Exec("COMMIT");
  EXPECT_THAT(store->CreateUser(bob), IsOk());
  EXPECT_THAT(store->SetActive(ada->id, false), IsOk());
  EXPECT_EQ(store->ListUsers()->size(), 2u);
}

TEST_F(PostgresUserStoreTest, BusyPoolIsUnavailableAfterAcquireTimeout) {
  PostgresOptions options;
  options.pool_size = 1;
  options.acquire_timeout = absl::Milliseconds(200);
  options.statement_timeout = absl::Seconds(10);
  auto store = MustOpen(options);
  ASSERT_NE(store, nullptr);
  Exec("BEGIN");
  Exec("LOCK TABLE auth_user IN ACCESS EXCLUSIVE MODE");
  std::atomic<bool> done{false};
  absl::Status held_status;
  std::thread holder([&] {
    held_status = store->CreateUser(Named("waiting"))
                      .status();  // holds the only connection
    done = true;
  });
  // Wait until the holder's statement waits on the lock.
  for (int i = 0; i < 200; ++i) {
    if (Text(absl::StrCat(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = '",
            schema_, "' AND wait_event_type = 'Lock'")) == "1") {
      break;
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
  const absl::Time start = absl::Now();
  absl::StatusOr<std::optional<User>> busy = store->FindByUsername("x");
  EXPECT_THAT(busy, HasCode(absl::StatusCode::kUnavailable));
  EXPECT_THAT(busy.status().message(), HasSubstr("busy"));
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(150));
  EXPECT_FALSE(done.load());
  Exec("COMMIT");
  holder.join();
  EXPECT_THAT(held_status, IsOk());
  EXPECT_THAT(store->FindByUsername("waiting"), IsOk());
}

// Sessions killed by an administrator (or a failover proxy): reads and
// writes go on, on fresh connections, without a failed call.
TEST_F(PostgresUserStoreTest, TerminatedSessionsAreReplacedWithoutAFailedCall) {
  auto store = MustOpen();
  ASSERT_NE(store, nullptr);
  absl::StatusOr<User> ada = store->CreateUser(Named("ada"));
  ASSERT_THAT(ada, IsOk());
  // Several pooled connections.
  std::vector<std::thread> threads;
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 5; ++i)
        EXPECT_THAT(store->FindByUsername("ada"), IsOk());
    });
  }
  for (std::thread& t : threads) t.join();
  const std::string terminate = absl::StrCat(
      "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE "
      "application_name = '",
      schema_, "'");
  EXPECT_NE(Text(terminate), "0");
  WaitUntilSessionsAreGone();
  for (int i = 0; i < 6; ++i) {
    EXPECT_THAT(store->FindByUsername("ada"), IsOk());
    EXPECT_THAT(store->RecordLogin(ada->id, absl::Now()), IsOk());
  }
  EXPECT_NE(Text(terminate), "0");
  WaitUntilSessionsAreGone();
  EXPECT_THAT(store->CreateUser(Named("bob")), IsOk());
}

TEST_F(PostgresUserStoreTest,
       StoppedServerIsUnavailableThenRecoversWithoutReopening) {
  // A password in the URL (ignored by the trust cluster) must never show.
  const std::string url =
      absl::StrCat("postgresql://postgres:s3cret-pw@", host_and_db_,
                   "?options=-c%20search_path%3D", schema_);
  absl::StatusOr<std::unique_ptr<PostgresUserStore>> opened =
      PostgresUserStore::Open(url);
  ASSERT_THAT(opened, IsOk());
  PostgresUserStore& store = **opened;
  absl::StatusOr<User> ada = store.CreateUser(Named("ada"));
  ASSERT_THAT(ada, IsOk());

  ASSERT_EQ(Cluster("stop"), 0);
  const absl::Time start = absl::Now();
  absl::StatusOr<std::optional<User>> found = store.FindByUsername("ada");
  EXPECT_THAT(found, HasCode(absl::StatusCode::kUnavailable));
  EXPECT_THAT(found.status().message(),
              AllOf(HasSubstr(absl::StrCat("user store postgresql://",
                                           host_and_db_, ": ")),
                    Not(HasSubstr("s3cret")), Not(HasSubstr("ada"))));
  absl::StatusOr<User> bob = store.CreateUser(Named("bob"));
  EXPECT_THAT(bob, HasCode(absl::StatusCode::kUnavailable));
  EXPECT_THAT(bob.status().message(),
              AllOf(Not(HasSubstr("s3cret")), Not(HasSubstr("bob"))));
  EXPECT_THAT(store.SetActive(ada->id, false),
              HasCode(absl::StatusCode::kUnavailable));
  EXPECT_THAT(store.ListUsers(), HasCode(absl::StatusCode::kUnavailable));
  EXPECT_THAT(store.SchemaVersion(), HasCode(absl::StatusCode::kUnavailable));
  EXPECT_LT(absl::Now() - start,
            absl::Seconds(5));  // refused at once, not timed out

  ASSERT_EQ(Cluster("start"), 0);
  PQreset(admin_);
  EXPECT_THAT(store.FindByUsername("ada"), IsOk());
  EXPECT_THAT(store.CreateUser(Named("bob")), IsOk());
  EXPECT_THAT(store.SetActive(ada->id, false), IsOk());
  EXPECT_EQ(store.ListUsers()->size(), 2u);
}

TEST_F(PostgresUserStoreTest, RestartUnderPooledConnectionsCostsNoFailedCall) {
  auto store = MustOpen();
  ASSERT_NE(store, nullptr);
  absl::StatusOr<User> ada = store->CreateUser(Named("ada"));
  ASSERT_THAT(ada, IsOk());
  std::vector<std::thread> threads;
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 5; ++i) EXPECT_THAT(store->FindById(ada->id), IsOk());
    });
  }
  for (std::thread& t : threads) t.join();

  ASSERT_EQ(Cluster("restart"), 0);
  PQreset(admin_);
  for (int i = 0; i < 6; ++i) {
    EXPECT_THAT(
        store->RecordLogin(ada->id, absl::FromUnixSeconds(1'700'000'000 + i)),
        IsOk());
    EXPECT_THAT(store->FindByUsername("ada"), IsOk());
  }
  EXPECT_THAT(store->CreateUser(Named("bob")), IsOk());
}

// ------------------------------------------------- factory (no server)

TEST(UserStoreFactory, PostgresUrlsAreRemoteAndEverythingElseIsAFile) {
  EXPECT_TRUE(IsRemoteStore("postgresql://u@h:5432/db"));
  EXPECT_TRUE(IsRemoteStore("postgres://h/db"));
  EXPECT_FALSE(IsRemoteStore("data/jwtauth.sqlite3"));
  EXPECT_FALSE(IsRemoteStore("/var/lib/jwtauth/postgresql://x"));
  EXPECT_FALSE(
      IsRemoteStore("PostgreSQL://h/db"));  // libpq knows only lower case
  EXPECT_FALSE(IsRemoteStore("host=db dbname=x"));
  EXPECT_FALSE(IsRemoteStore(""));
}

TEST(UserStoreFactory, RedactDatabaseDropsPasswordsOnly) {
  EXPECT_EQ(RedactDatabase("data/jwtauth.sqlite3"), "data/jwtauth.sqlite3");
  EXPECT_EQ(RedactDatabase("postgresql://jwtauth@db:5432/jwtauth"),
            "postgresql://jwtauth@db:5432/jwtauth");
  EXPECT_EQ(RedactDatabase("postgresql://jwtauth:pw@db:5432/jwtauth"),
            "postgresql://jwtauth@db:5432/jwtauth");
  EXPECT_EQ(RedactDatabase("postgres://:pw@db/x"), "postgres://@db/x");
  EXPECT_EQ(RedactDatabase("postgresql://u:p%40ss:w@rd@db/x?sslmode=require"),
            "postgresql://u@db/x?sslmode=require");
  EXPECT_EQ(RedactDatabase(
                "postgresql://db/x?password=pw&sslmode=require&sslpassword=k"),
            "postgresql://db/x?sslmode=require");
  EXPECT_EQ(RedactDatabase("postgresql://db/x?PASSWORD=pw"),
            "postgresql://db/x");
  EXPECT_EQ(RedactDatabase("postgresql:///x"), "postgresql:///x");
}

TEST(UserStoreFactory, OpensSqliteForPathsAndHonoursCreateOrMigrate) {
  char tmpl[] = "/tmp/jwtauth-factory-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  const std::string path = absl::StrCat(tmpl, "/users.sqlite3");
  StoreOpenOptions no_create;
  no_create.create_or_migrate = false;
  EXPECT_THAT(OpenUserStore(path, no_create),
              HasCode(absl::StatusCode::kUnavailable));
  absl::StatusOr<std::unique_ptr<UserStore>> store = OpenUserStore(path);
  ASSERT_THAT(store, IsOk());
  EXPECT_NE(dynamic_cast<SqliteUserStore*>(store->get()), nullptr);
  EXPECT_THAT(OpenUserStore(path, no_create), IsOk());
  store->reset();
  for (const char* suffix : {"", "-wal", "-shm"})
    std::remove((path + suffix).c_str());
  ::rmdir(tmpl);
}

}  // namespace
}  // namespace jwtauth::server
