#!/usr/bin/env bash
# consumer_test.sh BUILD_DIR SOURCE_DIR: installs jwtauth from BUILD_DIR into a
# temporary prefix, checks that every installed public header compiles on its
# own, then configures and builds an out-of-tree project (consumer/) whose
# source is the C++ snippets of README.md, extracted verbatim.
set -euo pipefail
build="$1"
src="$2"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cmake --install "$build" --prefix "$work/prefix" > "$work/install.log"

inc="$work/prefix/include/jwtauth"
count=0
for h in $(cd "$inc" && find jwt client interceptors common -name '*.h' | sort); do
  if ! echo "#include \"$h\"" | g++ -std=c++17 -fsyntax-only -Wall -Wextra -x c++ -I "$inc" -; then
    echo "FAIL: installed header $h does not compile on its own" >&2
    exit 1
  fi
  count=$((count + 1))
done
for internal in jwt/key_data.h jwt/openssl_util.h jwt/header.h; do
  if [ -e "$inc/$internal" ]; then echo "FAIL: internal header $internal installed" >&2; exit 1; fi
done
echo "$count public headers compile on their own"

mkdir -p "$work/consumer"
cp "$src/tests/packaging/consumer/CMakeLists.txt" "$src/tests/packaging/consumer/main.cc" "$work/consumer/"
/usr/bin/python3 - "$src/README.md" "$work/consumer/snippets.cc" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
blocks = re.findall(r"<!-- snippet: compiled by tests/packaging/consumer_test.sh -->\n```cpp\n(.*?)```", text, re.S)
if len(blocks) < 2:
    sys.exit("README.md: expected at least 2 compiled snippets, found %d" % len(blocks))
open(sys.argv[2], "w").write("\n".join(blocks))
print("%d README snippets extracted" % len(blocks))
PY
cmake -S "$work/consumer" -B "$work/consumer/build" -G Ninja -DCMAKE_PREFIX_PATH="$work/prefix" \
  > "$work/configure.log" || { cat "$work/configure.log"; exit 1; }
cmake --build "$work/consumer/build" > "$work/build.log" 2>&1 || { cat "$work/build.log"; exit 1; }
"$work/consumer/build/consumer"
echo "consumer built against the installed package"
