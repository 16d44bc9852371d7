#include "bench/grpc_bench_studies.h"

#include <sched.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/mutex.h"

namespace jwtauth::bench {
namespace {

std::string Mib(int64_t bytes) {
  return absl::StrFormat("%.1f MiB",
                         static_cast<double>(bytes) / (1024.0 * 1024.0));
}

double P99Us(LoadResult& r) {
  std::sort(r.latencies_ns.begin(), r.latencies_ns.end());
  return PercentileUs(r.latencies_ns, 0.99);
}

std::string Row(const std::string& label, LoadResult& r) {
  std::sort(r.latencies_ns.begin(), r.latencies_ns.end());
  const double rps =
      r.window_s > 0 ? static_cast<double>(r.ok) / r.window_s : 0;
  return absl::StrFormat(
      "| %s | %.*f | %.0f | %.0f | %.0f | %d |\n", label, rps < 100 ? 2 : 0,
      rps, PercentileUs(r.latencies_ns, 0.5), PercentileUs(r.latencies_ns, 0.9),
      PercentileUs(r.latencies_ns, 0.99), r.errors);
}

std::string Ratios(const std::vector<double>& ratios) {
  std::string out;
  for (double r : ratios)
    absl::StrAppend(&out, out.empty() ? "" : ", ", absl::StrFormat("%.2f×", r));
  return out;
}

// IdleSpinners keeps `n` threads spinning at SCHED_IDLE while it lives: the
// CPUs are saturated, but the kernel runs any other runnable thread first
// (and preempts a spinner at once when one wakes).
class IdleSpinners {
 public:
  explicit IdleSpinners(int n) {
    std::atomic<int> granted{0};
    std::atomic<int> started{0};
    for (int i = 0; i < n; ++i) {
      threads_.emplace_back([this, &granted, &started] {
        sched_param param{};
        if (::sched_setscheduler(0, SCHED_IDLE, &param) == 0) ++granted;
        ++started;
        while (!stop_.load(std::memory_order_relaxed)) {
        }
      });
    }
    while (started.load() < n) std::this_thread::yield();
    idle_policy_ = granted.load() == n;
  }
  ~IdleSpinners() {
    stop_.store(true);
    for (std::thread& t : threads_) t.join();
  }
  IdleSpinners(const IdleSpinners&) = delete;
  IdleSpinners& operator=(const IdleSpinners&) = delete;

  bool idle_policy() const { return idle_policy_; }

 private:
  std::atomic<bool> stop_{false};
  bool idle_policy_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace

absl::StatusOr<MemoryStudy> RunMemoryStudy(const LoadSpec& spec,
                                           int64_t server_pid) {
  MemoryStudy m;
  m.calls = spec.max_calls;
  m.distinct_tokens = static_cast<int64_t>(spec.requests.size());
  std::atomic<int64_t> completed{0};
  LoadSpec s = spec;
  s.completed = &completed;
  m.rss_start = ProcessRssBytes(server_pid).value_or(0);

  common::Mutex mu;
  bool done = false;
  std::vector<std::pair<int64_t, int64_t>> samples;
  std::thread sampler([&] {
    common::MutexLock lock(&mu);
    for (;;) {
      if (mu.AwaitWithTimeout([&] { return done; }, absl::Milliseconds(250)))
        return;
      const int64_t n = completed.load(std::memory_order_relaxed);
      if (std::optional<int64_t> rss = ProcessRssBytes(server_pid))
        samples.emplace_back(n, *rss);
    }
  });
  absl::StatusOr<LoadResult> load = RunLoad(s, server_pid);
  {
    common::MutexLock lock(&mu);
    done = true;
  }
  sampler.join();
  if (!load.ok()) return load.status();
  m.load = *std::move(load);
  m.samples = std::move(samples);
  m.rss_end = ProcessRssBytes(server_pid).value_or(0);
  m.rss_max = m.rss_end;
  for (const auto& [n, rss] : m.samples) {
    m.rss_max = std::max(m.rss_max, rss);
    if (m.rss_after_pass == 0 && n >= m.distinct_tokens) m.rss_after_pass = rss;
  }
  if (m.rss_after_pass == 0) m.rss_after_pass = m.rss_end;
  m.growth = m.rss_after_pass > 0
                 ? static_cast<double>(m.rss_end) /
                           static_cast<double>(m.rss_after_pass) -
                       1
                 : 0;
  return m;
}

absl::StatusOr<StormStudy> RunStormStudy(const LoadSpec& verify,
                                         const LoadSpec& obtain,
                                         int64_t server_pid, int rounds) {
  StormStudy s;
  s.rounds = std::max(rounds, 1);
  s.spinners = Cores();
  s.spinners_idle_policy = true;
  // The storm starts first and outlasts the measured verify window.
  LoadSpec storm = obtain;
  storm.warmup = absl::ZeroDuration();
  storm.duration = verify.warmup + verify.duration + absl::Seconds(2);
  for (int round = 0; round < s.rounds; ++round) {
    absl::StatusOr<LoadResult> idle = RunLoad(verify, server_pid);
    if (!idle.ok()) return idle.status();
    const double idle_p99 = P99Us(*idle);

    absl::StatusOr<LoadResult> logins = absl::UnknownError("not run");
    std::thread storm_thread([&] { logins = RunLoad(storm, server_pid); });
    absl::SleepFor(absl::Seconds(1));
    absl::StatusOr<LoadResult> during = RunLoad(verify, server_pid);
    storm_thread.join();
    if (!during.ok()) return during.status();
    if (!logins.ok()) return logins.status();
    const double storm_p99 = P99Us(*during);

    absl::StatusOr<LoadResult> control = absl::UnknownError("not run");
    {
      IdleSpinners spin(s.spinners);
      s.spinners_idle_policy = s.spinners_idle_policy && spin.idle_policy();
      control = RunLoad(verify, server_pid);
    }
    if (!control.ok()) return control.status();
    const double control_p99 = P99Us(*control);

    if (idle_p99 > 0) {
      s.round_ratios.push_back(storm_p99 / idle_p99);
      s.control_round_ratios.push_back(control_p99 / idle_p99);
    }
    s.idle.Merge(*std::move(idle));
    s.storm.Merge(*std::move(during));
    s.logins.Merge(*std::move(logins));
    s.control.Merge(*std::move(control));
  }
  s.idle_p99_us = P99Us(s.idle);
  s.storm_p99_us = P99Us(s.storm);
  s.control_p99_us = P99Us(s.control);
  if (s.idle_p99_us > 0) {
    s.ratio = s.storm_p99_us / s.idle_p99_us;
    s.control_ratio = s.control_p99_us / s.idle_p99_us;
  }
  return s;
}

std::string MemoryMarkdown(const MemoryStudy& m) {
  LoadResult load = m.load;
  std::string md =
      absl::StrCat("\n### Server memory over ", m.calls, " VerifyToken calls (",
                   m.distinct_tokens,
                   " distinct tokens)\n\n| | req/s | p50 µs | p90 µs | p99 µs "
                   "| errors |\n|---|---:|---:|---:|---:|---|\n",
                   Row("VerifyToken, distinct tokens round-robin", load));
  absl::StrAppend(&md, "\n- Server RSS: ", Mib(m.rss_start), " before; ",
                  Mib(m.rss_after_pass),
                  " once every token had been verified once; ", Mib(m.rss_end),
                  " after the last call (max ", Mib(m.rss_max),
                  "): ", absl::StrFormat("%+.1f%%", 100 * m.growth),
                  " from the first pass to the end (target: within ±10%: ",
                  std::abs(m.growth) <= 0.10 ? "met" : "**NOT met**",
                  "). Samples every 250 ms: ", m.samples.size(), ".\n");
  return md;
}

std::string StormMarkdown(const StormStudy& s, const LoadSpec& verify,
                          const LoadSpec& obtain) {
  LoadResult idle = s.idle;
  LoadResult storm = s.storm;
  LoadResult control = s.control;
  LoadResult logins = s.logins;
  std::string md = absl::StrCat(
      "\n### VerifyToken latency during a login storm\n\n| | req/s | p50 µs | "
      "p90 µs | p99 µs | "
      "errors |\n|---|---:|---:|---:|---:|---|\n",
      Row("VerifyToken alone", idle),
      Row("VerifyToken during the storm", storm),
      Row(absl::StrCat("VerifyToken next to ", s.spinners,
                       " spinning idle-priority threads (control, no logins)"),
          control),
      Row("ObtainToken (the storm)", logins));
  absl::StrAppend(
      &md, "\n- VerifyToken: ", verify.connections, " connections × ",
      verify.in_flight, " in flight, ", absl::FormatDuration(verify.warmup),
      " warm-up + ", absl::FormatDuration(verify.duration), " per phase, ",
      s.rounds,
      " round(s) of alone → storm → control (each row pools its rounds); the "
      "storm: ObtainToken with the right password on ",
      obtain.connections, " connections × ", obtain.in_flight,
      " in flight, from 1 s before the VerifyToken load until after it.\n",
      absl::StrFormat(
          "- p99 during the storm / p99 alone = %.0f / %.0f µs = %.2f×",
          s.storm_p99_us, s.idle_p99_us, s.ratio),
      " (target ≤ 2×: ", s.ratio > 0 && s.ratio <= 2 ? "met" : "**NOT met**",
      "); per round: ", Ratios(s.round_ratios), ".\n",
      absl::StrFormat("- Control: p99 next to the spinners / p99 alone = %.0f "
                      "/ %.0f µs = %.2f×; per round: ",
                      s.control_p99_us, s.idle_p99_us, s.control_ratio),
      Ratios(s.control_round_ratios), ". The control's ", s.spinners,
      " threads run in grpc_bench at ",
      s.spinners_idle_policy ? "SCHED_IDLE"
                             : "normal priority (SCHED_IDLE was refused)",
      " and never touch the server: what the tail pays on this machine for "
      "CPUs that are saturated by work the kernel ranks below everything "
      "else.\n");
  return md;
}

jwt::Json MemoryJson(const MemoryStudy& m) {
  jwt::Json o = jwt::Json::Object();
  o.Set("calls", jwt::Json::Int(m.calls));
  o.Set("distinct_tokens", jwt::Json::Int(m.distinct_tokens));
  o.Set("ok", jwt::Json::Int(m.load.ok));
  o.Set("errors", jwt::Json::Int(m.load.errors));
  o.Set("window_s", jwt::Json::Double(m.load.window_s));
  o.Set("rss_start_bytes", jwt::Json::Int(m.rss_start));
  o.Set("rss_after_first_pass_bytes", jwt::Json::Int(m.rss_after_pass));
  o.Set("rss_end_bytes", jwt::Json::Int(m.rss_end));
  o.Set("rss_max_bytes", jwt::Json::Int(m.rss_max));
  o.Set("growth", jwt::Json::Double(m.growth));
  jwt::Json samples = jwt::Json::Array();
  for (const auto& [n, rss] : m.samples) {
    jwt::Json pair = jwt::Json::Array();
    pair.Append(jwt::Json::Int(n));
    pair.Append(jwt::Json::Int(rss));
    samples.Append(std::move(pair));
  }
  o.Set("samples_calls_rss", std::move(samples));
  return o;
}

jwt::Json StormJson(const StormStudy& s) {
  auto load = [](const LoadResult& r) {
    LoadResult c = r;
    std::sort(c.latencies_ns.begin(), c.latencies_ns.end());
    jwt::Json o = jwt::Json::Object();
    o.Set("ok", jwt::Json::Int(c.ok));
    o.Set("errors", jwt::Json::Int(c.errors));
    o.Set("rps", jwt::Json::Double(c.window_s > 0
                                       ? static_cast<double>(c.ok) / c.window_s
                                       : 0));
    o.Set("p50_us", jwt::Json::Double(PercentileUs(c.latencies_ns, 0.5)));
    o.Set("p99_us", jwt::Json::Double(PercentileUs(c.latencies_ns, 0.99)));
    return o;
  };
  jwt::Json o = jwt::Json::Object();
  o.Set("verify_alone", load(s.idle));
  o.Set("verify_during_storm", load(s.storm));
  o.Set("verify_next_to_idle_spinners", load(s.control));
  o.Set("logins", load(s.logins));
  o.Set("rounds", jwt::Json::Int(s.rounds));
  o.Set("spinners", jwt::Json::Int(s.spinners));
  o.Set("spinners_sched_idle", jwt::Json::Bool(s.spinners_idle_policy));
  o.Set("p99_ratio", jwt::Json::Double(s.ratio));
  o.Set("control_p99_ratio", jwt::Json::Double(s.control_ratio));
  auto list = [](const std::vector<double>& v) {
    jwt::Json a = jwt::Json::Array();
    for (double r : v) a.Append(jwt::Json::Double(r));
    return a;
  };
  o.Set("round_p99_ratios", list(s.round_ratios));
  o.Set("control_round_p99_ratios", list(s.control_round_ratios));
  return o;
}

}  // namespace jwtauth::bench
