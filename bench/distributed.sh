#!/usr/bin/env bash
# Scaling of sharded training (docs/distributed.md, "Scaling"): MNIST t10k from disk (IDX, gzip), the W3 and W4
# networks of docs/benchmarks.md, one process with 1 and 2 threads (unsharded and --shards 12) against mpirun with
# K = 1 and 2 processes of one thread each (--shards 12). Prints one line per run: the training seconds of the JSON
# summary, samples/s, and for mpirun each rank's communication time (BACKPROP_SHARD_TIMES=1).
# Usage: bench/distributed.sh [CLI.dll] [REPEATS]   (build first: dotnet build src/Backprop.Cli -c Release)
set -euo pipefail
cd "$(dirname "$0")/.."
cli=${1:-src/Backprop.Cli/bin/Release/net10.0/Backprop.Cli.dll}
repeats=${2:-1}
m=${MNIST:-../shared/datasets/mnist}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 TERM=dumb
out=$(mktemp -d)
data=(--data "$m/t10k-images-idx3-ubyte.gz" --labels "$m/t10k-labels-idx1-ubyte.gz" --test-fraction 0 --json)
w3=(--hidden 256,128 --optimizer adam --batch 128 --epochs 2)
w4=(--hidden 1024,1024 --optimizer momentum --batch 256 --epochs 1)
run() { # name threads K(0: alone) shards-args... -- network args
  local name=$1 threads=$2 k=$3; shift 3
  local log="$out/$name.txt" summary
  if [ "$k" = 0 ]; then
    DOTNET_PROCESSOR_COUNT=$threads dotnet "$cli" train "${data[@]}" "$@" > "$log" 2>&1
  else
    BACKPROP_SHARD_TIMES=1 mpirun --oversubscribe --bind-to none -np "$k" -x DOTNET_PROCESSOR_COUNT=$threads -x BACKPROP_SHARD_TIMES \
      dotnet "$cli" train "${data[@]}" "$@" > "$log" 2>&1
  fi
  summary=$(grep '"summary":true' "$log")
  printf '%-28s seconds %7s  samples/s %7s  %s\n' "$name" \
    "$(sed -E 's/.*"seconds":([0-9.]+).*/\1/' <<< "$summary")" "$(sed -E 's/.*"samples_per_s":([0-9.]+).*/\1/' <<< "$summary")" \
    "$(grep -o 'rank [0-9] of [0-9]: [0-9]* steps, communication [0-9.]* s ([0-9.]* ms a step)' "$log" | tr '\n' ';')"
}
for i in $(seq "$repeats"); do
  for net in w3 w4; do
    declare -n args=$net
    run "$net alone 1t unsharded" 1 0 "${args[@]}"
    run "$net alone 1t shards 12" 1 0 "${args[@]}" --shards 12
    run "$net alone 2t unsharded" 2 0 "${args[@]}"
    run "$net alone 2t shards 12" 2 0 "${args[@]}" --shards 12
    run "$net mpirun K=1 1t" 1 1 "${args[@]}"
    run "$net mpirun K=2 1t each" 1 2 "${args[@]}"
  done
done
rm -rf "$out"
