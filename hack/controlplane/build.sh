#!/usr/bin/env bash
# Finds kube-apiserver, kube-controller-manager (for its garbage collector),
# kubectl and etcd, and prints a folder that holds all four. Each is looked
# for, in order:
#
#   1. in $KUBEBUILDER_ASSETS (the folder controller-runtime's envtest uses);
#   2. on the PATH;
#   3. in the cache, keyed by the pinned versions of versions.env;
#   4. downloaded into the cache: the official release binaries of the
#      pinned versions (dl.k8s.io for Kubernetes, etcd's GitHub release),
#      each checked against its published SHA-256 sum; a binary whose sum
#      does not match is not installed;
#   5. built from the Go module proxy into the cache (about 10 minutes on
#      2 cores the first time).
#
# A binary in $KUBEBUILDER_ASSETS is used whatever its version (the
# version is printed when it is not the pinned one); one on the PATH only
# when it is the pinned version, since a distribution's package or a
# cloud SDK's wrapper may be far from it. When they come from several
# places, the folder printed holds links to them.
#
#   KNOBS_CACHE                    where to cache (default ${XDG_CACHE_HOME:-~/.cache}/knobs)
#   KNOBS_KUBERNETES_RELEASE_URL   Kubernetes releases (default https://dl.k8s.io/release), for mirrors
#   KNOBS_ETCD_RELEASE_URL         etcd releases (default https://github.com/etcd-io/etcd/releases/download)
#   KNOBS_CONTROLPLANE_DOWNLOAD=0  never download
#   KNOBS_CONTROLPLANE_BUILD=0     never build: fail, naming what is missing
#
# Only the folder goes to stdout; what it does goes to stderr.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "${here}/versions.env"

cache="${KNOBS_CACHE:-${XDG_CACHE_HOME:-${HOME}/.cache}/knobs}"
out="${cache}/controlplane/kubernetes-${KUBERNETES_VERSION}-etcd-${ETCD_VERSION}"
k8s_url="${KNOBS_KUBERNETES_RELEASE_URL:-https://dl.k8s.io/release}"
etcd_url="${KNOBS_ETCD_RELEASE_URL:-https://github.com/etcd-io/etcd/releases/download}"
names=(kube-apiserver kube-controller-manager kubectl etcd)
declare -A found=()

log() { echo "$*" >&2; }

# version prints what a binary says its version is.
version() {
  case "$(basename "$1")" in
    etcd) "$1" --version 2>/dev/null | sed -n 's/^etcd Version: \(.*\)/v\1/p' | head -n1 ;;
    kubectl) "$1" version --client 2>/dev/null | sed -n 's/^Client Version: \(.*\)/\1/p' | head -n1 ;;
    *) "$1" --version 2>/dev/null | sed -n 's/^Kubernetes \(.*\)/\1/p' | head -n1 ;;
  esac
}

pinned() { if [ "$1" = etcd ]; then echo "${ETCD_VERSION}"; else echo "${KUBERNETES_VERSION}"; fi; }

# use records where a binary was found, and says so unless it is the
# cache's.
use() {
  local name=$1 path=$2 from=$3
  found[${name}]=${path}
  [ "${from}" = cache ] && return
  local v
  v=$(version "${path}")
  if [ "${v}" = "$(pinned "${name}")" ]; then
    log "${name}: ${path} (${from})"
  else
    log "${name}: ${path} (${from}), version ${v:-unknown}; the pinned one is $(pinned "${name}")"
  fi
}

missing() {
  local n
  for n in "${names[@]}"; do [ -n "${found[${n}]:-}" ] || echo "${n}"; done
}

# 1 to 3: what is already on this machine.
for name in "${names[@]}"; do
  if [ -n "${KUBEBUILDER_ASSETS:-}" ] && [ -x "${KUBEBUILDER_ASSETS}/${name}" ]; then
    use "${name}" "${KUBEBUILDER_ASSETS}/${name}" KUBEBUILDER_ASSETS
    continue
  fi
  if path=$(command -v "${name}" 2>/dev/null) && [ -x "${path}" ]; then
    v=$(version "${path}")
    if [ "${v}" = "$(pinned "${name}")" ]; then
      use "${name}" "${path}" PATH
      continue
    fi
    [ -x "${out}/${name}" ] || log "${name}: not using ${path} from the PATH: its version is ${v:-unknown}, not the pinned $(pinned "${name}")"
  fi
  if [ -x "${out}/${name}" ]; then
    use "${name}" "${out}/${name}" cache
  fi
done

# sha256 prints a file's SHA-256 sum.
sha256() { sha256sum "$1" | cut -d' ' -f1; }

# fetch downloads a URL to a file, failing fast when the server cannot be
# reached.
fetch() { curl -fsSL --connect-timeout 5 --max-time 900 -o "$2" "$1"; }

arch=$(uname -m)
case "${arch}" in x86_64) arch=amd64 ;; aarch64) arch=arm64 ;; esac
os=$(uname -s | tr '[:upper:]' '[:lower:]')

# 4: the official release binaries, checked.
download() {
  local tmp=$1 name want got
  local k8s=() etcd=0
  for name in $(missing); do
    if [ "${name}" = etcd ]; then etcd=1; else k8s+=("${name}"); fi
  done
  for name in "${k8s[@]}"; do
    local url="${k8s_url}/${KUBERNETES_VERSION}/bin/${os}/${arch}/${name}"
    if ! fetch "${url}.sha256" "${tmp}/${name}.sha256"; then
      log "${name}: cannot download ${url}.sha256; skipping the Kubernetes downloads"
      break
    fi
    log "${name}: downloading ${url}"
    if ! fetch "${url}" "${tmp}/${name}"; then
      log "${name}: the download of ${url} failed"
      continue
    fi
    want=$(tr -d '[:space:]' < "${tmp}/${name}.sha256")
    got=$(sha256 "${tmp}/${name}")
    if [ "${got}" != "${want}" ]; then
      log "${name}: checksum mismatch for ${url}: got ${got}, ${url}.sha256 says ${want}; not installed"
      rm -f "${tmp}/${name}"
      continue
    fi
    install -m 0755 "${tmp}/${name}" "${out}/${name}"
    use "${name}" "${out}/${name}" "downloaded, sha256 ${got}"
  done
  [ "${etcd}" = 1 ] || return 0
  local tarball="etcd-${ETCD_VERSION}-${os}-${arch}.tar.gz"
  local url="${etcd_url}/${ETCD_VERSION}/${tarball}"
  if ! fetch "${etcd_url}/${ETCD_VERSION}/SHA256SUMS" "${tmp}/SHA256SUMS"; then
    log "etcd: cannot download ${etcd_url}/${ETCD_VERSION}/SHA256SUMS; skipping the etcd download"
    return 0
  fi
  want=$(awk -v f="${tarball}" '$2 == f || $2 == "*" f { print $1 }' "${tmp}/SHA256SUMS")
  if [ -z "${want}" ]; then
    log "etcd: ${etcd_url}/${ETCD_VERSION}/SHA256SUMS has no sum for ${tarball}; not downloaded"
    return 0
  fi
  log "etcd: downloading ${url}"
  if ! fetch "${url}" "${tmp}/${tarball}"; then
    log "etcd: the download of ${url} failed"
    return 0
  fi
  got=$(sha256 "${tmp}/${tarball}")
  if [ "${got}" != "${want}" ]; then
    log "etcd: checksum mismatch for ${url}: got ${got}, SHA256SUMS says ${want}; not installed"
    return 0
  fi
  if ! tar -xzf "${tmp}/${tarball}" -C "${tmp}" "etcd-${ETCD_VERSION}-${os}-${arch}/etcd"; then
    log "etcd: ${tarball} holds no etcd-${ETCD_VERSION}-${os}-${arch}/etcd; not installed"
    return 0
  fi
  install -m 0755 "${tmp}/etcd-${ETCD_VERSION}-${os}-${arch}/etcd" "${out}/etcd"
  use etcd "${out}/etcd" "downloaded, sha256 ${got}"
}

# 5: built from source.
build() {
  local tmp=$1 name pkgs=()
  for name in $(missing); do
    case "${name}" in
      etcd) pkgs+=(./cmd/etcd) ;;
      *) pkgs+=("k8s.io/kubernetes/cmd/${name}") ;;
    esac
  done
  local major=${KUBERNETES_VERSION#v}; major=${major%%.*}
  local minor=${KUBERNETES_VERSION#v*.}; minor=${minor%%.*}
  local ldflags="" pkg
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    # Unstamped, /version says v0.0.0-master and knative.dev/pkg refuses the
    # server as too old.
    ldflags+=" -X ${pkg}.gitVersion=${KUBERNETES_VERSION} -X ${pkg}.gitMajor=${major} -X ${pkg}.gitMinor=${minor}"
    ldflags+=" -X ${pkg}.gitTreeState=clean -X ${pkg}.buildDate=1970-01-01T00:00:00Z"
  done
  log "building $(missing | tr '\n' ' ')(Kubernetes ${KUBERNETES_VERSION}, etcd ${ETCD_VERSION}) into ${out}"
  log "(cold: about 10 minutes and 2.5 GB of build cache on 2 cores; later builds are instant)"
  local start
  start=$(date +%s)
  mkdir -p "${tmp}/build"
  # -v prints each package as it is compiled, so a long build shows progress.
  (cd "${here}" && CGO_ENABLED=0 go build -v -trimpath -ldflags "${ldflags}" -o "${tmp}/build/" "${pkgs[@]}" 2>&1) \
    | awk -v start="${start}" '
        / / { print > "/dev/stderr"; next }  # not a package path: a message or an error
        { n++; if (n % 200 == 0) printf "  ... %d packages compiled, %ds\n", n, systime() - start > "/dev/stderr" }' \
    || { log "building the control plane failed"; exit 1; }
  for name in $(missing); do
    mv "${tmp}/build/${name}" "${out}/${name}"
    found[${name}]="${out}/${name}"
  done
  log "built in $(( $(date +%s) - start ))s"
}

if [ -n "$(missing)" ]; then
  mkdir -p "${out}"
  tmp=$(mktemp -d "${out}.tmp.XXXXXX")
  trap 'rm -rf "${tmp}"' EXIT
  if [ "${KNOBS_CONTROLPLANE_DOWNLOAD:-1}" != 0 ]; then
    download "${tmp}"
  fi
  if [ -n "$(missing)" ]; then
    if [ "${KNOBS_CONTROLPLANE_BUILD:-1}" = 0 ]; then
      log "not found, and not built (KNOBS_CONTROLPLANE_BUILD=0): $(missing | tr '\n' ' ')"
      exit 1
    fi
    build "${tmp}"
  fi
fi

# All four in the cache's folder: that folder. Otherwise a folder of links
# to them, named for where they are, so that runs with other binaries do
# not share it.
same=1
for name in "${names[@]}"; do [ "${found[${name}]}" = "${out}/${name}" ] || same=0; done
if [ "${same}" = 1 ]; then
  echo "${out}"
  exit 0
fi
key=$(for name in "${names[@]}"; do echo "${found[${name}]}"; done | sha256sum | cut -c1-16)
links="${cache}/controlplane/links-${key}"
if [ ! -d "${links}" ]; then
  mkdir -p "${cache}/controlplane"
  tmpl=$(mktemp -d "${links}.tmp.XXXXXX")
  for name in "${names[@]}"; do ln -s "${found[${name}]}" "${tmpl}/${name}"; done
  mv -T "${tmpl}" "${links}" 2>/dev/null || rm -rf "${tmpl}" # another run made it first
fi
echo "${links}"
