#!/bin/bash
# Installs what husk needs to build and test, from Debian 12's archive. Idempotent.
set -euo pipefail
PKGS=(g++ cmake make pkg-config file libseccomp-dev libcap-dev nlohmann-json3-dev libcli11-dev libfmt-dev catch2 busybox-static)
missing=()
for p in "${PKGS[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "deps: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null
fi
