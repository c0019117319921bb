#!/usr/bin/env bash
# Writes this module's go.mod and go.sum: k8s.io/kubernetes at the pinned
# version, with each staging module it replaces by ./staging/... replaced by
# its published release instead (read from k8s.io/kubernetes' own go.mod, not
# copied by hand), and etcd's server. Run it after changing versions.env.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
source ./versions.env

rm -f go.mod go.sum
go mod init knobs.dev/knobs/hack/controlplane >/dev/null 2>&1
gomod=$(go mod download -json "k8s.io/kubernetes@${KUBERNETES_VERSION}" | sed -n 's/^\s*"GoMod": "\(.*\)",$/\1/p')
[ -f "${gomod}" ] || { echo "cannot read k8s.io/kubernetes@${KUBERNETES_VERSION}'s go.mod" >&2; exit 1; }

replaces=()
while read -r mod; do
  case "${mod}" in k8s.io/sample-*) continue ;; esac
  replaces+=("-replace=${mod}=${mod}@${STAGING_VERSION}")
done < <(awk '$2 == "=>" && $3 ~ /^\.\/staging\// { print $1 }' "${gomod}")
echo "replacing ${#replaces[@]} staging modules with their ${STAGING_VERSION} releases" >&2
go mod edit "${replaces[@]}"

# Explicit versions: without them Go moves to a newer Kubernetes while the
# replaces stay, and the build fails.
go get "k8s.io/kubernetes@${KUBERNETES_VERSION}" "go.etcd.io/etcd/server/v3@${ETCD_VERSION}"
go mod tidy
