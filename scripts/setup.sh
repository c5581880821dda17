#!/usr/bin/env bash
# Install what deepgen needs to build, test and run its examples on Debian 12.
# The CUDA toolkit is optional (kernels build when /usr/local/cuda/bin/nvcc exists).
# wordnet-base is the sentence VAE's corpus (/usr/share/wordnet); doxygen
# builds the API reference (the docs target).
set -euo pipefail
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
  ca-certificates curl cmake ninja-build g++ git libeigen3-dev catch2 nlohmann-json3-dev \
  libstb-dev libcli11-dev libbenchmark-dev wordnet-base doxygen >/dev/null
echo "setup: build dependencies installed"
