#include "server/key_directory.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "jwt/base64url.h"
#include "jwt/json.h"
#include "jwt/key_loader.h"
#include "server/key_files.h"

namespace jwtauth::server {
namespace {

constexpr char kManifest[] = "keys.json";
constexpr char kManifestTmp[] = "keys.json.tmp";
constexpr char kLockFile[] = "keys.lock";
constexpr size_t kMaxManifestSize = 1 << 20;
constexpr size_t kMaxKidLength = 64;

std::string Join(const std::string& dir, absl::string_view name) {
  return absl::StrCat(dir, "/", name);
}

std::string Errno() { return std::strerror(errno); }

absl::Status DirError(const std::string& dir, absl::string_view what) {
  return absl::InvalidArgumentError(
      absl::StrCat("key directory ", dir, ": ", what));
}

absl::Status ManifestError(const std::string& path, absl::string_view what) {
  return absl::InvalidArgumentError(
      absl::StrCat("key manifest ", path, ": ", what));
}

bool IsHmac(jwt::Algorithm alg) {
  return jwt::FamilyOf(alg) == jwt::KeyFamily::kHmac;
}

std::string KeyFileName(const KeyEntry& e) {
  return absl::StrCat(e.kid, IsHmac(e.algorithm) ? ".secret" : ".pem");
}

bool ValidKid(absl::string_view kid) {
  if (kid.empty() || kid.size() > kMaxKidLength) return false;
  for (char c : kid) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-' &&
        c != '_') {
      return false;
    }
  }
  return true;
}

// Fd closes its descriptor when it goes away.
class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&& other) noexcept {
    std::swap(fd_, other.fd_);
    return *this;
  }
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

// LockDirectory takes the directory's flock: exclusive for writers (creating
// the lock file), shared for readers (without a lock file, readers go on
// unlocked: there is then no manifest either).
absl::StatusOr<Fd> LockDirectory(const std::string& dir, bool exclusive) {
  const std::string path = Join(dir, kLockFile);
  Fd fd(exclusive ? ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600)
                  : ::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    if (!exclusive && errno == ENOENT) return Fd();
    return DirError(dir,
                    absl::StrCat("cannot open ", kLockFile, ": ", Errno()));
  }
  int rc;
  do {
    rc = ::flock(fd.get(), exclusive ? LOCK_EX : LOCK_SH);
  } while (rc != 0 && errno == EINTR);
  if (rc != 0)
    return DirError(dir,
                    absl::StrCat("cannot lock ", kLockFile, ": ", Errno()));
  return fd;
}

// CheckDirectory refuses a missing directory or one that group or others may
// write (they could swap the manifest or the keys).
absl::Status CheckDirectory(const std::string& dir) {
  struct stat st;
  if (::stat(dir.c_str(), &st) != 0) {
    if (errno == ENOENT) {
      return absl::NotFoundError(
          absl::StrCat("key directory ", dir,
                       " does not exist (make one with `jwtauth keys "
                       "generate`)"));
    }
    return DirError(dir, Errno());
  }
  if (!S_ISDIR(st.st_mode)) return DirError(dir, "not a directory");
  if ((st.st_mode & 022) != 0) {
    return DirError(dir, absl::StrFormat("writable by group or others (mode "
                                         "%04o); run chmod 700 on it",
                                         st.st_mode & 07777));
  }
  return absl::OkStatus();
}

absl::Status SyncDirectory(const std::string& dir) {
  Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0 || ::fsync(fd.get()) != 0)
    return DirError(dir, absl::StrCat("cannot sync: ", Errno()));
  return absl::OkStatus();
}

// WriteFile writes `data` to `path` (mode 0600) and fsyncs it; a file it
// created but could not fill is removed. With `exclusive`, an existing file
// is an error instead of being replaced.
absl::Status WriteFile(const std::string& path, absl::string_view data,
                       bool exclusive) {
  Fd fd(::open(path.c_str(),
               O_WRONLY | O_CREAT | O_CLOEXEC | (exclusive ? O_EXCL : O_TRUNC),
               0600));
  if (fd.get() < 0)
    return absl::InternalError(
        absl::StrCat("cannot create ", path, ": ", Errno()));
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd.get(), data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const std::string error = Errno();
      ::unlink(path.c_str());
      return absl::InternalError(
          absl::StrCat("cannot write ", path, ": ", error));
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd.get()) != 0) {
    const std::string error = Errno();
    ::unlink(path.c_str());
    return absl::InternalError(absl::StrCat("cannot sync ", path, ": ", error));
  }
  return absl::OkStatus();
}

// Manifest ----------------------------------------------------------------

absl::StatusOr<absl::Time> TimeMember(const std::string& path,
                                      const jwt::Json& e,
                                      absl::string_view name, size_t index) {
  const jwt::Json* v = e.Find(name);
  if (v == nullptr || !v->int_value().has_value() || *v->int_value() < 0) {
    return ManifestError(
        path, absl::StrCat("key ", index, ": \"", name,
                           "\" must be a non-negative integer (Unix time)"));
  }
  return absl::FromUnixSeconds(*v->int_value());
}

absl::StatusOr<std::vector<KeyEntry>> ParseManifest(const std::string& path,
                                                    absl::string_view text) {
  absl::StatusOr<jwt::Json> doc = jwt::ParseJson(text);
  if (!doc.ok()) return ManifestError(path, "not valid JSON");
  const jwt::Json* keys = doc->is_object() ? doc->Find("keys") : nullptr;
  if (keys == nullptr || !keys->is_array())
    return ManifestError(path, "needs a \"keys\" array");
  std::vector<KeyEntry> entries;
  absl::flat_hash_set<std::string> kids;
  int active = 0;
  for (size_t i = 0; i < keys->size(); ++i) {
    const jwt::Json& e = keys->items()[i];
    if (!e.is_object())
      return ManifestError(path, absl::StrCat("key ", i, " is not an object"));
    KeyEntry entry;
    const jwt::Json* kid = e.Find("kid");
    if (kid == nullptr || !kid->is_string() || !ValidKid(kid->string_value())) {
      return ManifestError(path,
                           absl::StrCat("key ", i,
                                        ": \"kid\" must be 1-64 characters of "
                                        "A-Z a-z 0-9 - _"));
    }
    entry.kid = kid->string_value();
    if (!kids.insert(entry.kid).second) {
      return ManifestError(path,
                           absl::StrCat("kid \"", entry.kid, "\" repeats"));
    }
    const jwt::Json* alg = e.Find("alg");
    std::optional<jwt::Algorithm> parsed =
        alg != nullptr && alg->is_string()
            ? jwt::ParseAlgorithm(alg->string_value())
            : std::nullopt;
    if (!parsed.has_value()) {
      return ManifestError(
          path, absl::StrCat("key ", entry.kid,
                             ": \"alg\" is not a supported algorithm"));
    }
    entry.algorithm = *parsed;
    const jwt::Json* state = e.Find("state");
    const std::string s =
        state != nullptr && state->is_string() ? state->string_value() : "";
    if (s == "active") {
      entry.state = KeyState::kActive;
      ++active;
    } else if (s == "verify") {
      entry.state = KeyState::kVerify;
    } else if (s == "retired") {
      entry.state = KeyState::kRetired;
    } else {
      return ManifestError(
          path, absl::StrCat("key ", entry.kid,
                             ": \"state\" must be active, verify or retired"));
    }
    absl::StatusOr<absl::Time> created = TimeMember(path, e, "created", i);
    if (!created.ok()) return created.status();
    entry.created = *created;
    if (e.Find("verify_until") != nullptr || entry.state == KeyState::kVerify) {
      absl::StatusOr<absl::Time> until = TimeMember(path, e, "verify_until", i);
      if (!until.ok()) return until.status();
      entry.verify_until = *until;
    }
    if (e.Find("retired") != nullptr) {
      absl::StatusOr<absl::Time> retired = TimeMember(path, e, "retired", i);
      if (!retired.ok()) return retired.status();
      entry.retired = *retired;
    }
    entries.push_back(std::move(entry));
  }
  if (active != 1) {
    return ManifestError(
        path, absl::StrCat("needs exactly one active key, has ", active));
  }
  return entries;
}

std::string SerializeManifest(const std::vector<KeyEntry>& entries) {
  std::string out = "{\"keys\":[";
  for (size_t i = 0; i < entries.size(); ++i) {
    const KeyEntry& e = entries[i];
    jwt::Json j = jwt::Json::Object();
    j.Set("kid", jwt::Json::String(e.kid));
    j.Set("alg", jwt::Json::String(std::string(AlgorithmName(e.algorithm))));
    j.Set("state", jwt::Json::String(std::string(KeyStateName(e.state))));
    j.Set("created", jwt::Json::Int(absl::ToUnixSeconds(e.created)));
    if (e.verify_until.has_value()) {
      j.Set("verify_until",
            jwt::Json::Int(absl::ToUnixSeconds(*e.verify_until)));
    }
    if (e.retired.has_value())
      j.Set("retired", jwt::Json::Int(absl::ToUnixSeconds(*e.retired)));
    absl::StrAppend(&out, i == 0 ? "\n  " : ",\n  ", jwt::SerializeJson(j));
  }
  out += "\n]}\n";
  return out;
}

absl::StatusOr<std::vector<KeyEntry>> ReadManifest(const std::string& dir) {
  const std::string path = Join(dir, kManifest);
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (errno == ENOENT) {
      return absl::NotFoundError(
          absl::StrCat("key directory ", dir, " has no ", kManifest,
                       " (make one with `jwtauth keys generate`)"));
    }
    return ManifestError(path, Errno());
  }
  std::ostringstream buf;
  buf << in.rdbuf();
  const std::string text = buf.str();
  if (in.bad()) return ManifestError(path, "cannot read");
  if (text.size() > kMaxManifestSize) return ManifestError(path, "over 1 MiB");
  return ParseManifest(path, text);
}

absl::Status WriteManifest(const std::string& dir,
                           const std::vector<KeyEntry>& entries) {
  const std::string tmp = Join(dir, kManifestTmp);
  absl::Status written = WriteFile(tmp, SerializeManifest(entries), false);
  if (!written.ok()) return written;
  if (::rename(tmp.c_str(), Join(dir, kManifest).c_str()) != 0) {
    const std::string error = Errno();
    ::unlink(tmp.c_str());
    return absl::InternalError(
        absl::StrCat("cannot replace ", Join(dir, kManifest), ": ", error));
  }
  return SyncDirectory(dir);
}

// Key material ------------------------------------------------------------

absl::StatusOr<std::string> NewKid(const std::vector<KeyEntry>& existing) {
  for (;;) {
    unsigned char bytes[12];
    if (RAND_bytes(bytes, sizeof bytes) != 1)
      return absl::InternalError("the system random generator failed");
    std::string kid = jwt::Base64UrlEncode(
        absl::string_view(reinterpret_cast<const char*>(bytes), sizeof bytes));
    // A kid is passed on command lines (`jwtauth keys retire KID`): one
    // starting with '-' would be read as a flag, so draw again.
    if (kid.front() == '-') continue;
    bool taken = false;
    for (const KeyEntry& e : existing) taken = taken || e.kid == kid;
    if (!taken) return kid;
  }
}

// PrivatePem generates a key pair for `alg` and returns it as PKCS#8 PEM.
absl::StatusOr<std::string> PrivatePem(jwt::Algorithm alg) {
  EVP_PKEY* raw = nullptr;
  switch (jwt::FamilyOf(alg)) {
    case jwt::KeyFamily::kRsa:
    case jwt::KeyFamily::kRsaPss:
      raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{2048});
      break;
    case jwt::KeyFamily::kEcdsa:
      raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", jwt::EcCurveName(alg));
      break;
    case jwt::KeyFamily::kEdDSA:
      raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
      break;
    case jwt::KeyFamily::kHmac:
      break;
  }
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> pkey(raw, EVP_PKEY_free);
  if (pkey == nullptr) return absl::InternalError("key generation failed");
  // Secure-heap memory BIO: cleared when freed.
  std::unique_ptr<BIO, decltype(&BIO_free_all)> bio(BIO_new(BIO_s_secmem()),
                                                    BIO_free_all);
  if (bio == nullptr ||
      PEM_write_bio_PrivateKey(bio.get(), pkey.get(), nullptr, nullptr, 0,
                               nullptr, nullptr) != 1) {
    return absl::InternalError("private key could not be encoded");
  }
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(len));
}

// LoadKeyMaterial checks `material` with the jwt loaders.
absl::StatusOr<jwt::Key> LoadKeyMaterial(const KeyEntry& e,
                                         absl::string_view material,
                                         const std::string& path) {
  absl::StatusOr<jwt::Key> key =
      IsHmac(e.algorithm) ? jwt::HmacKeyFromSecret(e.algorithm, material, e.kid)
                          : jwt::KeyFromPem(e.algorithm, material, e.kid);
  if (!key.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("key file ", path, ": ", key.status().message()));
  }
  if (!key->can_sign()) {
    return absl::InvalidArgumentError(
        absl::StrCat("key file ", path, ": holds no private key"));
  }
  return key;
}

// CreateKeyFile generates the key of `e` and writes its file, durably.
absl::Status CreateKeyFile(const std::string& dir, const KeyEntry& e) {
  const std::string path = Join(dir, KeyFileName(e));
  absl::StatusOr<std::string> material =
      IsHmac(e.algorithm) ? jwt::GenerateSecret(jwt::DigestSize(e.algorithm))
                          : PrivatePem(e.algorithm);
  if (!material.ok()) return material.status();
  absl::Status s = LoadKeyMaterial(e, *material, path).status();
  if (s.ok()) s = WriteFile(path, *material, true);
  OPENSSL_cleanse(material->data(), material->size());
  if (!s.ok()) return s;
  return SyncDirectory(dir);
}

absl::StatusOr<jwt::Key> LoadKey(const std::string& dir, const KeyEntry& e) {
  const std::string path = Join(dir, KeyFileName(e));
  absl::StatusOr<std::string> material = ReadPrivateFile(path);
  if (!material.ok()) return material.status();
  absl::StatusOr<jwt::Key> key = LoadKeyMaterial(e, *material, path);
  OPENSSL_cleanse(material->data(), material->size());
  return key;
}

absl::Status MakeDirectories(const std::string& dir) {
  for (size_t pos = dir.find('/', 1);; pos = dir.find('/', pos + 1)) {
    const std::string prefix = dir.substr(0, pos);
    if (!prefix.empty() && ::mkdir(prefix.c_str(), 0700) != 0 &&
        errno != EEXIST) {
      return DirError(prefix, absl::StrCat("cannot create: ", Errno()));
    }
    if (pos == std::string::npos) return absl::OkStatus();
  }
}

absl::StatusOr<KeyEntry> AddActiveKey(const std::string& dir,
                                      std::vector<KeyEntry> entries,
                                      jwt::Algorithm alg, absl::Time now) {
  absl::StatusOr<std::string> kid = NewKid(entries);
  if (!kid.ok()) return kid.status();
  KeyEntry entry;
  entry.kid = *kid;
  entry.algorithm = alg;
  entry.state = KeyState::kActive;
  entry.created = absl::FromUnixSeconds(absl::ToUnixSeconds(now));
  absl::Status s = CreateKeyFile(dir, entry);
  if (!s.ok()) return s;
  entries.push_back(entry);
  s = WriteManifest(dir, entries);
  if (!s.ok()) {
    ::unlink(Join(dir, KeyFileName(entry)).c_str());
    return s;
  }
  return entry;
}

}  // namespace

absl::string_view KeyStateName(KeyState state) {
  switch (state) {
    case KeyState::kActive:
      return "active";
    case KeyState::kVerify:
      return "verify";
    case KeyState::kRetired:
      return "retired";
  }
  return "unknown";
}

absl::StatusOr<KeyEntry> KeyDirectory::Generate(jwt::Algorithm alg,
                                                absl::Time now) const {
  absl::Status s = MakeDirectories(path_);
  if (!s.ok()) return s;
  s = CheckDirectory(path_);
  if (!s.ok()) return s;
  absl::StatusOr<Fd> lock = LockDirectory(path_, true);
  if (!lock.ok()) return lock.status();
  struct stat st;
  if (::stat(Join(path_, kManifest).c_str(), &st) == 0) {
    return absl::AlreadyExistsError(absl::StrCat("key directory ", path_,
                                                 " already has ", kManifest,
                                                 "; use rotate to add a key"));
  }
  return AddActiveKey(path_, {}, alg, now);
}

absl::StatusOr<KeyEntry> KeyDirectory::Rotate(
    absl::Time now, absl::Duration verify_for,
    std::optional<jwt::Algorithm> alg) const {
  if (verify_for < absl::ZeroDuration() ||
      verify_for == absl::InfiniteDuration()) {
    return absl::InvalidArgumentError(
        "verify_for must be a finite, non-negative duration");
  }
  absl::Status s = CheckDirectory(path_);
  if (!s.ok()) return s;
  absl::StatusOr<Fd> lock = LockDirectory(path_, true);
  if (!lock.ok()) return lock.status();
  absl::StatusOr<std::vector<KeyEntry>> entries = ReadManifest(path_);
  if (!entries.ok()) return entries.status();
  jwt::Algorithm new_alg = jwt::Algorithm::kES256;
  for (KeyEntry& e : *entries) {
    if (e.state != KeyState::kActive) continue;
    new_alg = alg.value_or(e.algorithm);
    e.state = KeyState::kVerify;
    e.verify_until =
        absl::FromUnixSeconds(absl::ToUnixSeconds(now + verify_for));
  }
  return AddActiveKey(path_, *std::move(entries), new_alg, now);
}

absl::StatusOr<KeyEntry> KeyDirectory::Retire(absl::string_view kid,
                                              absl::Time now) const {
  absl::Status s = CheckDirectory(path_);
  if (!s.ok()) return s;
  absl::StatusOr<Fd> lock = LockDirectory(path_, true);
  if (!lock.ok()) return lock.status();
  absl::StatusOr<std::vector<KeyEntry>> entries = ReadManifest(path_);
  if (!entries.ok()) return entries.status();
  for (KeyEntry& e : *entries) {
    if (e.kid != kid) continue;
    if (e.state == KeyState::kActive) {
      return absl::FailedPreconditionError(
          absl::StrCat("key ", e.kid,
                       " is the active key and cannot be retired; rotate "
                       "first, then retire it"));
    }
    if (e.state == KeyState::kRetired) {
      return absl::FailedPreconditionError(
          absl::StrCat("key ", e.kid, " is already retired"));
    }
    e.state = KeyState::kRetired;
    e.retired = absl::FromUnixSeconds(absl::ToUnixSeconds(now));
    const KeyEntry retired = e;
    s = WriteManifest(path_, *entries);
    if (!s.ok()) return s;
    const std::string file = Join(path_, KeyFileName(retired));
    if (::unlink(file.c_str()) != 0 && errno != ENOENT) {
      return absl::InternalError(
          absl::StrCat("key ", retired.kid, " is retired but ", file,
                       " could not be deleted: ", Errno()));
    }
    s = SyncDirectory(path_);
    if (!s.ok()) return s;
    return retired;
  }
  return absl::NotFoundError(
      absl::StrCat("key directory ", path_, " has no key \"", kid, "\""));
}

absl::StatusOr<std::vector<KeyEntry>> KeyDirectory::List() const {
  absl::StatusOr<Fd> lock = LockDirectory(path_, false);
  if (!lock.ok()) return lock.status();
  return ReadManifest(path_);
}

absl::StatusOr<jwt::KeySet> KeyDirectory::Load(absl::Time now) const {
  absl::Status s = CheckDirectory(path_);
  if (!s.ok()) return s;
  absl::StatusOr<Fd> lock = LockDirectory(path_, false);
  if (!lock.ok()) return lock.status();
  absl::StatusOr<std::vector<KeyEntry>> entries = ReadManifest(path_);
  if (!entries.ok()) return entries.status();
  std::vector<jwt::Key> keys;
  for (const KeyEntry& e : *entries) {
    if (e.state != KeyState::kActive) continue;
    absl::StatusOr<jwt::Key> key = LoadKey(path_, e);
    if (!key.ok()) return key.status();
    keys.push_back(*std::move(key));
  }
  for (auto it = entries->rbegin(); it != entries->rend(); ++it) {
    if (it->state != KeyState::kVerify || *it->verify_until <= now) continue;
    absl::StatusOr<jwt::Key> key = LoadKey(path_, *it);
    if (!key.ok()) return key.status();
    keys.push_back(*std::move(key));
  }
  return jwt::KeySet::Create(std::move(keys));
}

}  // namespace jwtauth::server
