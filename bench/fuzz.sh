#!/usr/bin/env bash
# Long fuzz run of the readers (CSV, IDX, image/label pairs), the model file and checkpoints:
# the unit suite's CsCheck properties with many more cases each (default 100,000; model files twice that).
# Usage: bench/fuzz.sh [cases-per-property]
set -euo pipefail
cd "$(dirname "$0")/.."
export BACKPROP_FUZZ_ITERATIONS="${1:-100000}"
echo "fuzz: ${BACKPROP_FUZZ_ITERATIONS} cases per property"
dotnet test tests/Backprop.Tests -c Release \
  --filter "FullyQualifiedName~Backprop.Tests.IO.ReaderFuzzTests|FullyQualifiedName~Backprop.Tests.Reliability.CheckpointFuzzTests"
