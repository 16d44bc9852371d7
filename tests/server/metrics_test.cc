// MetricsRegistry and AuthMetrics: the exact text exposition (format 0.0.4),
// registration rules, exact totals under concurrency, and a cross-check with
// Debian's python3-prometheus-client parser (prometheus_parse.py).
#include "server/metrics.h"

#include <unistd.h>

#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "jwt/json.h"
#include "server/auth_error.h"
#include "server/auth_metrics.h"
#include "tests/testing/test_util.h"

namespace jwtauth::server {
namespace {

using ::jwtauth::testing::IsOk;
using ::testing::HasSubstr;
using ::testing::Not;

TEST(MetricsRegistry, CounterRendersHelpTypeAndValue) {
  MetricsRegistry r;
  Counter* c = *r.AddCounter("requests_total", "Requests served.");
  c->Increment();
  c->Increment(41);
  EXPECT_EQ(r.Render(),
            "# HELP requests_total Requests served.\n"
            "# TYPE requests_total counter\n"
            "requests_total 42\n");
}

TEST(MetricsRegistry, SeriesOfOneFamilyShareOneHelpAndTypeLine) {
  MetricsRegistry r;
  Counter* ok = *r.AddCounter("calls_total", "Calls.",
                              {{"method", "Verify"}, {"outcome", "OK"}});
  Counter* expired =
      *r.AddCounter("calls_total", "Calls.",
                    {{"method", "Verify"}, {"outcome", "TOKEN_EXPIRED"}});
  ok->Increment(3);
  expired->Increment();
  EXPECT_EQ(r.Render(),
            "# HELP calls_total Calls.\n"
            "# TYPE calls_total counter\n"
            "calls_total{method=\"Verify\",outcome=\"OK\"} 3\n"
            "calls_total{method=\"Verify\",outcome=\"TOKEN_EXPIRED\"} 1\n");
}

TEST(MetricsRegistry, HistogramBucketsAreCumulativeWithInfSumAndCount) {
  MetricsRegistry r;
  Histogram* h = *r.AddHistogram("latency_seconds", "Latency.",
                                 {{"method", "Get"}}, {0.001, 0.01, 0.1});
  h->Observe(0.0005);  // first bucket
  h->Observe(0.001);   // on a bound: counts in that bucket (le is <=)
  h->Observe(0.05);    // third bucket
  h->Observe(3);       // only +Inf
  EXPECT_EQ(r.Render(),
            "# HELP latency_seconds Latency.\n"
            "# TYPE latency_seconds histogram\n"
            "latency_seconds_bucket{method=\"Get\",le=\"0.001\"} 2\n"
            "latency_seconds_bucket{method=\"Get\",le=\"0.01\"} 2\n"
            "latency_seconds_bucket{method=\"Get\",le=\"0.1\"} 3\n"
            "latency_seconds_bucket{method=\"Get\",le=\"+Inf\"} 4\n"
            "latency_seconds_sum{method=\"Get\"} 3.0515\n"
            "latency_seconds_count{method=\"Get\"} 4\n");
}

TEST(MetricsRegistry, HistogramWithoutLabelsHasOnlyLeLabel) {
  MetricsRegistry r;
  Histogram* h = *r.AddHistogram("d_seconds", "D.", {}, {1});
  h->ObserveDuration(absl::Milliseconds(500));
  EXPECT_EQ(r.Render(),
            "# HELP d_seconds D.\n"
            "# TYPE d_seconds histogram\n"
            "d_seconds_bucket{le=\"1\"} 1\n"
            "d_seconds_bucket{le=\"+Inf\"} 1\n"
            "d_seconds_sum 0.5\n"
            "d_seconds_count 1\n");
}

TEST(MetricsRegistry, NanObservationIsIgnored) {
  MetricsRegistry r;
  Histogram* h = *r.AddHistogram("x_seconds", "X.", {}, {1});
  h->Observe(std::nan(""));
  EXPECT_EQ(h->Read().count, 0u);
  EXPECT_EQ(h->Read().sum, 0);
}

TEST(MetricsRegistry, LabelValuesAndHelpAreEscaped) {
  MetricsRegistry r;
  ASSERT_THAT(r.AddCounter("odd_total", "Back\\slash and\nnew line \"kept\".",
                           {{"v", "a\\b\"c\nd"}}),
              IsOk());
  EXPECT_EQ(r.Render(),
            "# HELP odd_total Back\\\\slash and\\nnew line \"kept\".\n"
            "# TYPE odd_total counter\n"
            "odd_total{v=\"a\\\\b\\\"c\\nd\"} 0\n");
}

TEST(MetricsRegistry, GaugeAndCounterCallbacksAreReadAtRender) {
  MetricsRegistry r;
  double size = 3;
  ASSERT_THAT(r.AddGaugeCallback("cache_entries", "Entries.", {},
                                 [&size] { return size; }),
              IsOk());
  ASSERT_THAT(r.AddCounterCallback("cache_hits_total", "Hits.",
                                   {{"cache", "token"}}, [] { return 7.0; }),
              IsOk());
  EXPECT_THAT(r.Render(), HasSubstr("# TYPE cache_entries gauge\n"
                                    "cache_entries 3\n"));
  size = 0.25;
  const std::string text = r.Render();
  EXPECT_THAT(text, HasSubstr("cache_entries 0.25\n"));
  EXPECT_THAT(text, HasSubstr("# TYPE cache_hits_total counter\n"
                              "cache_hits_total{cache=\"token\"} 7\n"));
}

TEST(MetricsRegistry, InvalidNamesAreRefused) {
  MetricsRegistry r;
  EXPECT_FALSE(r.AddCounter("", "h").ok());
  EXPECT_FALSE(r.AddCounter("9lives", "h").ok());
  EXPECT_FALSE(r.AddCounter("has-dash", "h").ok());
  EXPECT_FALSE(r.AddCounter("ok_total", "h", {{"bad-label", "v"}}).ok());
  EXPECT_FALSE(r.AddCounter("ok_total", "h", {{"__reserved", "v"}}).ok());
  EXPECT_FALSE(r.AddCounter("ok_total", "h", {{"a", "1"}, {"a", "2"}}).ok());
  EXPECT_FALSE(r.AddCounter("ok_total", "h", {{"a", "\xff"}}).ok());
  EXPECT_FALSE(r.AddHistogram("h_seconds", "h", {{"le", "1"}}, {1}).ok());
  EXPECT_THAT(r.AddCounter("name:with_colon_total", "h", {{"a_1", "é"}}),
              IsOk());
}

TEST(MetricsRegistry, ConflictingRegistrationsAreRefused) {
  MetricsRegistry r;
  ASSERT_THAT(r.AddCounter("c_total", "C.", {{"m", "a"}}), IsOk());
  EXPECT_FALSE(r.AddCounter("c_total", "C.", {{"m", "a"}}).ok());  // twice
  EXPECT_FALSE(r.AddCounter("c_total", "Other help.", {{"m", "b"}}).ok());
  EXPECT_FALSE(r.AddCounter("c_total", "C.", {{"x", "b"}}).ok());
  EXPECT_FALSE(r.AddGaugeCallback("c_total", "C.", {{"m", "b"}}, [] {
                  return 1.0;
                }).ok());
  EXPECT_FALSE(r.AddGaugeCallback("g", "G.", {}, nullptr).ok());
  ASSERT_THAT(r.AddHistogram("h_seconds", "H.", {{"m", "a"}}, {1, 2}), IsOk());
  EXPECT_FALSE(r.AddHistogram("h_seconds", "H.", {{"m", "b"}}, {1, 3}).ok());
  EXPECT_FALSE(r.AddCounter("h_seconds_count", "H.").ok());
  EXPECT_FALSE(r.AddHistogram("bad_seconds", "B.", {}, {2, 1}).ok());
  EXPECT_FALSE(r.AddHistogram("bad_seconds", "B.", {}, {1, 1}).ok());
  EXPECT_FALSE(
      r.AddHistogram("bad_seconds", "B.", {}, {1, HUGE_VAL}).ok());  // +Inf
  // Nothing refused was rendered.
  EXPECT_THAT(r.Render(), Not(HasSubstr("bad_seconds")));
}

TEST(MetricsRegistry, FormatMetricValueIsShortestRoundTrip) {
  EXPECT_EQ(FormatMetricValue(0), "0");
  EXPECT_EQ(FormatMetricValue(0.1), "0.1");
  EXPECT_EQ(FormatMetricValue(0.00025), "0.00025");
  EXPECT_EQ(FormatMetricValue(0.0001), "0.0001");
  EXPECT_EQ(FormatMetricValue(10), "10");
  EXPECT_EQ(FormatMetricValue(1e6), "1e+06");
  EXPECT_EQ(FormatMetricValue(1e21), "1e+21");
  EXPECT_EQ(FormatMetricValue(HUGE_VAL), "+Inf");
  EXPECT_EQ(FormatMetricValue(-HUGE_VAL), "-Inf");
  EXPECT_EQ(FormatMetricValue(std::nan("")), "NaN");
}

TEST(MetricsRegistry, DurationBucketsSpan100MicrosecondsTo10Seconds) {
  const std::vector<double>& b = DurationBuckets();
  ASSERT_FALSE(b.empty());
  EXPECT_EQ(b.front(), 0.0001);
  EXPECT_EQ(b.back(), 10);
}

TEST(MetricsRegistry, ConcurrentIncrementsAndObservationsAreExact) {
  MetricsRegistry r;
  Counter* c = *r.AddCounter("n_total", "N.");
  Histogram* h = *r.AddHistogram("v_seconds", "V.", {}, {0.5, 1.5});
  constexpr int kThreads = 8;
  constexpr int kPerThread = 100000;
  std::atomic<bool> stop{false};
  std::thread scraper([&] {
    while (!stop) EXPECT_THAT(r.Render(), HasSubstr("n_total "));
  });
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([c, h, t] {
      for (int i = 0; i < kPerThread; ++i) {
        c->Increment();
        h->Observe(t % 2 == 0 ? 1.0 : 2.0);  // sums stay exact in binary
      }
    });
  }
  for (std::thread& t : threads) t.join();
  stop = true;
  scraper.join();
  EXPECT_EQ(c->Value(), uint64_t{kThreads} * kPerThread);
  const Histogram::Snapshot s = h->Read();
  EXPECT_EQ(s.count, uint64_t{kThreads} * kPerThread);
  EXPECT_EQ(s.counts[0], 0u);
  EXPECT_EQ(s.counts[1], uint64_t{kThreads / 2} * kPerThread);
  EXPECT_EQ(s.counts[2], uint64_t{kThreads / 2} * kPerThread);
  EXPECT_EQ(s.sum, 1.5 * kThreads * kPerThread);
  EXPECT_THAT(r.Render(), HasSubstr("v_seconds_count 800000\n"));
}

TEST(AuthMetrics, EveryMethodAndOutcomeSeriesStartsAtZero) {
  std::unique_ptr<AuthMetrics> m = *AuthMetrics::Create({});
  const std::string text = m->Render();
  for (const char* method : {"ObtainToken", "RefreshToken", "VerifyToken",
                             "RevokeToken", "WatchRevocations", "GetJwks"}) {
    for (const char* outcome :
         {"OK", "BAD_CREDENTIALS", "TOKEN_EXPIRED", "THROTTLED",
          "STORE_UNAVAILABLE", "TOKEN_REVOKED", "OTHER"}) {
      EXPECT_THAT(
          text, HasSubstr(absl::StrCat("jwtauth_calls_total{method=\"", method,
                                       "\",outcome=\"", outcome, "\"} 0\n")));
    }
    EXPECT_THAT(text, HasSubstr(absl::StrCat(
                          "jwtauth_call_duration_seconds_bucket{method=\"",
                          method, "\",le=\"0.0001\"} 0\n")));
    EXPECT_THAT(text, HasSubstr(absl::StrCat(
                          "jwtauth_call_duration_seconds_bucket{method=\"",
                          method, "\",le=\"10\"} 0\n")));
  }
  EXPECT_THAT(text, HasSubstr("jwtauth_login_throttles_total 0\n"));
  EXPECT_THAT(text, HasSubstr("jwtauth_revocations_total{kind=\"token\"} 0\n"));
  EXPECT_THAT(
      text, HasSubstr("jwtauth_revocations_total{kind=\"all_sessions\"} 0\n"));
  EXPECT_THAT(text,
              HasSubstr("jwtauth_revocations_total{kind=\"over_cap\"} 0\n"));
  EXPECT_THAT(text, HasSubstr("jwtauth_store_errors_total 0\n"));
  // Callback series only when given.
  EXPECT_THAT(text, Not(HasSubstr("jwtauth_token_cache")));
}

TEST(AuthMetrics, RecordCallCountsTheOutcomeOfTheStatus) {
  std::unique_ptr<AuthMetrics> m = *AuthMetrics::Create({});
  m->RecordCall(AuthMethod::kVerifyToken, absl::OkStatus(),
                absl::Microseconds(50));
  m->RecordCall(AuthMethod::kVerifyToken,
                AuthFailure(absl::StatusCode::kUnauthenticated,
                            "Signature has expired.", "TOKEN_EXPIRED"),
                absl::Milliseconds(2));
  m->RecordCall(AuthMethod::kObtainToken, ThrottledFailure(30),
                absl::Milliseconds(1));
  m->RecordCall(AuthMethod::kObtainToken, StoreUnavailable(),
                absl::Seconds(20));
  m->RecordCall(AuthMethod::kRefreshToken, absl::InternalError("boom"),
                absl::Milliseconds(1));
  m->RecordCall(AuthMethod::kRevokeToken, CallOutcome::kTokenRevoked,
                absl::Milliseconds(1));
  m->RecordLoginThrottled();
  m->RecordRevocation(RevocationKind::kAllSessions);
  m->RecordStoreError();
  EXPECT_EQ(m->CallCount(AuthMethod::kVerifyToken, CallOutcome::kOk), 1u);
  EXPECT_EQ(m->CallCount(AuthMethod::kVerifyToken, CallOutcome::kTokenExpired),
            1u);
  EXPECT_EQ(m->CallCount(AuthMethod::kObtainToken, CallOutcome::kThrottled),
            1u);
  EXPECT_EQ(
      m->CallCount(AuthMethod::kObtainToken, CallOutcome::kStoreUnavailable),
      1u);
  EXPECT_EQ(m->CallCount(AuthMethod::kRefreshToken, CallOutcome::kOther), 1u);
  const std::string text = m->Render();
  EXPECT_THAT(text, HasSubstr("jwtauth_calls_total{method=\"RevokeToken\","
                              "outcome=\"TOKEN_REVOKED\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("jwtauth_call_duration_seconds_bucket{method="
                              "\"VerifyToken\",le=\"0.0001\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("jwtauth_call_duration_seconds_bucket{method="
                              "\"VerifyToken\",le=\"0.0025\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("jwtauth_call_duration_seconds_bucket{method="
                              "\"ObtainToken\",le=\"10\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("jwtauth_call_duration_seconds_bucket{method="
                              "\"ObtainToken\",le=\"+Inf\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("jwtauth_call_duration_seconds_count{method="
                              "\"VerifyToken\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("jwtauth_login_throttles_total 1\n"));
  EXPECT_THAT(
      text, HasSubstr("jwtauth_revocations_total{kind=\"all_sessions\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("jwtauth_store_errors_total 1\n"));
}

TEST(AuthMetrics, OutcomeNamesRoundTripAndUnknownReasonIsOther) {
  for (size_t i = 1; i + 1 < kCallOutcomeCount; ++i) {
    const auto outcome = static_cast<CallOutcome>(i);
    EXPECT_EQ(OutcomeFromReason(CallOutcomeName(outcome)), outcome);
  }
  EXPECT_EQ(OutcomeFromReason("OK"), CallOutcome::kOther);
  EXPECT_EQ(OutcomeFromReason("ada"), CallOutcome::kOther);
  EXPECT_EQ(OutcomeFromReason(""), CallOutcome::kOther);
  EXPECT_EQ(AuthMethodName(AuthMethod::kWatchRevocations), "WatchRevocations");
}

TEST(AuthMetrics, CallbackSeriesAreExportedWhenGiven) {
  AuthMetricsCallbacks callbacks;
  callbacks.token_cache_entries = [] { return 12.0; };
  callbacks.token_cache_hits = [] { return 100.0; };
  callbacks.token_cache_misses = [] { return 4.0; };
  callbacks.revocation_set_size = [] { return 2.0; };
  std::unique_ptr<AuthMetrics> m = *AuthMetrics::Create(std::move(callbacks));
  const std::string text = m->Render();
  EXPECT_THAT(text, HasSubstr("# TYPE jwtauth_token_cache_entries gauge\n"
                              "jwtauth_token_cache_entries 12\n"));
  EXPECT_THAT(text, HasSubstr("# TYPE jwtauth_token_cache_hits_total counter\n"
                              "jwtauth_token_cache_hits_total 100\n"));
  EXPECT_THAT(text, HasSubstr("jwtauth_token_cache_misses_total 4\n"));
  EXPECT_THAT(text, HasSubstr("# TYPE jwtauth_revocation_set_size gauge\n"
                              "jwtauth_revocation_set_size 2\n"));
}

TEST(AuthMetrics, ConcurrentRecordCallsAreExact) {
  std::unique_ptr<AuthMetrics> m = *AuthMetrics::Create({});
  constexpr int kThreads = 6;
  constexpr int kPerThread = 50000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&m, t] {
      const auto method = static_cast<AuthMethod>(t % 2);
      for (int i = 0; i < kPerThread; ++i) {
        m->RecordCall(
            method, i % 2 == 0 ? CallOutcome::kOk : CallOutcome::kTokenExpired,
            absl::Microseconds(300));
      }
    });
  }
  for (std::thread& t : threads) t.join();
  for (AuthMethod method :
       {AuthMethod::kObtainToken, AuthMethod::kRefreshToken}) {
    EXPECT_EQ(m->CallCount(method, CallOutcome::kOk),
              uint64_t{kThreads / 2} * kPerThread / 2);
    EXPECT_EQ(m->CallCount(method, CallOutcome::kTokenExpired),
              uint64_t{kThreads / 2} * kPerThread / 2);
  }
  EXPECT_THAT(m->Render(), HasSubstr("jwtauth_call_duration_seconds_count{"
                                     "method=\"ObtainToken\"} 150000\n"));
}

// ParseWithPrometheusClient runs prometheus_parse.py (Debian's
// python3-prometheus-client) on `text` and returns its JSON answer; a parse
// failure fails the test.
jwt::Json ParseWithPrometheusClient(const std::string& text) {
  char path[] = "/tmp/jwtauth-prom-XXXXXX";
  const int fd = ::mkstemp(path);
  EXPECT_GE(fd, 0);
  EXPECT_EQ(::write(fd, text.data(), text.size()),
            static_cast<ssize_t>(text.size()));
  ::close(fd);
  const std::string cmd =
      absl::StrCat(JWTAUTH_PYTHON3, " ", JWTAUTH_TESTS_DIR,
                   "/server/prometheus_parse.py ", path, " 2>&1");
  FILE* pipe = ::popen(cmd.c_str(), "r");
  std::string out;
  char buf[4096];
  size_t n;
  while (pipe != nullptr && (n = std::fread(buf, 1, sizeof buf, pipe)) > 0)
    out.append(buf, n);
  const int rc = pipe == nullptr ? -1 : ::pclose(pipe);
  ::unlink(path);
  EXPECT_EQ(rc, 0) << out;
  absl::StatusOr<jwt::Json> answer = jwt::ParseJson(out);
  EXPECT_THAT(answer, IsOk()) << out;
  return answer.ok() ? *answer : jwt::Json();
}

const jwt::Json* FindFamily(const jwt::Json& parsed, absl::string_view name) {
  const jwt::Json* families = parsed.Find("families");
  if (families == nullptr) return nullptr;
  for (const jwt::Json& f : families->items()) {
    if (f.Find("name")->string_value() == name) return &f;
  }
  return nullptr;
}

// SampleValue finds the sample `name` whose labels include all of `labels`.
std::string SampleValue(const jwt::Json& family, absl::string_view name,
                        const MetricLabels& labels) {
  for (const jwt::Json& s : family.Find("samples")->items()) {
    if (s.Find("name")->string_value() != name) continue;
    bool all = true;
    for (const auto& [k, v] : labels) {
      const jwt::Json* got = s.Find("labels")->Find(k);
      all = all && got != nullptr && got->string_value() == v;
    }
    if (all && s.Find("labels")->keys().size() == labels.size())
      return s.Find("value")->string_value();
  }
  return "(absent)";
}

TEST(PrometheusClientParser, ReadsEscapedLabelsHelpAndHistogramAsWritten) {
  MetricsRegistry r;
  Counter* c = *r.AddCounter("odd_total", "Quote \" back\\slash\nline.",
                             {{"v", "a\\b\"c\nd"}, {"w", "é"}});
  c->Increment(5);
  Histogram* h =
      *r.AddHistogram("lat_seconds", "Latency.", {{"m", "X"}}, {0.001, 0.5});
  h->Observe(0.0001);
  h->Observe(0.25);
  h->Observe(7);
  ASSERT_THAT(r.AddGaugeCallback("ratio", "Ratio.", {}, [] { return 0.125; }),
              IsOk());
  const jwt::Json parsed = ParseWithPrometheusClient(r.Render());

  const jwt::Json* odd = FindFamily(parsed, "odd");  // _total is stripped
  ASSERT_NE(odd, nullptr) << jwt::SerializeJson(parsed);
  EXPECT_EQ(odd->Find("type")->string_value(), "counter");
  EXPECT_EQ(odd->Find("help")->string_value(), "Quote \" back\\slash\nline.");
  EXPECT_EQ(SampleValue(*odd, "odd_total", {{"v", "a\\b\"c\nd"}, {"w", "é"}}),
            "5.0");

  const jwt::Json* lat = FindFamily(parsed, "lat_seconds");
  ASSERT_NE(lat, nullptr);
  EXPECT_EQ(lat->Find("type")->string_value(), "histogram");
  EXPECT_EQ(
      SampleValue(*lat, "lat_seconds_bucket", {{"m", "X"}, {"le", "0.001"}}),
      "1.0");
  EXPECT_EQ(
      SampleValue(*lat, "lat_seconds_bucket", {{"m", "X"}, {"le", "0.5"}}),
      "2.0");
  EXPECT_EQ(
      SampleValue(*lat, "lat_seconds_bucket", {{"m", "X"}, {"le", "+Inf"}}),
      "3.0");
  EXPECT_EQ(SampleValue(*lat, "lat_seconds_count", {{"m", "X"}}), "3.0");
  EXPECT_EQ(SampleValue(*lat, "lat_seconds_sum", {{"m", "X"}}), "7.2501");

  const jwt::Json* ratio = FindFamily(parsed, "ratio");
  ASSERT_NE(ratio, nullptr);
  EXPECT_EQ(ratio->Find("type")->string_value(), "gauge");
  EXPECT_EQ(SampleValue(*ratio, "ratio", {}), "0.125");
}

TEST(PrometheusClientParser, ReadsEveryAuthMetricsSeries) {
  AuthMetricsCallbacks callbacks;
  callbacks.token_cache_entries = [] { return 1.0; };
  callbacks.token_cache_hits = [] { return 2.0; };
  callbacks.token_cache_misses = [] { return 3.0; };
  callbacks.revocation_set_size = [] { return 4.0; };
  std::unique_ptr<AuthMetrics> m = *AuthMetrics::Create(std::move(callbacks));
  m->RecordCall(AuthMethod::kGetJwks, CallOutcome::kOk, absl::Milliseconds(3));
  const jwt::Json parsed = ParseWithPrometheusClient(m->Render());

  const jwt::Json* calls = FindFamily(parsed, "jwtauth_calls");
  ASSERT_NE(calls, nullptr) << jwt::SerializeJson(parsed);
  EXPECT_EQ(calls->Find("samples")->size(),
            kAuthMethodCount * kCallOutcomeCount);
  EXPECT_EQ(SampleValue(*calls, "jwtauth_calls_total",
                        {{"method", "GetJwks"}, {"outcome", "OK"}}),
            "1.0");
  const jwt::Json* durations =
      FindFamily(parsed, "jwtauth_call_duration_seconds");
  ASSERT_NE(durations, nullptr);
  // Per method: 16 bounds + +Inf, _sum, _count.
  EXPECT_EQ(durations->Find("samples")->size(),
            kAuthMethodCount * (DurationBuckets().size() + 3));
  EXPECT_EQ(SampleValue(*durations, "jwtauth_call_duration_seconds_bucket",
                        {{"method", "GetJwks"}, {"le", "0.0025"}}),
            "0.0");
  EXPECT_EQ(SampleValue(*durations, "jwtauth_call_duration_seconds_bucket",
                        {{"method", "GetJwks"}, {"le", "0.005"}}),
            "1.0");
  for (const char* family :
       {"jwtauth_login_throttles", "jwtauth_revocations",
        "jwtauth_store_errors", "jwtauth_token_cache_entries",
        "jwtauth_token_cache_hits", "jwtauth_token_cache_misses",
        "jwtauth_revocation_set_size"}) {
    EXPECT_NE(FindFamily(parsed, family), nullptr) << family;
  }
  EXPECT_EQ(SampleValue(*FindFamily(parsed, "jwtauth_revocation_set_size"),
                        "jwtauth_revocation_set_size", {}),
            "4.0");
}

}  // namespace
}  // namespace jwtauth::server
