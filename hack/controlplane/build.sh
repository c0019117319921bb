#!/usr/bin/env bash
# Builds kube-apiserver, kube-controller-manager (for its garbage collector),
# kubectl and etcd from the Go module proxy into a
# cache folder keyed by their versions, and prints that folder. A cache hit
# is instant; a cold build takes about 10 minutes on 2 cores.
#
#   KNOBS_CACHE  where to cache (default ${XDG_CACHE_HOME:-~/.cache}/knobs)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "${here}/versions.env"

cache="${KNOBS_CACHE:-${XDG_CACHE_HOME:-${HOME}/.cache}/knobs}"
out="${cache}/controlplane/kubernetes-${KUBERNETES_VERSION}-etcd-${ETCD_VERSION}"
if [ -x "${out}/kube-apiserver" ] && [ -x "${out}/kube-controller-manager" ] && [ -x "${out}/kubectl" ] && [ -x "${out}/etcd" ]; then
  echo "${out}"
  exit 0
fi

major=${KUBERNETES_VERSION#v}; major=${major%%.*}
minor=${KUBERNETES_VERSION#v*.}; minor=${minor%%.*}
ldflags=""
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  # Unstamped, /version says v0.0.0-master and knative.dev/pkg refuses the
  # server as too old.
  ldflags+=" -X ${pkg}.gitVersion=${KUBERNETES_VERSION} -X ${pkg}.gitMajor=${major} -X ${pkg}.gitMinor=${minor}"
  ldflags+=" -X ${pkg}.gitTreeState=clean -X ${pkg}.buildDate=1970-01-01T00:00:00Z"
done

echo "building kube-apiserver, kube-controller-manager and kubectl ${KUBERNETES_VERSION} and etcd ${ETCD_VERSION} into ${out}" >&2
echo "(cold: about 10 minutes and 2.5 GB of build cache on 2 cores; later builds are instant)" >&2
tmp="${out}.tmp.$$"
mkdir -p "${tmp}"
trap 'rm -rf "${tmp}"' EXIT
cd "${here}"
start=$(date +%s)
# -v prints each package as it is compiled, so a long build shows progress.
CGO_ENABLED=0 go build -v -trimpath -ldflags "${ldflags}" -o "${tmp}/" \
  k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager k8s.io/kubernetes/cmd/kubectl ./cmd/etcd 2>&1 \
  | awk -v start="${start}" '
      / / { print > "/dev/stderr"; next }  # not a package path: a message or an error
      { n++; if (n % 200 == 0) printf "  ... %d packages compiled, %ds\n", n, systime() - start > "/dev/stderr" }' \
  || { echo "building the control plane failed" >&2; exit 1; }
mkdir -p "$(dirname "${out}")"
rm -rf "${out}"
mv "${tmp}" "${out}"
trap - EXIT
echo "built in $(( $(date +%s) - start ))s" >&2
echo "${out}"
