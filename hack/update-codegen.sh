#!/usr/bin/env bash
# Regenerates every generated file of the project from its source:
#   - Go code for the gRPC API in pkg/api/v1alpha3 (protoc + plugins).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin=$("${root}/hack/install-tools.sh")
export PATH="${bin}:${PATH}"

cd "${root}"
echo "generating Go for pkg/api/v1alpha3/api.proto" >&2
protoc \
  --proto_path=. \
  --go_out=. --go_opt=module=knobs.dev/knobs \
  --go-grpc_out=. --go-grpc_opt=module=knobs.dev/knobs \
  pkg/api/v1alpha3/api.proto
