// metrics.h: a registry of counters, histograms and callback gauges rendered
// in the Prometheus text exposition format 0.0.4 (hand-written, no client
// library).
//
// Every series is registered once, with all its label values fixed at
// registration; the registry hands back a stable pointer (`Counter*`,
// `Histogram*`) that the hot path keeps. Incrementing a counter or observing
// a histogram is a few relaxed atomic operations: no lock, no allocation, no
// lookup. There is no call that takes a label value at increment time, so a
// label can only ever hold a value the program chose at start-up (method
// names, ErrorInfo reasons), never request data such as a username or token.
//
//   MetricsRegistry registry;
//   Counter* ok = *registry.AddCounter("jwtauth_calls_total", "Calls.",
//                                      {{"method", "VerifyToken"},
//                                       {"outcome", "OK"}});
//   ok->Increment();                            // any thread, lock-free
//   std::string text = registry.Render();       // the /metrics body
//
// Series of one family (one metric name) must share help, type and label
// names; they are rendered together, families in registration order. Gauge
// and counter callbacks run at Render() time, on the scraping thread, with
// the registry's lock held: they must be quick and must not call the
// registry.
//
// Ownership: the registry owns every series; the pointers it returns live as
// long as the registry.
// Thread-safety: thread-safe. Counter and Histogram are thread-safe and
// lock-free.
#ifndef JWTAUTH_SERVER_METRICS_H_
#define JWTAUTH_SERVER_METRICS_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/mutex.h"

namespace jwtauth::server {

// Labels of one series: (name, value) pairs, in the order they are rendered.
using MetricLabels = std::vector<std::pair<std::string, std::string>>;

// Counter is a monotonically increasing count (Prometheus type counter).
class Counter {
 public:
  Counter() = default;
  Counter(const Counter&) = delete;
  Counter& operator=(const Counter&) = delete;

  // Increment adds `n`; lock-free.
  void Increment(uint64_t n = 1) {
    value_.fetch_add(n, std::memory_order_relaxed);
  }
  // Value returns the current count.
  uint64_t Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

// Histogram counts observations into fixed buckets (upper bounds, strictly
// increasing, +Inf implied) and keeps their sum (Prometheus type histogram).
class Histogram {
 public:
  // Use MetricsRegistry::AddHistogram.
  explicit Histogram(std::vector<double> bounds);
  Histogram(const Histogram&) = delete;
  Histogram& operator=(const Histogram&) = delete;

  // Observe records `value` in the first bucket whose bound is >= value;
  // lock-free (a binary search over the bounds, two atomic adds). NaN is
  // ignored.
  void Observe(double value);
  // ObserveDuration observes `d` in seconds.
  void ObserveDuration(absl::Duration d) { Observe(absl::ToDoubleSeconds(d)); }

  // Snapshot is a consistent-enough read for rendering: per-bucket counts
  // (not cumulative; the last is the +Inf bucket), their total and the sum.
  struct Snapshot {
    std::vector<uint64_t> counts;
    uint64_t count = 0;
    double sum = 0;
  };
  Snapshot Read() const;
  const std::vector<double>& bounds() const { return bounds_; }

 private:
  const std::vector<double> bounds_;
  // bounds_.size() + 1 entries; the last is +Inf.
  const std::unique_ptr<std::atomic<uint64_t>[]> counts_;
  std::atomic<uint64_t> sum_bits_{0};  // a double, updated by CAS
};

// DurationBuckets are the call-latency bucket bounds in seconds: 100 µs to
// 10 s in 1-2.5-5 steps.
const std::vector<double>& DurationBuckets();

class MetricsRegistry {
 public:
  MetricsRegistry() = default;
  MetricsRegistry(const MetricsRegistry&) = delete;
  MetricsRegistry& operator=(const MetricsRegistry&) = delete;

  // AddCounter registers the series `name{labels}` of a counter family.
  // INVALID_ARGUMENT for an invalid metric or label name (Prometheus data
  // model; label names starting "__" are reserved, "le" is refused too), a
  // label value that is not UTF-8, help, type or label names differing from
  // the family's earlier series, or a series registered twice.
  absl::StatusOr<Counter*> AddCounter(absl::string_view name,
                                      absl::string_view help,
                                      MetricLabels labels = {});

  // AddHistogram registers a histogram series with `bounds` (strictly
  // increasing, finite; +Inf implied). Errors as AddCounter, and
  // INVALID_ARGUMENT for bad bounds or bounds differing from the family's.
  absl::StatusOr<Histogram*> AddHistogram(absl::string_view name,
                                          absl::string_view help,
                                          MetricLabels labels,
                                          std::vector<double> bounds);

  // AddGaugeCallback registers a gauge whose value `read` returns at each
  // Render(). Errors as AddCounter; INVALID_ARGUMENT for a null `read`.
  absl::Status AddGaugeCallback(absl::string_view name, absl::string_view help,
                                MetricLabels labels,
                                std::function<double()> read);

  // AddCounterCallback registers a counter whose value is kept elsewhere
  // (e.g. a cache's hit count) and read by `read` at each Render().
  absl::Status AddCounterCallback(absl::string_view name,
                                  absl::string_view help, MetricLabels labels,
                                  std::function<double()> read);

  // Render returns every family in the text exposition format 0.0.4:
  // "# HELP" and "# TYPE" lines, then one line per series (histograms:
  // cumulative _bucket lines up to le="+Inf", then _sum and _count).
  std::string Render() const;

 private:
  enum class Type { kCounter, kGauge, kHistogram };
  struct Series {
    MetricLabels labels;
    Counter* counter = nullptr;
    Histogram* histogram = nullptr;
    std::function<double()> read;
  };
  struct Family {
    std::string name;
    std::string help;
    Type type;
    std::vector<std::string> label_names;
    std::vector<double> bounds;
    std::vector<Series> series;
  };

  absl::StatusOr<Family*> FamilyFor(absl::string_view name,
                                    absl::string_view help, Type type,
                                    const MetricLabels& labels,
                                    const std::vector<double>& bounds)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // AddCallback registers a gauge or counter read at scrape time.
  absl::Status AddCallback(absl::string_view name, absl::string_view help,
                           Type type, MetricLabels labels,
                           std::function<double()> read);

  mutable common::Mutex mu_;
  std::vector<std::unique_ptr<Family>> families_ ABSL_GUARDED_BY(mu_);
  std::vector<std::unique_ptr<Counter>> counters_ ABSL_GUARDED_BY(mu_);
  std::vector<std::unique_ptr<Histogram>> histograms_ ABSL_GUARDED_BY(mu_);
};

// EscapeLabelValue escapes `value` for a label value in the text format:
// backslash, double quote and line feed become \\, \" and \n.
std::string EscapeLabelValue(absl::string_view value);

// FormatMetricValue writes `v` as the text format expects: the shortest
// decimal that reads back as `v`, in %g style as Prometheus's Go client
// writes it ("0.0001", "2.5", "1e+06"), or +Inf, -Inf, NaN.
std::string FormatMetricValue(double v);

}  // namespace jwtauth::server

#endif  // JWTAUTH_SERVER_METRICS_H_
