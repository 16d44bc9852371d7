#include "server/metrics.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <system_error>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "server/user_fields.h"

namespace jwtauth::server {
namespace {

uint64_t DoubleBits(double d) {
  uint64_t bits;
  std::memcpy(&bits, &d, sizeof bits);
  return bits;
}

double BitsDouble(uint64_t bits) {
  double d;
  std::memcpy(&d, &bits, sizeof d);
  return d;
}

bool IsMetricNameChar(char c, bool first, bool allow_colon) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_') return true;
  if (allow_colon && c == ':') return true;
  return !first && c >= '0' && c <= '9';
}

bool ValidName(absl::string_view name, bool allow_colon) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    if (!IsMetricNameChar(name[i], i == 0, allow_colon)) return false;
  }
  return true;
}

std::string EscapeHelp(absl::string_view help) {
  std::string out;
  out.reserve(help.size());
  for (char c : help) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

// AppendLabels appends `{a="x",b="y"}` (with `extra` last, e.g. le), or
// nothing when there are no labels at all.
void AppendLabels(std::string& out, const MetricLabels& labels,
                  absl::string_view extra_name = {},
                  absl::string_view extra_value = {}) {
  if (labels.empty() && extra_name.empty()) return;
  out += '{';
  bool first = true;
  for (const auto& [name, value] : labels) {
    if (!first) out += ',';
    first = false;
    absl::StrAppend(&out, name, "=\"", EscapeLabelValue(value), "\"");
  }
  if (!extra_name.empty()) {
    if (!first) out += ',';
    absl::StrAppend(&out, extra_name, "=\"", extra_value, "\"");
  }
  out += '}';
}

}  // namespace

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)),
      counts_(new std::atomic<uint64_t>[bounds_.size() + 1]) {
  for (size_t i = 0; i <= bounds_.size(); ++i) counts_[i].store(0);
}

void Histogram::Observe(double value) {
  if (std::isnan(value)) return;
  const auto bucket = static_cast<size_t>(
      std::lower_bound(bounds_.begin(), bounds_.end(), value) -
      bounds_.begin());
  counts_[bucket].fetch_add(1, std::memory_order_relaxed);
  uint64_t old_bits = sum_bits_.load(std::memory_order_relaxed);
  while (!sum_bits_.compare_exchange_weak(
      old_bits, DoubleBits(BitsDouble(old_bits) + value),
      std::memory_order_relaxed)) {
  }
}

Histogram::Snapshot Histogram::Read() const {
  Snapshot s;
  s.counts.resize(bounds_.size() + 1);
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    s.counts[i] = counts_[i].load(std::memory_order_relaxed);
    s.count += s.counts[i];
  }
  s.sum = BitsDouble(sum_bits_.load(std::memory_order_relaxed));
  return s;
}

const std::vector<double>& DurationBuckets() {
  static const std::vector<double>* const kBuckets = new std::vector<double>{
      0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
      0.05,   0.1,     0.25,   0.5,   1,      2.5,   5,    10};
  return *kBuckets;
}

std::string EscapeLabelValue(absl::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string FormatMetricValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  const std::to_chars_result r =
      std::to_chars(buf, buf + sizeof buf, v, std::chars_format::general);
  if (r.ec != std::errc()) return "NaN";  // unreachable: 64 chars suffice
  return std::string(buf, r.ptr);
}

absl::StatusOr<MetricsRegistry::Family*> MetricsRegistry::FamilyFor(
    absl::string_view name, absl::string_view help, Type type,
    const MetricLabels& labels, const std::vector<double>& bounds) {
  if (!ValidName(name, /*allow_colon=*/true)) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid metric name \"", name, "\""));
  }
  std::vector<std::string> label_names;
  for (const auto& [label, value] : labels) {
    if (!ValidName(label, /*allow_colon=*/false) ||
        absl::StartsWith(label, "__") ||
        (type == Type::kHistogram && label == "le")) {
      return absl::InvalidArgumentError(absl::StrCat(
          "metric ", name, ": invalid label name \"", label, "\""));
    }
    if (std::find(label_names.begin(), label_names.end(), label) !=
        label_names.end()) {
      return absl::InvalidArgumentError(
          absl::StrCat("metric ", name, ": label ", label, " given twice"));
    }
    if (CountCodePoints(value) < 0) {  // not UTF-8
      return absl::InvalidArgumentError(absl::StrCat(
          "metric ", name, ": value of label ", label, " is not UTF-8"));
    }
    label_names.push_back(label);
  }
  for (const std::unique_ptr<Family>& f : families_) {
    if (f->name != name) continue;
    if (f->help != help || f->type != type || f->label_names != label_names ||
        f->bounds != bounds) {
      return absl::InvalidArgumentError(absl::StrCat(
          "metric ", name,
          ": help, type, label names or buckets differ from its earlier "
          "series"));
    }
    for (const Series& s : f->series) {
      if (s.labels == labels) {
        return absl::InvalidArgumentError(
            absl::StrCat("metric ", name, ": series registered twice"));
      }
    }
    return f.get();
  }
  // A histogram's _bucket/_sum/_count, or a name a histogram already uses
  // that way, would make the exposition ambiguous.
  for (const std::unique_ptr<Family>& f : families_) {
    const bool clash =
        (f->type == Type::kHistogram &&
         (name == f->name + "_bucket" || name == f->name + "_sum" ||
          name == f->name + "_count")) ||
        (type == Type::kHistogram &&
         (f->name == absl::StrCat(name, "_bucket") ||
          f->name == absl::StrCat(name, "_sum") ||
          f->name == absl::StrCat(name, "_count")));
    if (clash) {
      return absl::InvalidArgumentError(absl::StrCat(
          "metric ", name, " clashes with histogram series of ", f->name));
    }
  }
  auto family = std::make_unique<Family>();
  family->name = std::string(name);
  family->help = std::string(help);
  family->type = type;
  family->label_names = std::move(label_names);
  family->bounds = bounds;
  families_.push_back(std::move(family));
  return families_.back().get();
}

absl::StatusOr<Counter*> MetricsRegistry::AddCounter(absl::string_view name,
                                                     absl::string_view help,
                                                     MetricLabels labels) {
  common::MutexLock lock(&mu_);
  absl::StatusOr<Family*> family =
      FamilyFor(name, help, Type::kCounter, labels, {});
  if (!family.ok()) return family.status();
  counters_.push_back(std::make_unique<Counter>());
  Series series;
  series.labels = std::move(labels);
  series.counter = counters_.back().get();
  (*family)->series.push_back(std::move(series));
  return counters_.back().get();
}

absl::StatusOr<Histogram*> MetricsRegistry::AddHistogram(
    absl::string_view name, absl::string_view help, MetricLabels labels,
    std::vector<double> bounds) {
  for (size_t i = 0; i < bounds.size(); ++i) {
    if (!std::isfinite(bounds[i]) || (i > 0 && bounds[i] <= bounds[i - 1])) {
      return absl::InvalidArgumentError(absl::StrCat(
          "histogram ", name, ": bucket bounds must be finite and increasing"));
    }
  }
  common::MutexLock lock(&mu_);
  absl::StatusOr<Family*> family =
      FamilyFor(name, help, Type::kHistogram, labels, bounds);
  if (!family.ok()) return family.status();
  histograms_.push_back(std::make_unique<Histogram>(std::move(bounds)));
  Series series;
  series.labels = std::move(labels);
  series.histogram = histograms_.back().get();
  (*family)->series.push_back(std::move(series));
  return histograms_.back().get();
}

absl::Status MetricsRegistry::AddCallback(absl::string_view name,
                                          absl::string_view help, Type type,
                                          MetricLabels labels,
                                          std::function<double()> read) {
  if (!read) {
    return absl::InvalidArgumentError(absl::StrCat(
        type == Type::kGauge ? "gauge " : "counter ", name, ": no callback"));
  }
  common::MutexLock lock(&mu_);
  absl::StatusOr<Family*> family = FamilyFor(name, help, type, labels, {});
  if (!family.ok()) return family.status();
  Series series;
  series.labels = std::move(labels);
  series.read = std::move(read);
  (*family)->series.push_back(std::move(series));
  return absl::OkStatus();
}

absl::Status MetricsRegistry::AddGaugeCallback(absl::string_view name,
                                               absl::string_view help,
                                               MetricLabels labels,
                                               std::function<double()> read) {
  return AddCallback(name, help, Type::kGauge, std::move(labels),
                     std::move(read));
}

absl::Status MetricsRegistry::AddCounterCallback(absl::string_view name,
                                                 absl::string_view help,
                                                 MetricLabels labels,
                                                 std::function<double()> read) {
  return AddCallback(name, help, Type::kCounter, std::move(labels),
                     std::move(read));
}

std::string MetricsRegistry::Render() const {
  common::MutexLock lock(&mu_);
  std::string out;
  for (const std::unique_ptr<Family>& f : families_) {
    const char* type = f->type == Type::kCounter ? "counter"
                       : f->type == Type::kGauge ? "gauge"
                                                 : "histogram";
    absl::StrAppend(&out, "# HELP ", f->name, " ", EscapeHelp(f->help), "\n",
                    "# TYPE ", f->name, " ", type, "\n");
    for (const Series& s : f->series) {
      if (s.histogram != nullptr) {
        const Histogram::Snapshot snap = s.histogram->Read();
        uint64_t cumulative = 0;
        for (size_t i = 0; i < snap.counts.size(); ++i) {
          cumulative += snap.counts[i];
          const std::string le = i < f->bounds.size()
                                     ? FormatMetricValue(f->bounds[i])
                                     : std::string("+Inf");
          absl::StrAppend(&out, f->name, "_bucket");
          AppendLabels(out, s.labels, "le", le);
          absl::StrAppend(&out, " ", cumulative, "\n");
        }
        absl::StrAppend(&out, f->name, "_sum");
        AppendLabels(out, s.labels);
        absl::StrAppend(&out, " ", FormatMetricValue(snap.sum), "\n");
        absl::StrAppend(&out, f->name, "_count");
        AppendLabels(out, s.labels);
        absl::StrAppend(&out, " ", snap.count, "\n");
        continue;
      }
      out += f->name;
      AppendLabels(out, s.labels);
      if (s.counter != nullptr) {
        absl::StrAppend(&out, " ", s.counter->Value(), "\n");
      } else {
        absl::StrAppend(&out, " ", FormatMetricValue(s.read()), "\n");
      }
    }
  }
  return out;
}

}  // namespace jwtauth::server
