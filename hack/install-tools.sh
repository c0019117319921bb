#!/usr/bin/env bash
# Installs the tools the build and the tests need, at pinned versions:
#   - protoc from Debian's protobuf-compiler package;
#   - the Go tools pinned in hack/tools/go.mod (protoc plugins, the
#     cloudevents CLI), built into .bin/ at the repository root.
#   - with --chromium, Chromium from Debian's chromium package, for the
#     dashboard's browser tests and screenshots (headless, driven by chromedp).
# Safe to run again: what is already there is kept. With --no-protoc, only
# the Go tools: enough for the tests, which need no protoc.
set -euo pipefail
with_protoc=1
with_chromium=0
for arg in "$@"; do
  case "${arg}" in
    --no-protoc) with_protoc=0 ;;
    --chromium) with_chromium=1 ;;
    *) echo "unknown option ${arg}: use --no-protoc, --chromium" >&2; exit 2 ;;
  esac
done

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin="${root}/.bin"
# What matters is the protoc release (it shapes the generated code), not the
# Debian revision of the package: security updates replace revisions in the
# archive (3.21.12-3 became 3.21.12-3+deb12u1), so the package is asked for
# by name and the installed protoc's own version is checked.
protoc_version="3.21.12"

protoc_ok() { command -v protoc >/dev/null 2>&1 && [ "$(protoc --version 2>/dev/null)" = "libprotoc ${protoc_version}" ]; }

mkdir -p "${bin}"

if [ "${with_protoc}" = 1 ] && ! protoc_ok; then
  echo "installing protoc ${protoc_version} (Debian's protobuf-compiler)" >&2
  sudo_cmd=""
  if [ "$(id -u)" != 0 ]; then sudo_cmd="sudo"; fi
  ${sudo_cmd} apt-get install -y -q protobuf-compiler >/dev/null 2>&1 || {
    ${sudo_cmd} apt-get update -q >/dev/null
    ${sudo_cmd} apt-get install -y -q protobuf-compiler >/dev/null
  }
  if ! protoc_ok; then
    echo "protoc ${protoc_version} is needed to generate pkg/api; found: $(protoc --version 2>&1 || echo none)." >&2
    echo "Install protoc ${protoc_version} on PATH (Debian bookworm's protobuf-compiler has it) and run again." >&2
    exit 1
  fi
fi

chromium_ok() { command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; }
if [ "${with_chromium}" = 1 ] && ! chromium_ok; then
  echo "installing Chromium (Debian's chromium)" >&2
  sudo_cmd=""
  if [ "$(id -u)" != 0 ]; then sudo_cmd="sudo"; fi
  ${sudo_cmd} apt-get install -y -q --no-install-recommends chromium >/dev/null 2>&1 || {
    ${sudo_cmd} apt-get update -q >/dev/null
    ${sudo_cmd} apt-get install -y -q --no-install-recommends chromium >/dev/null
  }
  chromium_ok || { echo "Chromium is needed for the browser tests; install Debian's chromium package." >&2; exit 1; }
fi

# One go build for every tool of the tools module; Go's build cache makes a
# second run fast.
(cd "${root}/hack/tools" && go build -o "${bin}/" tool)
echo "${bin}"
