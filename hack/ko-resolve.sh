#!/usr/bin/env bash
# Resolves the ko:// images of config/ into image references, offline, and
# prints the resolved YAML on stdout:
#   1. builds ko (pinned in hack/tools/go.mod) and hack/cmd/baseimage;
#   2. writes the minimal base image of .ko.yaml into ko's cache
#      (_output/ko/cache/img), with no registry and no container daemon;
#   3. runs ko resolve --push=false: every ko:// image is built and named
#      in $KO_DOCKER_REPO (default registry.example.com/knobs) by digest,
#      and nothing is pushed.
# Only the Go module proxy is used, to fetch modules not yet in the module
# cache. It fails if any ko:// reference is left.
#
#   hack/ko-resolve.sh                                   # all of config/
#   hack/ko-resolve.sh -f config/600-function-random.yaml
#   KO_DEFAULTPLATFORMS=linux/amd64,linux/arm64 hack/ko-resolve.sh
#
# Arguments, when given, replace "-f config/" and go to ko resolve as they
# are. Progress and timings go to stderr.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin="${root}/.bin"
cd "${root}"

start=${EPOCHREALTIME/./}
elapsed() { local now=${EPOCHREALTIME/./}; printf '%d.%02ds' $(((now - start) / 1000000)) $(((now - start) % 1000000 / 10000)); }

mkdir -p "${bin}"
(cd hack/tools && go build -o "${bin}/ko" github.com/google/ko)
(cd hack/tools && go build -o "${bin}/baseimage" ../cmd/baseimage/main.go)
echo "ko-resolve: tools built ($(elapsed))" >&2

export KOCACHE="${KOCACHE:-${root}/_output/ko/cache}"
mkdir -p "${KOCACHE}"
digest=$("${bin}/baseimage" -layout "${KOCACHE}/img")
base="knobs.invalid/base@${digest}"
# The offline base replaces .ko.yaml's (which `ko apply` uses against a real
# registry) unless KO_DEFAULTBASEIMAGE names another.
export KO_DEFAULTBASEIMAGE="${KO_DEFAULTBASEIMAGE:-${base}}"
echo "ko-resolve: base ${KO_DEFAULTBASEIMAGE} in ${KOCACHE}/img ($(elapsed))" >&2

export KO_DOCKER_REPO="${KO_DOCKER_REPO:-registry.example.com/knobs}"
if [ $# -eq 0 ]; then
  set -- -f config/
fi
out=$(mktemp)
trap 'rm -f "${out}"' EXIT
"${bin}/ko" resolve --push=false "$@" >"${out}"

if grep -n 'ko://' "${out}" >&2; then
  echo "ko-resolve: the lines above still name ko:// images" >&2
  exit 1
fi
cat "${out}"
echo "ko-resolve: resolved in $(elapsed)" >&2
