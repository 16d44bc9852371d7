#include "interceptors/server_auth.h"

#include <grpc/grpc_security.h>
#include <grpc/slice.h>
#include <grpcpp/security/auth_metadata_processor.h>

#include <typeinfo>
#include <utility>

#include "absl/container/inlined_vector.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/mutex.h"
#include "common/worker_pool.h"
#include "interceptors/auth_header.h"

namespace jwtauth::interceptors {
namespace {

// Never destroyed: CallerClaims may run on gRPC threads during exit.
common::Mutex& g_default_mu = *new common::Mutex;
std::weak_ptr<ServerAuth>& DefaultAuth() {
  static auto* instance = new std::weak_ptr<ServerAuth>();
  return *instance;
}

absl::string_view View(const grpc::string_ref& s) {
  return absl::string_view(s.data(), s.size());
}
absl::string_view View(const grpc_slice& s) {
  return absl::string_view(
      reinterpret_cast<const char*>(GRPC_SLICE_START_PTR(s)),
      GRPC_SLICE_LENGTH(s));
}

bool ClaimSatisfies(absl::string_view name, const jwt::Json* claim,
                    const std::string& value) {
  if (claim == nullptr) return false;
  if (claim->is_string()) {
    if (claim->string_value() == value) return true;
    if (name != "scope" && name != "scp")
      return false;  // only scope lists are split
    for (absl::string_view part : absl::StrSplit(claim->string_value(), ' ')) {
      if (part == value) return true;
    }
    return false;
  }
  if (claim->is_array()) {
    for (const jwt::Json& item : claim->items()) {
      if (item.is_string() && item.string_value() == value) return true;
    }
  }
  return false;
}

// Processor: the C++ AuthMetadataProcessor for secure credentials.
class Processor final : public grpc::AuthMetadataProcessor {
 public:
  explicit Processor(std::shared_ptr<ServerAuth> auth)
      : auth_(std::move(auth)) {}
  bool IsBlocking() const override { return auth_->blocking(); }
  grpc::Status Process(const InputMetadata& metadata,
                       grpc::AuthContext* /*context*/,
                       OutputMetadata* /*consumed*/,
                       OutputMetadata* /*response*/) override {
    absl::string_view path;
    std::vector<absl::string_view> authorization;
    for (const auto& [key, value] : metadata) {
      if (View(key) == ":path") path = View(value);
      if (View(key) == "authorization") authorization.push_back(View(value));
    }
    return auth_->Check(path, authorization);
  }

 private:
  std::shared_ptr<ServerAuth> auth_;
};

// InsecureWithAuth: plaintext server credentials carrying the check, built on
// gRPC's public core API because the C++ insecure credentials refuse a
// processor. AddPortToServer is the (private virtual) hook ServerBuilder uses.
class InsecureWithAuth final : public grpc::ServerCredentials {
 public:
  explicit InsecureWithAuth(std::shared_ptr<ServerAuth> auth) {
    creds_ = grpc_insecure_server_credentials_create();
    // The core credentials outlive this C++ object (the server keeps them),
    // so they own the processor state and free it through `destroy`.
    grpc_auth_metadata_processor processor{&ProcessC, &DestroyState,
                                           new State(std::move(auth))};
    grpc_server_credentials_set_auth_metadata_processor(creds_, processor);
  }
  ~InsecureWithAuth() override { grpc_server_credentials_release(creds_); }

  void SetAuthMetadataProcessor(
      const std::shared_ptr<grpc::AuthMetadataProcessor>& /*processor*/)
      override {
    // The jwtauth check is the processor; replacing it would disable it.
  }

 private:
  struct State {
    explicit State(std::shared_ptr<ServerAuth> a)
        : auth(std::move(a)), pool(auth->blocking() ? 4 : 1, 1024) {}
    std::shared_ptr<ServerAuth> auth;
    common::WorkerPool pool;  // runs blocking (remote) checks off the transport
  };

  static void DestroyState(void* state) { delete static_cast<State*>(state); }

  static void Finish(grpc_process_auth_metadata_done_cb cb, void* user_data,
                     const grpc::Status& status) {
    const std::string message = status.error_message();
    cb(user_data, nullptr, 0, nullptr, 0,
       static_cast<grpc_status_code>(status.error_code()),
       status.ok() ? nullptr : message.c_str());
  }

  static void ProcessC(void* state_ptr, grpc_auth_context* /*context*/,
                       const grpc_metadata* md, size_t num_md,
                       grpc_process_auth_metadata_done_cb cb, void* user_data) {
    State* state = static_cast<State*>(state_ptr);
    // Views into `md`, which gRPC keeps valid until this function returns:
    // the synchronous paths below copy nothing.
    absl::string_view path;
    // Inline room for the usual single value: no allocation per call.
    absl::InlinedVector<absl::string_view, 2> views;
    for (size_t i = 0; i < num_md; ++i) {
      const absl::string_view key = View(md[i].key);
      if (key == ":path") path = View(md[i].value);
      if (key == "authorization") views.push_back(View(md[i].value));
    }
    if (!state->auth->blocking()) {
      Finish(cb, user_data, state->auth->Check(path, views));
      return;
    }
    // Public methods, bad headers and cached tokens never wait in line
    // behind calls that need the auth server.
    if (std::optional<grpc::Status> fast =
            state->auth->CheckWithoutBlocking(path, views)) {
      Finish(cb, user_data, *fast);
      return;
    }
    // Queued: the worker outlives `md`, so it gets copies.
    std::vector<std::string> authorization(views.begin(), views.end());
    auto run = [state, path_copy = std::string(path), authorization, cb,
                user_data] {
      const std::vector<absl::string_view> values(authorization.begin(),
                                                  authorization.end());
      Finish(cb, user_data, state->auth->Check(path_copy, values));
    };
    if (!state->pool.TrySubmit(run)) {
      Finish(cb, user_data,
             grpc::Status(grpc::StatusCode::UNAVAILABLE, "Server is busy."));
    }
  }

  int AddPortToServer(const std::string& addr, grpc_server* server) override {
    return grpc_server_add_http2_port(server, addr.c_str(), creds_);
  }

  grpc_server_credentials* creds_ = nullptr;
};

}  // namespace

absl::StatusOr<std::shared_ptr<ServerAuth>> ServerAuth::Create(
    ServerAuthOptions options) {
  if (options.validator == nullptr)
    return absl::InvalidArgumentError("a validator is required");
  if (options.header_prefix.empty() ||
      options.header_prefix.find_first_of(" \t\r\n") != std::string::npos) {
    return absl::InvalidArgumentError(
        "header_prefix must be one non-empty word");
  }
  // "/pkg.Service/" or "/pkg.Service/Method": anything else would silently
  // never match, leaving a method unprotected.
  auto valid_key = [](absl::string_view k) {
    std::vector<absl::string_view> parts = absl::StrSplit(k, '/');
    return parts.size() == 3 && parts[0].empty() && !parts[1].empty();
  };
  for (const auto& [method, reqs] : options.required_claims) {
    if (!valid_key(method)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "required_claims key \"", method,
          "\" is not \"/pkg.Service/\" or \"/pkg.Service/Method\""));
    }
  }
  for (const std::string& method : options.public_methods) {
    if (!valid_key(method)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "public_methods entry \"", method,
          "\" is not \"/pkg.Service/\" or \"/pkg.Service/Method\""));
    }
  }
  const bool set_default = options.set_default;
  std::shared_ptr<ServerAuth> auth(new ServerAuth(std::move(options)));
  if (set_default) {
    common::MutexLock lock(&g_default_mu);
    DefaultAuth() = auth;
  }
  return auth;
}

std::shared_ptr<grpc::ServerCredentials> ServerAuth::Credentials(
    std::shared_ptr<grpc::ServerCredentials> base) {
  // gRPC's InsecureServerCredentials() would abort on SetAuthMetadataProcessor.
  const grpc::ServerCredentials& creds = *base;
  if (absl::StrContains(typeid(creds).name(), "InsecureServerCredentials")) {
    return InsecureCredentials();
  }
  base->SetAuthMetadataProcessor(
      std::make_shared<Processor>(shared_from_this()));
  return base;
}

std::shared_ptr<grpc::ServerCredentials> ServerAuth::InsecureCredentials() {
  return std::make_shared<InsecureWithAuth>(shared_from_this());
}

bool ServerAuth::IsPublic(absl::string_view path) const {
  for (const std::string& m : options_.public_methods) {
    if (absl::EndsWith(m, "/") ? absl::StartsWith(path, m) : path == m)
      return true;
  }
  return false;
}

const std::vector<ClaimRequirement>* ServerAuth::RequirementsFor(
    absl::string_view path) const {
  if (options_.required_claims.empty()) return nullptr;
  auto it = options_.required_claims.find(std::string(path));
  if (it != options_.required_claims.end()) return &it->second;
  const size_t slash = path.rfind('/');
  if (slash == absl::string_view::npos || slash == 0) return nullptr;
  it = options_.required_claims.find(std::string(path.substr(0, slash + 1)));
  return it == options_.required_claims.end() ? nullptr : &it->second;
}

namespace {

// TokenFrom applies SPEC §5 to the call's authorization values.
absl::StatusOr<absl::string_view> TokenFrom(
    absl::Span<const absl::string_view> values, absl::string_view prefix,
    std::string& joined) {
  if (values.empty()) return absl::UnauthenticatedError(kMsgNoCredentials);
  absl::string_view value = values.front();
  if (values.size() > 1) {  // as an HTTP server would fold repeated headers
    joined = absl::StrJoin(values, ", ");
    value = joined;
  }
  const ParsedHeader parsed = ParseAuthorization(value, prefix);
  switch (parsed.outcome) {
    case HeaderOutcome::kNotOurs:
      return absl::UnauthenticatedError(kMsgNoCredentials);
    case HeaderOutcome::kPrefixOnly:
      return absl::UnauthenticatedError(kMsgPrefixOnly);
    case HeaderOutcome::kTooManyParts:
      return absl::UnauthenticatedError(kMsgSpaces);
    case HeaderOutcome::kToken:
      break;
  }
  return parsed.token;
}

grpc::Status ToGrpc(const absl::Status& s) {
  return grpc::Status(static_cast<grpc::StatusCode>(s.code()),
                      std::string(s.message()));
}

}  // namespace

grpc::Status ServerAuth::Check(
    absl::string_view path,
    absl::Span<const absl::string_view> authorization) const {
  if (IsPublic(path)) return grpc::Status::OK;
  std::string joined;
  absl::StatusOr<absl::string_view> token =
      TokenFrom(authorization, options_.header_prefix, joined);
  if (!token.ok()) return ToGrpc(token.status());
  absl::StatusOr<std::shared_ptr<const Caller>> caller =
      options_.validator->Validate(*token);
  if (!caller.ok()) return ToGrpc(caller.status());
  if (absl::Status s = CheckRevoked(**caller); !s.ok()) return ToGrpc(s);
  return CheckRequirements(path, **caller);
}

absl::Status ServerAuth::CheckRevoked(const Caller& caller) const {
  if (options_.revocations == nullptr) return absl::OkStatus();
  return CheckRevocation(*options_.revocations, caller);
}

grpc::Status ServerAuth::CheckRequirements(absl::string_view path,
                                           const Caller& caller) const {
  if (const std::vector<ClaimRequirement>* reqs = RequirementsFor(path);
      reqs != nullptr) {
    for (const ClaimRequirement& r : *reqs) {
      if (!ClaimSatisfies(r.claim, caller.claims.Find(r.claim), r.value)) {
        return grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                            std::string(kMsgPermissionDenied));
      }
    }
  }
  return grpc::Status::OK;
}

std::optional<grpc::Status> ServerAuth::CheckWithoutBlocking(
    absl::string_view path,
    absl::Span<const absl::string_view> authorization) const {
  if (IsPublic(path)) return grpc::Status::OK;
  std::string joined;
  absl::StatusOr<absl::string_view> token =
      TokenFrom(authorization, options_.header_prefix, joined);
  if (!token.ok()) return ToGrpc(token.status());
  std::shared_ptr<const Caller> caller = options_.validator->Cached(*token);
  if (caller == nullptr) return std::nullopt;
  if (absl::Status s = CheckRevoked(*caller); !s.ok()) return ToGrpc(s);
  return CheckRequirements(path, *caller);
}

absl::StatusOr<std::shared_ptr<const Caller>> ServerAuth::CallerOf(
    const grpc::ServerContextBase& context) const {
  std::vector<absl::string_view> values;
  for (const auto& [key, value] : context.client_metadata()) {
    if (View(key) == "authorization") values.push_back(View(value));
  }
  std::string joined;
  absl::StatusOr<absl::string_view> token =
      TokenFrom(values, options_.header_prefix, joined);
  if (!token.ok()) return token.status();
  // A cache hit after the check.
  absl::StatusOr<std::shared_ptr<const Caller>> caller =
      options_.validator->Validate(*token);
  if (!caller.ok()) return caller;
  if (absl::Status s = CheckRevoked(**caller); !s.ok()) return s;
  return caller;
}

absl::StatusOr<std::shared_ptr<const Caller>> CallerClaims(
    const grpc::ServerContextBase& context) {
  std::shared_ptr<ServerAuth> auth;
  {
    common::MutexLock lock(&g_default_mu);
    auth = DefaultAuth().lock();
  }
  if (auth == nullptr)
    return absl::FailedPreconditionError("no jwtauth ServerAuth is installed");
  return auth->CallerOf(context);
}

}  // namespace jwtauth::interceptors
