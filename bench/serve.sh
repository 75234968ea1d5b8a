#!/usr/bin/env bash
# The load test of `backprop serve` (docs/serving.md, "Measured"): builds the tool, the ONNX Runtime peer and the
# load generator in Release, then runs them on this machine: 64 clients for 30 s against each server in turn, the
# model file replaced 10 times during each `backprop serve` run. One JSON line per run on stdout and in
# bench/results/serve.jsonl.
# Usage: bench/serve.sh [--rounds R] [--clients N] [--seconds S] [--warmup S] [--reloads K] [--modes backprop,onnx,single] [--hidden 128,64]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
for p in src/Backprop.Cli bench/Backprop.Bench.Serve.Onnx bench/Backprop.Bench.Serve; do
  dotnet build "$root/$p" -c Release -v quiet -nologo > /dev/null
done
mkdir -p "$root/bench/results"
exec dotnet "$root/bench/Backprop.Bench.Serve/bin/Release/net10.0/Backprop.Bench.Serve.dll" \
  --cli "$root/src/Backprop.Cli/bin/Release/net10.0/Backprop.Cli.dll" \
  --peer "$root/bench/Backprop.Bench.Serve.Onnx/bin/Release/net10.0/Backprop.Bench.Serve.Onnx.dll" \
  --datasets "${BACKPROP_DATASETS:-$root/../shared/datasets}" \
  --out "$root/bench/results/serve.jsonl" "$@"
