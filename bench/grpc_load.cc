#include "bench/grpc_load.h"

#include <grpcpp/generic/generic_stub.h>
#include <sched.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <limits>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"

namespace jwtauth::bench {

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void SleepUntilNs(int64_t t) {
  const int64_t left = t - NowNs();
  if (left > 0) absl::SleepFor(absl::Nanoseconds(left));
}

void Progress(const std::string& line) {
  std::fprintf(stderr, "grpc_bench: %s\n", line.c_str());
}

// ---------------------------------------------------------------- CPU time

namespace {

double TicksToSeconds(uint64_t ticks) {
  static const double kTick = static_cast<double>(sysconf(_SC_CLK_TCK));
  return static_cast<double>(ticks) / kTick;
}

std::optional<double> ProcessCpuSeconds(int64_t pid) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/stat"));
  std::string text((std::istreambuf_iterator<char>(in)),
                   std::istreambuf_iterator<char>());
  const size_t paren = text.rfind(')');
  if (paren == std::string::npos) return std::nullopt;
  std::vector<absl::string_view> f = absl::StrSplit(
      absl::string_view(text).substr(paren + 2), ' ', absl::SkipEmpty());
  // f[0] is field 3 (state); utime and stime are fields 14 and 15.
  uint64_t utime = 0;
  uint64_t stime = 0;
  if (f.size() < 13 || !absl::SimpleAtoi(f[11], &utime) ||
      !absl::SimpleAtoi(f[12], &stime)) {
    return std::nullopt;
  }
  return TicksToSeconds(utime + stime);
}

double SelfCpuSeconds() {
  rusage r{};
  getrusage(RUSAGE_SELF, &r);
  auto sec = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) +
           static_cast<double>(t.tv_usec) * 1e-6;
  };
  return sec(r.ru_utime) + sec(r.ru_stime);
}

}  // namespace

CpuSnapshot TakeCpuSnapshot(int64_t server_pid) {
  CpuSnapshot s;
  s.server_s = ProcessCpuSeconds(server_pid).value_or(0);
  s.client_s = SelfCpuSeconds();
  std::ifstream in("/proc/stat");
  std::string cpu;
  in >> cpu;  // "cpu": the sum over all CPUs
  uint64_t v[8] = {};
  for (uint64_t& x : v) in >> x;
  uint64_t total = 0;
  for (uint64_t x : v) total += x;
  s.total_s = TicksToSeconds(total);
  s.busy_s = TicksToSeconds(total - v[3] - v[4]);  // minus idle and iowait
  return s;
}

std::optional<int64_t> ProcessRssBytes(int64_t pid) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(in, line)) {
    absl::string_view v(line);
    if (!absl::ConsumePrefix(&v, "VmRSS:")) continue;
    std::vector<absl::string_view> f =
        absl::StrSplit(v, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    int64_t kib = 0;
    if (f.size() == 2 && f[1] == "kB" && absl::SimpleAtoi(f[0], &kib))
      return kib * 1024;
    return std::nullopt;
  }
  return std::nullopt;
}

int Cores() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) return CPU_COUNT(&set);
  return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

// ---------------------------------------------------------------- load

void LoadResult::Merge(LoadResult&& part) {
  ok += part.ok;
  errors += part.errors;
  warmup_calls += part.warmup_calls;
  warmup_errors += part.warmup_errors;
  for (const auto& [code, n] : part.error_codes) error_codes[code] += n;
  if (first_error.empty()) first_error = std::move(part.first_error);
  latencies_ns.insert(latencies_ns.end(), part.latencies_ns.begin(),
                      part.latencies_ns.end());
  window_s += part.window_s;
  server_cpu_s += part.server_cpu_s;
  client_cpu_s += part.client_cpu_s;
  machine_busy_s += part.machine_busy_s;
  machine_total_s += part.machine_total_s;
}

namespace {

class Worker;

// Call: one slot of the closed loop; it is reissued as soon as it completes.
struct Call {
  Worker* worker = nullptr;
  grpc::GenericStub* stub = nullptr;
  const std::string* authorization = nullptr;  // or nullptr
  std::unique_ptr<grpc::ClientContext> ctx;
  std::unique_ptr<grpc::GenericClientAsyncResponseReader> reader;
  grpc::ByteBuffer response;
  grpc::Status status;
  int64_t start_ns = 0;
};

// Worker: one thread and one completion queue driving its calls.
class Worker {
 public:
  // requests: the serialised requests (shared by all workers); next_request:
  // where this worker starts in them; issued: calls started by all workers
  // (count mode).
  Worker(const LoadSpec& spec, const std::vector<grpc::ByteBuffer>* requests,
         size_t next_request, std::atomic<int64_t>* issued,
         int64_t measure_start, int64_t measure_end)
      : spec_(spec),
        requests_(requests),
        next_request_(next_request),
        issued_(issued),
        measure_start_(measure_start),
        measure_end_(measure_end) {}

  // AddCalls adds `n` call slots; slot i of the scenario (counting from
  // `first_slot`) sends authorization value i mod their number.
  void AddCalls(grpc::GenericStub* stub, int n, size_t first_slot) {
    for (int i = 0; i < n; ++i) {
      auto call = std::make_unique<Call>();
      call->worker = this;
      call->stub = stub;
      if (!spec_.authorizations.empty()) {
        call->authorization =
            &spec_.authorizations[(first_slot + static_cast<size_t>(i)) %
                                  spec_.authorizations.size()];
      }
      calls_.push_back(std::move(call));
    }
  }

  void Run() {
    size_t active = 0;
    for (auto& call : calls_) {
      if (!MayStart()) break;
      Start(*call);
      ++active;
    }
    while (active > 0) {
      void* tag = nullptr;
      bool ok = false;
      if (!cq_.Next(&tag, &ok)) break;
      Call* call = static_cast<Call*>(tag);
      const int64_t now = NowNs();
      if (now >= measure_start_ && now < measure_end_) {
        if (call->status.ok()) {
          result_.latencies_ns.push_back(now - call->start_ns);
          ++result_.ok;
        } else {
          ++result_.errors;
          ++result_.error_codes[static_cast<int>(call->status.error_code())];
          if (result_.first_error.empty()) {
            result_.first_error =
                absl::StrCat(static_cast<int>(call->status.error_code()), ": ",
                             call->status.error_message());
          }
        }
      } else if (now < measure_start_) {
        ++result_.warmup_calls;
        if (!call->status.ok()) {
          ++result_.warmup_errors;
          if (result_.first_error.empty()) {
            result_.first_error =
                absl::StrCat(static_cast<int>(call->status.error_code()), ": ",
                             call->status.error_message(), " (warm-up)");
          }
        }
      }
      if (spec_.completed != nullptr)
        spec_.completed->fetch_add(1, std::memory_order_relaxed);
      if (now < measure_end_ && MayStart()) {
        Start(*call);
      } else {
        --active;
      }
    }
    cq_.Shutdown();
    void* tag = nullptr;
    bool ok = false;
    while (cq_.Next(&tag, &ok)) {
    }
  }

  LoadResult& result() { return result_; }

 private:
  // MayStart: in count mode, claims one of the max_calls calls.
  bool MayStart() {
    return spec_.max_calls <= 0 ||
           issued_->fetch_add(1, std::memory_order_relaxed) < spec_.max_calls;
  }

  void Start(Call& call) {
    call.ctx = std::make_unique<grpc::ClientContext>();
    call.ctx->set_deadline(std::chrono::system_clock::now() +
                           absl::ToChronoNanoseconds(spec_.call_timeout));
    if (call.authorization != nullptr)
      call.ctx->AddMetadata("authorization", *call.authorization);
    call.response.Clear();
    call.start_ns = NowNs();
    const grpc::ByteBuffer& request =
        (*requests_)[next_request_++ % requests_->size()];
    call.reader = call.stub->PrepareUnaryCall(call.ctx.get(), spec_.method,
                                              request, &cq_);
    call.reader->StartCall();
    call.reader->Finish(&call.response, &call.status, &call);
  }

  const LoadSpec& spec_;
  const std::vector<grpc::ByteBuffer>* const requests_;
  size_t next_request_;
  std::atomic<int64_t>* const issued_;
  const int64_t measure_start_;
  const int64_t measure_end_;
  grpc::CompletionQueue cq_;
  std::vector<std::unique_ptr<Call>> calls_;
  LoadResult result_;
};

}  // namespace

std::shared_ptr<grpc::Channel> NewChannel(int port, int id) {
  grpc::ChannelArguments args;
  // Without these, channels to one target share one subchannel (connection).
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  args.SetInt("jwtauth.bench.channel_id", id);
  return grpc::CreateCustomChannel(absl::StrCat("127.0.0.1:", port),
                                   grpc::InsecureChannelCredentials(), args);
}

absl::StatusOr<LoadResult> RunLoad(const LoadSpec& spec, int64_t server_pid) {
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  std::vector<std::unique_ptr<grpc::GenericStub>> stubs;
  for (int i = 0; i < spec.connections; ++i) {
    channels.push_back(NewChannel(spec.port, i));
    if (!channels.back()->WaitForConnected(std::chrono::system_clock::now() +
                                           std::chrono::seconds(5))) {
      return absl::UnavailableError(
          absl::StrCat("cannot connect to port ", spec.port));
    }
    stubs.push_back(std::make_unique<grpc::GenericStub>(channels.back()));
  }
  if (spec.requests.empty())
    return absl::InvalidArgumentError("no request to send");
  std::vector<grpc::ByteBuffer> requests;
  requests.reserve(spec.requests.size());
  for (const std::string& r : spec.requests) {
    grpc::Slice slice(r);
    requests.emplace_back(&slice, 1);
  }

  const bool count_mode = spec.max_calls > 0;
  const int64_t start = NowNs();
  const int64_t measure_start =
      count_mode ? start : start + absl::ToInt64Nanoseconds(spec.warmup);
  const int64_t measure_end =
      count_mode ? std::numeric_limits<int64_t>::max()
                 : measure_start + absl::ToInt64Nanoseconds(spec.duration);
  std::atomic<int64_t> issued{0};
  std::vector<std::unique_ptr<Worker>> workers;
  const int threads = std::max(1, std::min(spec.threads, spec.connections));
  for (int t = 0; t < threads; ++t) {
    const size_t offset =
        requests.size() * static_cast<size_t>(t) / static_cast<size_t>(threads);
    workers.push_back(std::make_unique<Worker>(spec, &requests, offset, &issued,
                                               measure_start, measure_end));
  }
  for (int i = 0; i < spec.connections; ++i) {
    workers[static_cast<size_t>(i % threads)]->AddCalls(
        stubs[static_cast<size_t>(i)].get(), spec.in_flight,
        static_cast<size_t>(i) * static_cast<size_t>(spec.in_flight));
  }
  const CpuSnapshot before_all = TakeCpuSnapshot(server_pid);
  std::vector<std::thread> running;
  for (auto& w : workers) running.emplace_back([&w] { w->Run(); });
  LoadResult total;
  CpuSnapshot before = before_all;
  CpuSnapshot after;
  if (!count_mode) {
    SleepUntilNs(measure_start);
    before = TakeCpuSnapshot(server_pid);
    SleepUntilNs(measure_end);
    after = TakeCpuSnapshot(server_pid);
  }
  for (std::thread& t : running) t.join();
  if (count_mode) after = TakeCpuSnapshot(server_pid);
  for (auto& w : workers) total.Merge(std::move(w->result()));
  // Duration mode: calls were counted by their completion time inside
  // [measure_start, measure_end). Count mode: all of them, start to end.
  total.window_s = count_mode ? static_cast<double>(NowNs() - start) * 1e-9
                              : absl::ToDoubleSeconds(spec.duration);
  total.server_cpu_s = after.server_s - before.server_s;
  total.client_cpu_s = after.client_s - before.client_s;
  total.machine_busy_s = after.busy_s - before.busy_s;
  total.machine_total_s = after.total_s - before.total_s;
  return total;
}

double PercentileUs(const std::vector<int64_t>& sorted_ns, double p) {
  if (sorted_ns.empty()) return 0;
  const double rank = std::ceil(p * static_cast<double>(sorted_ns.size()));
  size_t i = rank < 1 ? 0 : static_cast<size_t>(rank) - 1;
  i = std::min(i, sorted_ns.size() - 1);
  return static_cast<double>(sorted_ns[i]) * 1e-3;
}

}  // namespace jwtauth::bench
