#!/usr/bin/env bash
# Installs Debian's Optuna 3.1.0 and SciPy (for its QMC sampler) when no
# python3 imports optuna, for the optuna-* rows of make bench-quality.
# Needs apt-get and root (or sudo); make test and CI do not need it.
set -euo pipefail

for py in python3 /usr/bin/python3; do
  if "$py" -c 'import optuna, scipy' 2>/dev/null; then
    exit 0
  fi
done
sudo=""
if [ "$(id -u)" != 0 ]; then
  sudo="sudo"
fi
echo "==> apt-get install python3-optuna python3-scipy (for the optuna-* rows)" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends python3-optuna python3-scipy >/dev/null
