#!/usr/bin/env bash
# Fails when a generated file differs from what hack/update-codegen.sh makes
# from the sources in the tree. Runs the generators in a copy, so the working
# tree is never touched.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "${tmp}"' EXIT

# Copy the tree (tracked and untracked files, without the tool binaries) and
# regenerate there.
tar -C "${root}" --exclude=./.bin --exclude=./.git --exclude=./_output -cf - . | tar -C "${tmp}" -xf -
mkdir -p "${tmp}/.bin" && cp -a "${root}/.bin/." "${tmp}/.bin/" 2>/dev/null || true
"${tmp}/hack/update-codegen.sh"

if ! diff -ruN --exclude=.bin --exclude=.git "${root}/pkg" "${tmp}/pkg"; then
  echo "generated code is stale: run hack/update-codegen.sh and commit the result" >&2
  exit 1
fi
echo "generated code is up to date" >&2
