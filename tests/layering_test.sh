#!/usr/bin/env bash
# Checks the module rules of STYLE.md that include paths alone cannot: which
# folders may include which third-party headers. (Includes of another
# module's headers fail to compile unless the module is linked.)
set -u
root=${1:?usage: layering_test.sh SOURCE_DIR}
cd "$root" || exit 2
fail=0
check() {  # check PATTERN ALLOWED_DIRS... : PATTERN only in ALLOWED_DIRS
  local pattern=$1; shift
  local hits
  hits=$(grep -rlE "#include *[<\"]$pattern" common stream state rules metrics daemon 2>/dev/null)
  for f in $hits; do
    local ok=0
    for d in "$@"; do [[ $f == $d/* ]] && ok=1; done
    if [ $ok -eq 0 ]; then echo "layering: $f includes $pattern"; fail=1; fi
  done
}
check 'lmdb\.h' state
check 'librdkafka/' stream
check 'roaring' rules state
check 'simdjson' stream daemon
check 'prometheus/' metrics daemon
check 'boost/' daemon
exit $fail
