#!/usr/bin/env bash
# Runs the standard workloads (shared/design/benchmarks.md) on Backprop and on TorchSharp, workload by
# workload in turn (so both see the same machine load), and pairs the figures into ratios.
# Usage: bench/run.sh [--seconds S] [--reps R] [--threads T] [--only G,W1,...]
# Output: the raw JSON lines in bench/results/{ours,peer}.jsonl and a table on stdout.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
args=("$@")
threads=$(nproc)
only="peak,G,W1,W2,W3,W4,W5,memory"
for ((i = 0; i < ${#args[@]}; i++)); do
  case "${args[$i]}" in
    --threads) threads="${args[$((i + 1))]}" ;;
    --only) only="${args[$((i + 1))]}" ;;
  esac
done
pass=()
for ((i = 0; i < ${#args[@]}; i++)); do
  case "${args[$i]}" in
    --only) i=$((i + 1)) ;;
    *) pass+=("${args[$i]}") ;;
  esac
done
pass+=(--threads "$threads")

dotnet build -c Release "$here/Backprop.Bench/Backprop.Bench.csproj" -v q -nologo >/dev/null
dotnet build -c Release "$here/Backprop.Bench.Peers/Backprop.Bench.Peers.csproj" -v q -nologo >/dev/null
"$here/peers-fixup.sh" >/dev/null

ours="dotnet $here/Backprop.Bench/bin/Release/net10.0/Backprop.Bench.dll"
peer="dotnet $here/Backprop.Bench.Peers/bin/Release/net10.0/Backprop.Bench.Peers.dll"
mkdir -p "$here/results"
: >"$here/results/ours.jsonl"
: >"$here/results/peer.jsonl"
{ echo "# $(date -u +%FT%TZ) $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cpus, threads $threads"; } | tee "$here/results/machine.txt" >&2
IFS=',' read -ra workloads <<<"$only"
for w in "${workloads[@]}"; do
  echo "# $w" >&2
  $ours --only "$w" "${pass[@]}" 2>/dev/null | tee -a "$here/results/ours.jsonl" >&2
  [ "$w" = peak ] && continue
  $peer --only "$w" "${pass[@]}" 2>/dev/null | grep '^{' | tee -a "$here/results/peer.jsonl" >&2
done

# Pair by (workload, metric, n). ratio = ours / peer (for latency, lower is better: peer / ours is the speed-up).
awk '
  function field(line, key,   m) {
    if (match(line, "\"" key "\":\"?[^,\"}]*")) { m = substr(line, RSTART, RLENGTH); sub(/^"[^"]*":"?/, "", m); return m }
    return ""
  }
  FNR == NR { k = field($0, "workload") "|" field($0, "metric") "|" field($0, "n"); peer[k] = field($0, "value"); next }
  {
    w = field($0, "workload"); m = field($0, "metric"); n = field($0, "n"); v = field($0, "value")
    if (w == "peak") { peak = v; printf "%-8s %-18s %6s %14.1f %14s %8s\n", w, m, n, v, "-", "-"; next }
    k = w "|" m "|" n
    p = (k in peer) ? peer[k] : ""
    ratio = (p == "" || p == 0) ? "-" : sprintf("%.2fx", v / p)
    pct = (m == "gflop_per_s" && peak > 0) ? sprintf("  %.0f%% of peak (peer %.0f%%)", 100 * v / peak, 100 * p / peak) : ""
    printf "%-8s %-18s %6s %14.1f %14.1f %8s%s\n", w, m, n, v, p, ratio, pct
  }
  BEGIN { printf "%-8s %-18s %6s %14s %14s %8s\n", "workload", "metric", "n", "Backprop", "TorchSharp", "ratio" }
' "$here/results/peer.jsonl" "$here/results/ours.jsonl"
