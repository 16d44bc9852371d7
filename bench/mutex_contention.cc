#include "bench/mutex_contention.h"

#include <execinfo.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <mutex>
#include <utility>
#include <vector>

#include "absl/debugging/symbolize.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"

namespace jwtauth::bench {
namespace {

constexpr int kMaxFrames = 16;

struct Totals {
  int64_t events = 0;
  int64_t wait_cycles = 0;
};

// A std::mutex (not absl::Mutex): the tracer runs inside absl::Mutex code.
std::mutex& TableMu() {
  static auto* mu = new std::mutex();
  return *mu;
}
std::map<std::vector<void*>, Totals>& Table() {
  static auto* table = new std::map<std::vector<void*>, Totals>();
  return *table;
}

void OnContention(const char* /*msg*/, const void* /*obj*/,
                  int64_t wait_cycles) {
  // glibc's unwinder reads .eh_frame; abseil's wants frame pointers, which
  // the distribution's gRPC and this Release build omit.
  void* frames[kMaxFrames];
  const int depth = ::backtrace(frames, kMaxFrames);
  std::vector<void*> key(frames + std::min(depth, 1),
                         frames + std::max(depth, 0));
  std::lock_guard<std::mutex> lock(TableMu());
  Totals& t = Table()[std::move(key)];
  ++t.events;
  t.wait_cycles += wait_cycles;
}

std::string Symbol(void* pc) {
  char buf[1024];
  // pc - 1: the call instruction, not the return address.
  if (absl::Symbolize(static_cast<char*>(pc) - 1, buf, sizeof buf)) return buf;
  return absl::StrCat("0x", absl::Hex(reinterpret_cast<uintptr_t>(pc)));
}

}  // namespace

void InstallMutexContentionTracer(const char* argv0) {
  absl::InitializeSymbolizer(argv0);
  absl::RegisterMutexTracer(&OnContention);
}

std::string MutexContentionReport(size_t top) {
  std::vector<std::pair<std::vector<void*>, Totals>> rows;
  {
    std::lock_guard<std::mutex> lock(TableMu());
    rows.assign(Table().begin(), Table().end());
  }
  int64_t events = 0;
  int64_t cycles = 0;
  for (const auto& [stack, t] : rows) {
    events += t.events;
    cycles += t.wait_cycles;
  }
  std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) {
    return a.second.wait_cycles > b.second.wait_cycles;
  });
  std::string out = absl::StrCat(
      "contended absl::Mutex releases: ", events, " events, wait ", cycles,
      " cycle-clock units, ", rows.size(), " distinct stacks\n");
  for (size_t i = 0; i < rows.size() && i < top; ++i) {
    const auto& [stack, t] = rows[i];
    absl::StrAppend(&out, "\n#", i + 1, ": ", t.events, " events, wait ",
                    t.wait_cycles, "\n");
    int shown = 0;
    for (void* pc : stack) {
      std::string name = Symbol(pc);
      if (shown == 0 && (absl::StrContains(name, "absl::") ||
                         absl::StrContains(name, "0x"))) {
        continue;  // the Mutex internals
      }
      absl::StrAppend(&out, "    ", name, "\n");
      if (++shown == 8) break;
    }
  }
  return out;
}

}  // namespace jwtauth::bench
