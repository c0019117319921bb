#!/usr/bin/env bash
# Installs the tools the build and the tests need, at pinned versions:
#   - protoc from Debian's protobuf-compiler package;
#   - the Go tools pinned in hack/tools/go.mod (protoc plugins, the
#     cloudevents CLI), built into .bin/ at the repository root.
# Safe to run again: what is already there is kept. With --no-protoc, only
# the Go tools: enough for the tests, which need no protoc.
set -euo pipefail
with_protoc=1
[ "${1:-}" = "--no-protoc" ] && with_protoc=0

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin="${root}/.bin"
protoc_version="3.21.12"
protoc_deb="protobuf-compiler=3.21.12-3"

mkdir -p "${bin}"

if [ "${with_protoc}" = 1 ] && { ! command -v protoc >/dev/null 2>&1 || ! protoc --version | grep -q "${protoc_version}"; }; then
  echo "installing ${protoc_deb} from Debian" >&2
  sudo_cmd=""
  if [ "$(id -u)" != 0 ]; then sudo_cmd="sudo"; fi
  ${sudo_cmd} apt-get install -y -q "${protoc_deb}" >/dev/null || {
    ${sudo_cmd} apt-get update -q >/dev/null
    ${sudo_cmd} apt-get install -y -q "${protoc_deb}" >/dev/null
  }
fi

# One go build for every tool of the tools module; Go's build cache makes a
# second run fast.
(cd "${root}/hack/tools" && go build -o "${bin}/" tool)
echo "${bin}"
