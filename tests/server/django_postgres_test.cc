// A PostgreSQL database made by a real Django project (Debian's Django 3.2,
// tests/server/django_db.py) works unchanged with jwtauth-server's PostgreSQL
// store: Django-made users log in through the real binaries, a user made by
// jwtauth-admin is one Django authenticates, and Django still considers its
// schema fully migrated afterwards. The PostgreSQL twin of server_binary_test's
// DjangoMadeDatabaseLogsInUnchanged.
//
// Runs inside the ctest fixture "postgres", in a fresh database of its own
// (the fixture's jwtauth_test database is shared with other tests).
#include <libpq-fe.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "client/auth_client.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "jwt/json.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/temp_dir.h"

namespace jwtauth::server {
namespace {

using ::jwtauth::testing::Subprocess;
using ::jwtauth::testing::TempDir;
using ::jwtauth::testing::WaitForFile;
using ::testing::HasSubstr;
using ::testing::StartsWith;

// As in django_db.py; they reach the programs on standard input only.
constexpr char kAlicePassword[] = "wonderland";
constexpr char kCarolPassword[] = "through-the-looking-glass";
constexpr char kBobPassword[] = "jabberwocky";

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// WithDatabase returns `url` (postgresql://user@host:port/db) naming
// database `db` instead.
std::string WithDatabase(const std::string& url, const std::string& db) {
  return absl::StrCat(url.substr(0, url.rfind('/') + 1), db);
}

// RunDjango runs tests/server/django_db.py `mode` on `url` and returns its
// JSON answer.
jwt::Json RunDjango(const std::string& mode, const std::string& url) {
  Subprocess django({JWTAUTH_PYTHON3,
                     std::string(JWTAUTH_TESTS_DIR) + "/server/django_db.py",
                     mode, url});
  EXPECT_EQ(django.Run(), 0) << mode << ": " << django.Stderr();
  absl::StatusOr<jwt::Json> answer = jwt::ParseJson(django.Stdout());
  EXPECT_TRUE(answer.ok()) << answer.status() << "\n" << django.Stdout();
  return answer.ok() ? *answer : jwt::Json::Object();
}

// At returns json[key] (or json[key][field]) serialised, "<missing>" when
// absent, so whole values compare in one EXPECT_EQ.
std::string At(const jwt::Json& json, const std::string& key,
               const std::string& field = "") {
  const jwt::Json* v = json.Find(key);
  if (v != nullptr && !field.empty()) v = v->Find(field);
  return v != nullptr ? jwt::SerializeJson(*v) : "<missing>";
}

// IsTrue is whether json[key] is the JSON literal true.
bool IsTrue(const jwt::Json& json, const std::string& key) {
  const jwt::Json* v = json.Find(key);
  EXPECT_TRUE(v != nullptr && v->is_bool()) << key;
  return v != nullptr && v->bool_value();
}

class DjangoPostgres : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* url_file = std::getenv("JWTAUTH_TEST_PG_URL_FILE");
    ASSERT_NE(url_file, nullptr) << "run under ctest (fixture postgres)";
    const std::string shared_url =
        std::string(absl::StripAsciiWhitespace(ReadAll(url_file)));
    ASSERT_FALSE(shared_url.empty()) << url_file;
    db_ = absl::StrCat("django_compat_", ::getpid());
    url_ = WithDatabase(shared_url, db_);
    admin_ = PQconnectdb(WithDatabase(shared_url, "postgres").c_str());
    ASSERT_EQ(PQstatus(admin_), CONNECTION_OK) << PQerrorMessage(admin_);
    PQsetNoticeProcessor(
        admin_, [](void*, const char*) {}, nullptr);
    ASSERT_TRUE(Exec(absl::StrCat("DROP DATABASE IF EXISTS ", db_)));
    ASSERT_TRUE(Exec(absl::StrCat("CREATE DATABASE ", db_)));
    created_ = true;
  }

  void TearDown() override {
    client_.reset();
    if (server_ != nullptr && server_->running()) {
      server_->Signal(SIGTERM);
      EXPECT_EQ(server_->WaitFor(absl::Seconds(30)), 0) << server_->Stderr();
    }
    if (created_) {
      EXPECT_TRUE(
          Exec(absl::StrCat("DROP DATABASE IF EXISTS ", db_, " WITH (FORCE)")));
    }
    PQfinish(admin_);
  }

  bool Exec(const std::string& sql) {
    PGresult* r = PQexec(admin_, sql.c_str());
    const bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    EXPECT_TRUE(ok) << sql << ": " << PQerrorMessage(admin_);
    PQclear(r);
    return ok;
  }

  // QueryOne returns the first value `sql` reads from the test's database.
  std::string QueryOne(const std::string& sql) {
    PGconn* conn = PQconnectdb(url_.c_str());
    PGresult* r = PQexec(conn, sql.c_str());
    std::string value;
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0) {
      value = PQgetvalue(r, 0, 0);
    } else {
      ADD_FAILURE() << sql << ": " << PQerrorMessage(conn);
    }
    PQclear(r);
    PQfinish(conn);
    return value;
  }

  // StartServer runs jwtauth-server on the test's database with its
  // defaults (jwtauth's migrations run at start) and connects a client.
  void StartServer() {
    const std::string secret = dir_.File("secret.key");
    std::ofstream(secret) << "django compat secret of well over thirty-two";
    ::chmod(secret.c_str(), 0600);
    const std::string port_file = dir_.File("port");
    // --hash_nice=0: Django's hashes are 260,000 iterations, and at the
    // default nice 19 a login next to a CPU-bound parallel test gets ~1.5 %
    // of a core and outlives the client's 10 s deadline (seen in ctest -j2;
    // reproduced 3 of 3 next to two `yes > /dev/null`). Logins yielding to
    // token checks is tested elsewhere; this test is about Django's data.
    server_ = std::make_unique<Subprocess>(std::vector<std::string>{
        JWTAUTH_SERVER_BIN, "--listen=127.0.0.1:0", "--database=" + url_,
        "--secret_key_file=" + secret, "--data_dir=" + dir_.path(),
        "--port_file=" + port_file, "--hash_nice=0"});
    ASSERT_TRUE(server_->Start());
    const std::string port = WaitForFile(port_file, absl::Seconds(30));
    ASSERT_FALSE(port.empty()) << server_->Stderr();
    client_ = std::make_unique<client::AuthClient>(
        grpc::CreateChannel(
            absl::StrCat("127.0.0.1:", absl::StripAsciiWhitespace(port)),
            grpc::InsecureChannelCredentials()),
        absl::Seconds(10));
  }

  // ExpectRefused expects Obtain(username, password) to be refused as
  // djangorestframework-jwt refuses bad credentials.
  void ExpectRefused(const std::string& username, const std::string& password) {
    absl::StatusOr<client::IssuedToken> token =
        client_->Obtain(username, password);
    EXPECT_EQ(token.status().code(), absl::StatusCode::kUnauthenticated)
        << username << ": " << token.status();
    EXPECT_EQ(token.status().message(),
              "Unable to log in with provided credentials.")
        << username;
  }

  TempDir dir_;
  std::string db_, url_;
  PGconn* admin_ = nullptr;
  bool created_ = false;
  std::unique_ptr<Subprocess> server_;
  std::unique_ptr<client::AuthClient> client_;
};

TEST_F(DjangoPostgres, DjangoMadePostgresDatabase_ServesLoginsUnchanged) {
  // Django 3.2's own migrations and create_user: alice active, carol
  // inactive and in a group, 260,000-iteration pbkdf2_sha256 hashes.
  const jwt::Json made = RunDjango("create", url_);
  ASSERT_EQ(At(made, "count"), "2");
  ASSERT_NE(made.Find("tables"), nullptr);
  // Django before 4.1 makes auth_user.id a serial (a sequence default), not
  // the identity column jwtauth's own migration would create: a schema that
  // is not jwtauth's.
  EXPECT_THAT(At(made, "auth_user_columns"),
              HasSubstr("id integer NOT NULL DEFAULT nextval("));
  EXPECT_THAT(At(made, "alice", "password"),
              StartsWith("\"pbkdf2_sha256$260000$"));
  const absl::Time before_login = absl::Now();

  ASSERT_NO_FATAL_FAILURE(StartServer());
  absl::StatusOr<client::IssuedToken> alice =
      client_->Obtain("alice", kAlicePassword);
  ASSERT_TRUE(alice.ok()) << alice.status() << "\n" << server_->Stderr();
  absl::StatusOr<client::VerifiedToken> verified =
      client_->Verify(alice->token);
  ASSERT_TRUE(verified.ok()) << verified.status();
  EXPECT_EQ(verified->username, "alice");
  ExpectRefused("carol", kCarolPassword);  // inactive
  ExpectRefused("alice", "Wonderland");

  // A user made by jwtauth-admin next to Django's (password on stdin).
  Subprocess add(
      {JWTAUTH_ADMIN_BIN, "--database=" + url_, "--pbkdf2_iterations=1000",
       "users", "add", "bob", "--email=bob@example.com"},
      {}, absl::StrCat(kBobPassword, "\n"));
  ASSERT_EQ(add.Run(), 0) << add.Stderr();
  EXPECT_TRUE(client_->Obtain("bob", kBobPassword).ok());

  // Django still considers its schema migrated (django_db.py runs
  // `migrate --check`), sees the same rows and authenticates both.
  const jwt::Json checked = RunDjango("check", url_);
  ASSERT_NE(checked.Find("alice"), nullptr);
  EXPECT_EQ(At(checked, "count"), "3");
  EXPECT_EQ(At(checked, "usernames"), R"(["alice","bob","carol"])");
  EXPECT_TRUE(IsTrue(checked, "alice_authenticates"));
  EXPECT_TRUE(IsTrue(checked, "bob_authenticates"));
  EXPECT_FALSE(IsTrue(checked, "carol_authenticates"));  // inactive
  for (const char* field :
       {"id", "email", "is_active", "date_joined_us", "password"}) {
    EXPECT_EQ(At(checked, "alice", field), At(made, "alice", field)) << field;
  }
  EXPECT_EQ(At(checked, "carol"), At(made, "carol"));
  // The server recorded alice's login as Django's update_last_login does.
  const jwt::Json* last_login = checked.Find("alice")->Find("last_login_us");
  ASSERT_TRUE(last_login != nullptr && last_login->int_value().has_value())
      << At(checked, "alice");
  EXPECT_GE(*last_login->int_value(), absl::ToUnixMicros(before_login));
  EXPECT_LE(*last_login->int_value(), absl::ToUnixMicros(absl::Now()));
  EXPECT_EQ(At(checked, "bob", "email"), R"("bob@example.com")");
  EXPECT_EQ(At(checked, "bob", "is_active"), "true");

  // jwtauth left Django's auth_user's columns and indexes as Django made them
  // and added only its own tables (version, revocations).
  EXPECT_EQ(At(checked, "auth_user_columns"), At(made, "auth_user_columns"));
  EXPECT_EQ(At(checked, "auth_user_indexes"), At(made, "auth_user_indexes"));
  std::vector<std::string> tables;
  for (const jwt::Json& t : made.Find("tables")->items())
    tables.push_back(t.string_value());
  for (const char* own : {"jwtauth_schema_migrations", "jwtauth_revocation_seq",
                          "jwtauth_revoked", "jwtauth_user_state"}) {
    tables.push_back(own);
  }
  std::sort(tables.begin(), tables.end());
  jwt::Json expected_tables = jwt::Json::Array();
  for (const std::string& t : tables)
    expected_tables.Append(jwt::Json::String(t));
  EXPECT_EQ(At(checked, "tables"), jwt::SerializeJson(expected_tables));

  // Django upgraded bob's 1000-iteration hash when it authenticated him (after
  // django_db.py read his row); jwtauth still logs him in with it.
  EXPECT_THAT(At(checked, "bob", "password"),
              StartsWith("\"pbkdf2_sha256$1000$"));
  EXPECT_THAT(QueryOne("SELECT password FROM auth_user WHERE username = 'bob'"),
              StartsWith("pbkdf2_sha256$260000$"));
  EXPECT_TRUE(client_->Obtain("bob", kBobPassword).ok());
}

}  // namespace
}  // namespace jwtauth::server
