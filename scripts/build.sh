#!/usr/bin/env bash
# Installs missing dependencies, then configures and builds caraway in build/
# (Release). Executables land in build/bin/.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

bash scripts/setup.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release
# Two jobs: the machines this runs on have two cores and little memory per job.
cmake --build build -j2
