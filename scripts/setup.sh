#!/usr/bin/env bash
# Installs the Debian packages caraway needs to build and test. Only missing
# packages are installed, so re-running it is cheap and needs no network.
set -euo pipefail

packages=(
  build-essential
  cmake
  libcaf-dev
  libprotobuf-dev
  protobuf-compiler
  libboost-program-options-dev
  doctest-dev
  libssl-dev
  nlohmann-json3-dev
  libcpp-httplib-dev
  pkgconf
  # The dashboard's test opens it in a headless browser.
  chromium
  fonts-dejavu-core
)

missing=()
for pkg in "${packages[@]}"; do
  # dpkg-query fails for packages it has never seen; treat that as missing.
  status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
  if [[ "$status" != "install ok installed" ]]; then
    missing+=("$pkg")
  fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
  exit 0
fi

echo "setup: installing ${missing[*]}"
sudo=()
if [[ $(id -u) -ne 0 ]]; then
  sudo=(sudo)
fi
# Passed through env because sudo drops the caller's environment; CI has no
# stdin and must never stop at a debconf prompt.
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
