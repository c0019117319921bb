#!/usr/bin/env bash
# Regenerates every generated file of the project from its source:
#   - Go code for the gRPC API in pkg/suggestionpb (protoc + plugins);
#   - deepcopy functions for the API types in pkg/apis;
#   - the clientset, listers and informers in pkg/client (k8s.io/code-generator);
#   - knative injection and genreconciler in pkg/client/injection
#     (knative.dev/pkg's injection-gen).
# The generators are pinned in hack/tools/go.mod and called directly.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin=$("${root}/hack/install-tools.sh")
export PATH="${bin}:${PATH}"
cd "${root}"

module=knobs.dev/knobs
header="${root}/hack/boilerplate.go.txt"
apis=("${module}/pkg/apis/tuning/v1alpha1")
client="${module}/pkg/client"

echo "protoc: pkg/suggestionpb/suggestion.proto" >&2
protoc \
  --proto_path=. \
  --go_out=. --go_opt=module="${module}" \
  --go-grpc_out=. --go-grpc_opt=module="${module}" \
  pkg/suggestionpb/suggestion.proto

echo "deepcopy-gen: ${apis[*]}" >&2
deepcopy-gen --go-header-file "${header}" --output-file zz_generated.deepcopy.go "${apis[@]}"

# Start from nothing so that files of removed types do not linger.
rm -rf pkg/client

echo "client-gen: pkg/client/clientset" >&2
inputs=()
for a in "${apis[@]}"; do inputs+=(--input "${a#"${module}/pkg/apis/"}"); done
client-gen --go-header-file "${header}" \
  --clientset-name versioned \
  --input-base "${module}/pkg/apis" "${inputs[@]}" \
  --output-dir pkg/client/clientset --output-pkg "${client}/clientset"

echo "lister-gen: pkg/client/listers" >&2
lister-gen --go-header-file "${header}" \
  --output-dir pkg/client/listers --output-pkg "${client}/listers" "${apis[@]}"

echo "informer-gen: pkg/client/informers" >&2
informer-gen --go-header-file "${header}" \
  --versioned-clientset-package "${client}/clientset/versioned" \
  --listers-package "${client}/listers" \
  --output-dir pkg/client/informers --output-pkg "${client}/informers" "${apis[@]}"

echo "injection-gen: pkg/client/injection" >&2
injection-gen --go-header-file "${header}" \
  --input-dirs "$(IFS=,; echo "${apis[*]}")" \
  --versioned-clientset-package "${client}/clientset/versioned" \
  --external-versions-informers-package "${client}/informers/externalversions" \
  --listers-package "${client}/listers" \
  --output-package "${client}/injection" \
  --output-dir pkg/client/injection
