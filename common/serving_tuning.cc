#include "common/serving_tuning.h"

#include <malloc.h>

#include <climits>

#include "absl/synchronization/mutex.h"

namespace jwtauth::common {

bool TuneForServing(size_t trim_threshold_bytes) {
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  if (trim_threshold_bytes == 0) return true;
  if (trim_threshold_bytes > static_cast<size_t>(INT_MAX)) return false;
  return mallopt(M_TRIM_THRESHOLD, static_cast<int>(trim_threshold_bytes)) == 1;
}

}  // namespace jwtauth::common
