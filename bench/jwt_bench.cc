// jwt_bench.cc: jwtauth sign and verify against the bare OpenSSL primitive.
//
// For each JWS algorithm family (HS256/384/512, RS256, PS256, ES256, EdDSA)
// the binary measures, on a typical djangorestframework-jwt payload (claims
// user_id, username, exp, email, orig_iat in that order; a 215-byte HS256
// token):
//   BM_Sign/<alg>              JwtSigner::Sign (claims JSON, base64url, sign)
//   BM_Primitive_Sign/<alg>    the OpenSSL signature over the same signing
//   input BM_Verify/<alg>            Verifier::VerifyAt (signature, JSON
//   claims, exp)
//                              at a fixed time
//   BM_Primitive_Verify/<alg>  the OpenSSL verification of the same signature
//   BM_Paired_<op>/<alg>       jwtauth and primitive in alternating ~20 us
//                              batches; its counters give the median ratio over
//                              batch pairs, robust to load that comes and goes
//                              on a shared machine
// Both sides use the very same key material: the primitives borrow the
// EVP_PKEY held by the jwtauth Key (through jwt/key_data.h), or, for HMAC, key
// their own EVP_MAC_CTX with the Key's secret. The primitives are the fastest
// honest use of OpenSSL 3: HMAC re-initialises one pre-keyed EVP_MAC_CTX
// (EVP_MAC_init with a NULL key) per call; RSA, RSA-PSS, ECDSA and Ed25519 run
// EVP_DigestSignInit/EVP_DigestVerifyInit with a pre-fetched EVP_MD on one
// reused EVP_MD_CTX plus the one-shot EVP_DigestSign/EVP_DigestVerify; ECDSA
// verifies a DER signature prepared once (JWS carries R||S).
//
// BM_Part/* benchmarks split jwtauth's HS256 verification into its pieces
// (context duplication, base64url, JSON parsing...) for profiling; the table
// script bench/run-jwt-bench filters them out.
//
// After the run, the ratio jwtauth / primitive of each pair (median CPU time
// when repetitions are on) and the paired ratio are printed to stderr, so
// stdout stays the --benchmark_format output.
//
// RSA keys are 2048-bit (the common RS256 deployment and the harder case for
// a fixed per-call overhead); they are generated with OpenSSL and loaded
// through KeyFromPem. The other keys come from GenerateKey.
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "benchmark/benchmark.h"
#include "jwt/algorithm.h"
#include "jwt/base64url.h"
#include "jwt/json.h"
#include "jwt/jws_verifier.h"
#include "jwt/key.h"
#include "jwt/key_data.h"
#include "jwt/key_loader.h"
#include "jwt/key_set.h"
#include "jwt/openssl_util.h"
#include "jwt/raw_jwt.h"
#include "jwt/signer.h"
#include "jwt/validator_options.h"
#include "jwt/verifier.h"

namespace jwtauth::jwt {
namespace {

using internal::EvpMacCtxPtr;
using internal::EvpMdCtxPtr;
using internal::EvpPkeyPtr;

// The drf-jwt payload: orig_iat is 2026-01-01T00:00:00Z, exp five minutes
// later (drf-jwt's default JWT_EXPIRATION_DELTA), and verification happens one
// minute after issue.
constexpr int64_t kUserId = 42;
constexpr int64_t kOrigIat = 1767225600;
constexpr int64_t kExp = kOrigIat + 300;
constexpr int64_t kVerifyAt = kOrigIat + 60;

// Die reports a set-up failure and exits: a benchmark without its inputs
// would measure nothing.
[[noreturn]] void Die(absl::string_view what, const absl::Status& status) {
  std::cerr << "jwt_bench: " << what << ": " << status << "\n";
  std::exit(1);
}

template <typename T>
T ValueOrDie(absl::StatusOr<T> value, absl::string_view what) {
  if (!value.ok()) Die(what, value.status());
  return *std::move(value);
}

const unsigned char* Bytes(absl::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

RawJwt DrfClaims() {
  RawJwt raw;
  raw.SetInt("user_id", kUserId)
      .SetString("username", "alice")
      .SetNumericDate("exp", absl::FromUnixSeconds(kExp))
      .SetString("email", "alice@example.com")
      .SetNumericDate("orig_iat", absl::FromUnixSeconds(kOrigIat));
  return raw;
}

// Rsa2048Key generates a 2048-bit RSA key with OpenSSL and loads its PEM
// through jwtauth's own loader.
Key Rsa2048Key(Algorithm alg) {
  EvpPkeyPtr pkey(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{2048}));
  std::unique_ptr<BIO, internal::Deleter<BIO, BIO_free_all>> bio(
      BIO_new(BIO_s_mem()));
  if (pkey == nullptr || bio == nullptr ||
      PEM_write_bio_PrivateKey(bio.get(), pkey.get(), nullptr, nullptr, 0,
                               nullptr, nullptr) != 1) {
    Die("RSA-2048 key generation", absl::InternalError("OpenSSL failed"));
  }
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio.get(), &data);
  return ValueOrDie(
      KeyFromPem(alg, absl::string_view(data, static_cast<size_t>(len))),
      "KeyFromPem(RSA-2048)");
}

// RawToDer converts a JWS ECDSA signature (R||S) to the DER form OpenSSL
// verifies.
std::string RawToDer(absl::string_view raw) {
  const size_t half = raw.size() / 2;
  internal::EcdsaSigPtr sig(ECDSA_SIG_new());
  BIGNUM* r = BN_bin2bn(Bytes(raw), static_cast<int>(half), nullptr);
  BIGNUM* s = BN_bin2bn(Bytes(raw) + half, static_cast<int>(half), nullptr);
  if (sig == nullptr || r == nullptr || s == nullptr ||
      ECDSA_SIG_set0(sig.get(), r, s) != 1) {
    Die("ECDSA signature conversion", absl::InternalError("OpenSSL failed"));
  }
  const int len = i2d_ECDSA_SIG(sig.get(), nullptr);
  std::string der(static_cast<size_t>(len), '\0');
  auto* p = reinterpret_cast<unsigned char*>(der.data());
  i2d_ECDSA_SIG(sig.get(), &p);
  return der;
}

// Case holds everything one algorithm's benchmarks need, built once.
struct Case {
  Algorithm alg;
  KeyFamily family;
  std::optional<Key> signing_key;
  std::optional<Key> verifying_key;  // the public half for asymmetric keys
  std::optional<JwtSigner> signer;
  std::optional<Verifier> verifier;
  std::optional<JwsVerifier> jws_verifier;
  RawJwt claims = DrfClaims();
  absl::Time now = absl::FromUnixSeconds(kVerifyAt);

  std::string token;
  std::string signing_input;  // header.payload, the bytes the signature covers
  std::string payload_json;
  std::string signature;            // raw JWS signature (R||S for ECDSA)
  std::string primitive_signature;  // what OpenSSL verifies (DER for ECDSA)

  // Primitive state, borrowed from (or keyed like) the jwtauth keys.
  const EVP_MD* md = nullptr;  // pre-fetched; nullptr for EdDSA
  EVP_PKEY* sign_pkey = nullptr;
  EVP_PKEY* verify_pkey = nullptr;
  EvpMacCtxPtr mac;  // HMAC: keyed once with the Key's secret
  EvpMdCtxPtr md_ctx{
      EVP_MD_CTX_new()};    // reused (reset) by every primitive call
  std::string sign_buffer;  // room for one signature
};

bool PrimitiveSign(Case& c);
bool PrimitiveVerify(Case& c);

std::unique_ptr<Case> MakeCase(Algorithm alg) {
  auto c = std::make_unique<Case>();
  const std::string name(AlgorithmName(alg));
  c->alg = alg;
  c->family = FamilyOf(alg);
  c->signing_key =
      c->family == KeyFamily::kRsa || c->family == KeyFamily::kRsaPss
          ? Rsa2048Key(alg)
          : ValueOrDie(GenerateKey(alg), "GenerateKey(" + name + ")");
  c->verifying_key = c->family == KeyFamily::kHmac
                         ? *c->signing_key
                         : ValueOrDie(PublicKeyOf(*c->signing_key),
                                      "PublicKeyOf(" + name + ")");
  c->signer =
      ValueOrDie(JwtSigner::Create(*c->signing_key), "JwtSigner::Create");
  KeySet keys =
      ValueOrDie(KeySet::Create({*c->verifying_key}), "KeySet::Create");
  const absl::Time now = c->now;
  c->verifier = ValueOrDie(
      Verifier::Create(keys, ValidatorOptions{}, [now] { return now; }),
      "Verifier::Create");
  c->jws_verifier =
      ValueOrDie(JwsVerifier::Create(keys), "JwsVerifier::Create");

  c->token = ValueOrDie(c->signer->Sign(c->claims), "JwtSigner::Sign");
  const size_t last_dot = c->token.rfind('.');
  c->signing_input = c->token.substr(0, last_dot);
  const size_t first_dot = c->token.find('.');
  if (!Base64UrlDecode(c->token.substr(last_dot + 1), c->signature) ||
      !Base64UrlDecode(c->token.substr(first_dot + 1, last_dot - first_dot - 1),
                       c->payload_json)) {
    Die("token decoding", absl::InternalError(c->token));
  }
  c->primitive_signature =
      c->family == KeyFamily::kEcdsa ? RawToDer(c->signature) : c->signature;
  ValueOrDie(c->verifier->VerifyAt(c->token, c->now),
             "Verifier::VerifyAt(" + name + ")");

  c->md = internal::FetchedDigest(alg);
  if (c->family == KeyFamily::kHmac) {
    static EVP_MAC* const hmac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
    c->mac.reset(EVP_MAC_CTX_new(hmac));
    const std::string& secret = internal::DataOf(*c->signing_key).secret;
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
                                         const_cast<char*>(DigestName(alg)), 0),
        OSSL_PARAM_construct_end()};
    if (c->mac == nullptr ||
        EVP_MAC_init(c->mac.get(), Bytes(secret), secret.size(), params) != 1) {
      Die("HMAC primitive", absl::InternalError("EVP_MAC_init failed"));
    }
  } else {
    c->sign_pkey = internal::DataOf(*c->signing_key).pkey.get();
    c->verify_pkey = internal::DataOf(*c->verifying_key).pkey.get();
    c->sign_buffer.resize(static_cast<size_t>(EVP_PKEY_get_size(c->sign_pkey)));
  }
  if (c->md_ctx == nullptr || !PrimitiveSign(*c) || !PrimitiveVerify(*c)) {
    Die("OpenSSL primitive (" + name + ")",
        absl::InternalError("self-check failed"));
  }
  return c;
}

// HmacPrimitive computes the tag with the pre-keyed context, re-initialised
// (same key) for each message.
bool HmacPrimitive(EVP_MAC_CTX* ctx, absl::string_view input,
                   unsigned char* out, size_t* out_len) {
  return EVP_MAC_init(ctx, nullptr, 0, nullptr) == 1 &&
         EVP_MAC_update(ctx, Bytes(input), input.size()) == 1 &&
         EVP_MAC_final(ctx, out, out_len, EVP_MAX_MD_SIZE) == 1;
}

bool ConfigurePss(const Case& c, EVP_PKEY_CTX* pctx) {
  return c.family != KeyFamily::kRsaPss ||
         (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
          EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) == 1);
}

// ---- One operation each; true on success ----------------------------------

enum class Op { kSign, kVerify };

bool JwtauthSign(const Case& c) {
  absl::StatusOr<std::string> token = c.signer->Sign(c.claims);
  benchmark::DoNotOptimize(token);
  return token.ok();
}

bool JwtauthVerify(const Case& c) {
  absl::StatusOr<VerifiedJwt> jwt = c.verifier->VerifyAt(c.token, c.now);
  benchmark::DoNotOptimize(jwt);
  return jwt.ok();
}

bool PrimitiveSign(Case& c) {
  const absl::string_view input = c.signing_input;
  if (c.family == KeyFamily::kHmac) {
    unsigned char tag[EVP_MAX_MD_SIZE];
    size_t len = 0;
    const bool ok = HmacPrimitive(c.mac.get(), input, tag, &len);
    benchmark::DoNotOptimize(tag);
    return ok;
  }
  EVP_PKEY_CTX* pctx = nullptr;
  auto* out = reinterpret_cast<unsigned char*>(c.sign_buffer.data());
  size_t len = c.sign_buffer.size();
  const bool ok = EVP_DigestSignInit(c.md_ctx.get(), &pctx, c.md, nullptr,
                                     c.sign_pkey) == 1 &&
                  ConfigurePss(c, pctx) &&
                  EVP_DigestSign(c.md_ctx.get(), out, &len, Bytes(input),
                                 input.size()) == 1;
  EVP_MD_CTX_reset(c.md_ctx.get());
  benchmark::DoNotOptimize(out);
  benchmark::ClobberMemory();
  return ok;
}

bool PrimitiveVerify(Case& c) {
  const absl::string_view input = c.signing_input;
  const absl::string_view sig = c.primitive_signature;
  if (c.family == KeyFamily::kHmac) {
    unsigned char tag[EVP_MAX_MD_SIZE];
    size_t len = 0;
    return HmacPrimitive(c.mac.get(), input, tag, &len) && len == sig.size() &&
           CRYPTO_memcmp(tag, sig.data(), len) == 0;
  }
  EVP_PKEY_CTX* pctx = nullptr;
  const bool ok = EVP_DigestVerifyInit(c.md_ctx.get(), &pctx, c.md, nullptr,
                                       c.verify_pkey) == 1 &&
                  ConfigurePss(c, pctx) &&
                  EVP_DigestVerify(c.md_ctx.get(), Bytes(sig), sig.size(),
                                   Bytes(input), input.size()) == 1;
  EVP_MD_CTX_reset(c.md_ctx.get());
  return ok;
}

bool Jwtauth(Case& c, Op op) {
  return op == Op::kSign ? JwtauthSign(c) : JwtauthVerify(c);
}
bool Primitive(Case& c, Op op) {
  return op == Op::kSign ? PrimitiveSign(c) : PrimitiveVerify(c);
}

// ---- Benchmarks -------------------------------------------------------------

void BM_Sign(benchmark::State& state, Case* c) {
  for (auto _ : state) {
    if (!JwtauthSign(*c)) {
      state.SkipWithError("JwtSigner::Sign failed");
      break;
    }
  }
}

void BM_Verify(benchmark::State& state, Case* c) {
  for (auto _ : state) {
    if (!JwtauthVerify(*c)) {
      state.SkipWithError("Verifier::VerifyAt failed");
      break;
    }
  }
  state.SetLabel(absl::StrCat(c->token.size(), "-byte token"));
}

void BM_Primitive_Sign(benchmark::State& state, Case* c) {
  for (auto _ : state) {
    if (!PrimitiveSign(*c)) {
      state.SkipWithError("OpenSSL signing failed");
      break;
    }
  }
}

void BM_Primitive_Verify(benchmark::State& state, Case* c) {
  for (auto _ : state) {
    if (!PrimitiveVerify(*c)) {
      state.SkipWithError("OpenSSL verification failed");
      break;
    }
  }
}

double Median(std::vector<double>& v) {
  if (v.empty()) return 0;
  const auto mid = v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2);
  std::nth_element(v.begin(), mid, v.end());
  return *mid;
}

// BM_Paired_<op>/<alg>: each iteration times a batch of jwtauth operations and
// a batch of primitive operations back to back (alternating which goes
// first), about 20 us each, and the counters report the median over batch
// pairs of the per-operation times and of their ratio. Both sides thus run
// under the same momentary load, which the separate benchmarks cannot
// guarantee on a shared machine.
void BM_Paired(benchmark::State& state, Case* c, Op op) {
  using Clock = std::chrono::steady_clock;
  // Batch size: about 20 us of primitive work.
  const auto probe_start = Clock::now();
  int probes = 0;
  while (Clock::now() - probe_start < std::chrono::milliseconds(2) &&
         probes < 1000) {
    Primitive(*c, op);
    ++probes;
  }
  const double probe_ns =
      std::chrono::duration<double, std::nano>(Clock::now() - probe_start)
          .count() /
      probes;
  const int batch = std::clamp(static_cast<int>(20000.0 / probe_ns), 1, 1000);

  std::vector<double> ours_ns, prim_ns, ratios;
  bool ours_first = true;
  for (auto _ : state) {
    bool ok = true;
    double t[2];
    for (int side = 0; side < 2; ++side) {
      const bool ours = (side == 0) == ours_first;
      const auto t0 = Clock::now();
      for (int i = 0; i < batch; ++i)
        ok &= ours ? Jwtauth(*c, op) : Primitive(*c, op);
      t[ours ? 0 : 1] =
          std::chrono::duration<double, std::nano>(Clock::now() - t0).count();
    }
    if (!ok) {
      state.SkipWithError("operation failed");
      break;
    }
    ours_ns.push_back(t[0] / batch);
    prim_ns.push_back(t[1] / batch);
    ratios.push_back(t[0] / t[1]);
    ours_first = !ours_first;
  }
  state.counters["jwtauth_us"] = Median(ours_ns) / 1e3;
  state.counters["primitive_us"] = Median(prim_ns) / 1e3;
  state.counters["ratio"] = Median(ratios);
  state.counters["batch"] = batch;
}

// ---- Pieces of jwtauth's HS256 verification (for profiling) ----------------

// What Key::VerifySignature does for HMAC: duplicate the keyed template.
void BM_Part_HmacCtxDup(benchmark::State& state, const Case* c) {
  const EVP_MAC_CTX* tmpl =
      internal::DataOf(*c->verifying_key).mac_template.get();
  for (auto _ : state) {
    EvpMacCtxPtr ctx(EVP_MAC_CTX_dup(tmpl));
    unsigned char tag[EVP_MAX_MD_SIZE];
    size_t len = 0;
    if (ctx == nullptr ||
        EVP_MAC_update(ctx.get(), Bytes(c->signing_input),
                       c->signing_input.size()) != 1 ||
        EVP_MAC_final(ctx.get(), tag, &len, sizeof tag) != 1) {
      state.SkipWithError("HMAC failed");
      break;
    }
    benchmark::DoNotOptimize(tag);
  }
}

// The one-shot EVP_Q_mac, which re-keys on every call (for scale only).
void BM_Part_HmacOneShot(benchmark::State& state, const Case* c) {
  const std::string& secret = internal::DataOf(*c->verifying_key).secret;
  for (auto _ : state) {
    unsigned char tag[EVP_MAX_MD_SIZE];
    size_t len = 0;
    if (EVP_Q_mac(nullptr, "HMAC", nullptr, DigestName(c->alg), nullptr,
                  secret.data(), secret.size(), Bytes(c->signing_input),
                  c->signing_input.size(), tag, sizeof tag, &len) == nullptr) {
      state.SkipWithError("EVP_Q_mac failed");
      break;
    }
    benchmark::DoNotOptimize(tag);
  }
}

void BM_Part_KeyVerifySignature(benchmark::State& state, const Case* c) {
  for (auto _ : state) {
    if (!c->verifying_key->VerifySignature(c->signing_input, c->signature)) {
      state.SkipWithError("Key::VerifySignature failed");
      break;
    }
  }
}

void BM_Part_Base64UrlDecodeSegments(benchmark::State& state, const Case* c) {
  const absl::string_view token = c->token;
  const size_t first = token.find('.');
  const size_t last = token.rfind('.');
  const absl::string_view segments[] = {
      token.substr(0, first), token.substr(first + 1, last - first - 1),
      token.substr(last + 1)};
  for (auto _ : state) {
    std::string header, payload,
        signature;  // fresh strings, as JwsVerifier does
    const bool ok = Base64UrlDecode(segments[0], header) &&
                    Base64UrlDecode(segments[1], payload) &&
                    Base64UrlDecode(segments[2], signature);
    if (!ok) {
      state.SkipWithError("Base64UrlDecode failed");
      break;
    }
    benchmark::DoNotOptimize(header);
    benchmark::DoNotOptimize(payload);
    benchmark::DoNotOptimize(signature);
  }
}

void BM_Part_JwsVerify(benchmark::State& state, const Case* c) {
  for (auto _ : state) {
    absl::StatusOr<VerifiedJws> jws = c->jws_verifier->Verify(c->token);
    if (!jws.ok()) {
      state.SkipWithError("JwsVerifier::Verify failed");
      break;
    }
    benchmark::DoNotOptimize(jws);
  }
}

void BM_Part_ParseJsonPayload(benchmark::State& state, const Case* c) {
  for (auto _ : state) {
    absl::StatusOr<Json> claims = ParseJson(c->payload_json);
    if (!claims.ok()) {
      state.SkipWithError("ParseJson failed");
      break;
    }
    benchmark::DoNotOptimize(claims);
  }
}

void BM_Part_CopyToken(benchmark::State& state, const Case* c) {
  for (auto _ : state) {
    std::string copy(c->token);  // VerifiedJwt keeps its own copy of the token
    benchmark::DoNotOptimize(copy);
  }
}

// ---- Reporting -------------------------------------------------------------

// RatioReporter forwards everything to the display reporter chosen by
// --benchmark_format, records each benchmark's CPU time (the median
// aggregate when there is one), and at the end prints to stderr the ratio of
// each jwtauth benchmark to its primitive.
class RatioReporter : public benchmark::BenchmarkReporter {
 public:
  explicit RatioReporter(benchmark::BenchmarkReporter* display)
      : display_(display) {}

  bool ReportContext(const Context& context) override {
    return display_->ReportContext(context);
  }

  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& run : runs) {
      if (run.error_occurred) continue;
      const std::string name = run.run_name.str();
      const bool median =
          run.run_type == Run::RT_Aggregate && run.aggregate_name == "median";
      if (run.run_type == Run::RT_Aggregate && !median) continue;
      (median ? median_ : last_)[name] = Micros(run);
      if (auto ratio = run.counters.find("ratio");
          ratio != run.counters.end()) {
        (median ? median_ratio_ : last_ratio_)[name] = ratio->second.value;
      }
    }
    display_->ReportRuns(runs);
  }

  void Finalize() override {
    display_->Finalize();
    std::map<std::string, double> times = last_;
    for (const auto& [name, t] : median_) times[name] = t;
    std::map<std::string, double> paired = last_ratio_;
    for (const auto& [name, r] : median_ratio_) paired[name] = r;
    bool header = false;
    for (const auto& [name, t] : times) {
      for (const char* op : {"Sign", "Verify"}) {
        const std::string prefix = absl::StrCat("BM_", op, "/");
        if (name.rfind(prefix, 0) != 0) continue;
        const std::string alg = name.substr(prefix.size());
        auto primitive =
            times.find(absl::StrCat("BM_Primitive_", op, "/", alg));
        if (primitive == times.end() || primitive->second <= 0) continue;
        if (!header) {
          std::fprintf(stderr, "\n%-8s %-7s %12s %14s %7s %7s\n", "alg", "op",
                       "jwtauth us", "primitive us", "ratio", "paired");
          header = true;
        }
        auto pair = paired.find(absl::StrCat("BM_Paired_", op, "/", alg));
        std::fprintf(stderr, "%-8s %-7s %12.3f %14.3f %6.2fx %6.2fx\n",
                     alg.c_str(), op, t, primitive->second,
                     t / primitive->second,
                     pair == paired.end() ? 0.0 : pair->second);
      }
    }
  }

 private:
  static double Micros(const Run& run) {
    double t = run.GetAdjustedCPUTime();
    switch (run.time_unit) {
      case benchmark::kNanosecond:
        return t / 1e3;
      case benchmark::kMicrosecond:
        return t;
      case benchmark::kMillisecond:
        return t * 1e3;
      case benchmark::kSecond:
        return t * 1e6;
    }
    return t;
  }

  benchmark::BenchmarkReporter* display_;
  std::map<std::string, double> median_;
  std::map<std::string, double> last_;
  std::map<std::string, double> median_ratio_;  // BM_Paired_* "ratio" counters
  std::map<std::string, double> last_ratio_;
};

void RegisterAll(std::vector<std::unique_ptr<Case>>& cases) {
  for (Algorithm alg : {Algorithm::kHS256, Algorithm::kHS384, Algorithm::kHS512,
                        Algorithm::kRS256, Algorithm::kPS256, Algorithm::kES256,
                        Algorithm::kEdDSA}) {
    cases.push_back(MakeCase(alg));
    Case* c = cases.back().get();
    const std::string name(AlgorithmName(alg));
    benchmark::RegisterBenchmark(("BM_Verify/" + name).c_str(), BM_Verify, c)
        ->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark(("BM_Primitive_Verify/" + name).c_str(),
                                 BM_Primitive_Verify, c)
        ->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark(("BM_Sign/" + name).c_str(), BM_Sign, c)
        ->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark(("BM_Primitive_Sign/" + name).c_str(),
                                 BM_Primitive_Sign, c)
        ->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark(("BM_Paired_Verify/" + name).c_str(),
                                 BM_Paired, c, Op::kVerify)
        ->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark(("BM_Paired_Sign/" + name).c_str(), BM_Paired,
                                 c, Op::kSign)
        ->Unit(benchmark::kMicrosecond);
  }
  const Case* hs256 = cases.front().get();
  const std::pair<const char*, void (*)(benchmark::State&, const Case*)>
      parts[] = {
          {"BM_Part/HmacCtxDup", BM_Part_HmacCtxDup},
          {"BM_Part/HmacOneShot", BM_Part_HmacOneShot},
          {"BM_Part/KeyVerifySignature", BM_Part_KeyVerifySignature},
          {"BM_Part/Base64UrlDecodeSegments", BM_Part_Base64UrlDecodeSegments},
          {"BM_Part/JwsVerify", BM_Part_JwsVerify},
          {"BM_Part/ParseJsonPayload", BM_Part_ParseJsonPayload},
          {"BM_Part/CopyToken", BM_Part_CopyToken},
      };
  for (const auto& [name, fn] : parts) {
    benchmark::RegisterBenchmark(name, fn, hs256)
        ->Unit(benchmark::kMicrosecond);
  }
}

}  // namespace
}  // namespace jwtauth::jwt

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  std::vector<std::unique_ptr<jwtauth::jwt::Case>> cases;
  jwtauth::jwt::RegisterAll(cases);
  jwtauth::jwt::RatioReporter reporter(
      benchmark::CreateDefaultDisplayReporter());
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  return 0;
}
