#!/usr/bin/env bash
# Runs Knobs' functions on this machine and asks them for suggestions for the
# experiment of the Katib Suggestion design (examples/requests/): random
# search over CloudEvents (binary protobuf and JSON), gRPC and curl, then grid
# search until its space is used up. No cluster needed.
#
#   RANDOM_PORT, GRID_PORT  ports to serve on (default 8081, 8082)
#   KEEP=1                  keep the functions running until Ctrl-C
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "${root}"
out="${root}/_output"
mkdir -p "${out}/bin" "${out}/logs"
random_port=${RANDOM_PORT:-8081}
grid_port=${GRID_PORT:-8082}

echo "==> building functions/random, functions/grid and cmd/suggest"
go build -o "${out}/bin/" ./functions/random ./functions/grid ./cmd/suggest

pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -TERM "${pid}" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT INT TERM

start() { # name port
  PORT=$2 "${out}/bin/$1" 2>"${out}/logs/$1.log" &
  pids+=($!)
  for _ in $(seq 1 100); do
    if curl -fsS "http://127.0.0.1:$2/healthz" >/dev/null 2>&1; then
      echo "    $1 serving on http://127.0.0.1:$2 (log: _output/logs/$1.log)"
      return
    fi
    if ! kill -0 "${pids[-1]}" 2>/dev/null; then
      echo "$1 did not start:" >&2; cat "${out}/logs/$1.log" >&2; exit 1
    fi
    sleep 0.1
  done
  echo "$1 did not answer on port $2 within 10s" >&2; exit 1
}

echo "==> starting the functions"
start random "${random_port}"
start grid "${grid_port}"
suggest="${out}/bin/suggest"

echo
echo "==> random: 3 suggestions over CloudEvents (binary protobuf)"
"${suggest}" -url "http://127.0.0.1:${random_port}" -f examples/requests/random.json
echo
echo "==> random: the same request as protobuf JSON gives the same reply"
"${suggest}" -url "http://127.0.0.1:${random_port}" -json -f examples/requests/random.json
echo
echo "==> random: 3 suggestions over gRPC"
"${suggest}" -url "127.0.0.1:${random_port}" -grpc -f examples/requests/random.json
echo
echo "==> random: ValidateAlgorithmSettings"
"${suggest}" -url "http://127.0.0.1:${random_port}" -validate -f examples/requests/random.json
echo
echo "==> random: a bad setting is refused with what to fix"
sed 's/"algorithmName": "random"}/"algorithmName": "random", "algorithmSettings": [{"name": "random_state", "value": "-1"}]}/' \
  examples/requests/random.json | "${suggest}" -url "http://127.0.0.1:${random_port}" -f - 2>&1 || true
echo
echo "==> grid: all 60 points of the stepped space, 25 at a time, each exactly once"
"${suggest}" -url "http://127.0.0.1:${grid_port}" -n 25 -rounds 10 -f examples/requests/grid.json
echo
echo "==> the same from the command line, as a plain curl of a binary-mode CloudEvent:"
echo "    curl -s http://127.0.0.1:${random_port} -H 'ce-specversion: 1.0' -H 'ce-type: dev.knobs.suggestion.request' \\"
echo "      -H 'ce-source: me' -H 'ce-id: 1' -H 'content-type: application/json' --data @examples/requests/random.json"
curl -s "http://127.0.0.1:${random_port}" -H 'ce-specversion: 1.0' -H 'ce-type: dev.knobs.suggestion.request' \
  -H 'ce-source: me' -H 'ce-id: 1' -H 'content-type: application/json' --data @examples/requests/random.json
echo

if [ "${KEEP:-}" = 1 ]; then
  echo
  echo "==> serving until Ctrl-C"
  wait
fi
