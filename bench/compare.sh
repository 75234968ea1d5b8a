#!/usr/bin/env bash
# Runs the standard workloads (shared/design/benchmarks.md) on Backprop and on TorchSharp, workload by
# workload in turn (so both see the same machine load), and pairs the figures into ratios.
# Usage: [ROUNDS=3] [WAIT_IDLE=90] bench/compare.sh [--seconds S] [--threads T] [--only G,W1,...] [--cpu-time]
#        --cpu-time (with --threads 1): both engines time their work in process CPU time, so another tenant on a
#        shared machine slows neither figure.
#        WAIT_IDLE=P: before each engine's run, wait (up to 5 minutes) until the CPUs were P% idle for a second,
#        for machines shared with other work (both engines wait the same way; each wait is logged on stderr).
#        bench/compare.sh --table-only   (prints the table of the last run's bench/results/*.jsonl again)
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
    --table-only) ;;
    *) pass+=("${args[$i]}") ;;
  esac
done
pass+=(--threads "$threads")

table_only=0
for a in "${args[@]}"; do
  case "$a" in
    --table-only) table_only=1 ;;
    -h | --help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  esac
done
if [ "$table_only" = 0 ]; then
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
rounds="${ROUNDS:-3}"
wait_idle() {
  [ -n "${WAIT_IDLE:-}" ] || return 0
  local t i0 a0 i1 a1 pct u n s w x y z
  for ((t = 0; t < 300; t++)); do
    read -r _ u n s i0 w x y z _ </proc/stat; a0=$((u + n + s + i0 + w + x + y + z))
    sleep 1
    read -r _ u n s i1 w x y z _ </proc/stat; a1=$((u + n + s + i1 + w + x + y + z))
    pct=$((100 * (i1 - i0) / (a1 - a0 + 1)))
    if [ "$pct" -ge "$WAIT_IDLE" ]; then [ "$t" -gt 0 ] && echo "# waited ${t}s for ${WAIT_IDLE}% idle" >&2; return 0; fi
  done
  echo "# not ${WAIT_IDLE}% idle after 300 s; running anyway" >&2
}
# Each workload: Backprop, TorchSharp, Backprop, TorchSharp, ... (one repetition each), so both engines sample
# the same machine load; the table reports the median of the rounds.
for w in "${workloads[@]}"; do
  echo "# $w" >&2
  for ((r = 1; r <= rounds; r++)); do
    wait_idle
    $ours --only "$w" "${pass[@]}" --reps 1 2>/dev/null | tee -a "$here/results/ours.jsonl" >&2
    [ "$w" = peak ] && continue
    wait_idle
    $peer --only "$w" "${pass[@]}" --reps 1 2>/dev/null | grep '^{' | tee -a "$here/results/peer.jsonl" >&2
  done
done

fi

# Pair by (workload, metric, n), medians over the rounds. ratio = Backprop / TorchSharp (for latency lower is
# better, so a ratio below 1 is the good side there).
awk '
  function field(line, key,   m) {
    if (match(line, "\"" key "\":\"?[^,\"}]*")) { m = substr(line, RSTART, RLENGTH); sub(/^"[^"]*":"?/, "", m); return m }
    return ""
  }
  function maximum(list,   a, n, i, m) {
    n = split(list, a, " "); m = a[1] + 0
    for (i = 2; i <= n; i++) if (a[i] + 0 > m) m = a[i] + 0
    return m
  }
  function median(list,   a, n, i, j, t) {
    n = split(list, a, " ")
    for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j - 1] + 0 > a[j] + 0; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
    return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
  }
  {
    if (field($0, "workload") == "machine") { machine = "CPU " field($0, "cpu") ", kernel " field($0, "kernel") ", " field($0, "value") "-bit vectors"; next }
    if (threads == "" && field($0, "threads") != "" && field($0, "workload") != "peak") threads = field($0, "threads") + 0
    k = field($0, "workload") "|" field($0, "metric") "|" field($0, "n")
    if (FILENAME ~ /peer/) peer[k] = peer[k] " " field($0, "value")
    else { if (!(k in ours)) order[++count] = k; ours[k] = ours[k] " " field($0, "value") }
  }
  END {
    # The targets of issue 15, as ratios Backprop / TorchSharp (latency and memory: at most; the rest: at least).
    target["W1|steps_per_s"] = ">=1000"; target["W2|samples_per_s"] = ">=2"; target["W3|samples_per_s"] = ">=2"
    target["W4|samples_per_s"] = ">=1.15"; target["W5|batch1_latency_us"] = "<=0.5"; target["W5|samples_per_s"] = ">=1.15"
    target["G|gflop_per_s"] = ">=1"; target["memory|peak_rss_mib"] = "<=0.25"
    if (machine != "") printf "# %s\n", machine
    printf "%-8s %-22s %6s %14s %14s %8s  %s\n", "workload", "metric", "n", "Backprop", "TorchSharp", "ratio", "target"
    # The FMA peak is a capability: interference only lowers it, so the best round is the estimate.
    peak = ("peak|gflop_per_s|" in ours) ? maximum(ours["peak|gflop_per_s|"]) : 0
    peak1 = ("peak|one_thread_gflop_per_s|" in ours) ? maximum(ours["peak|one_thread_gflop_per_s|"]) : 0
    # G and W4 GFLOP/s are compared with T x the one-thread peak (T = the threads of the run); with no one-thread
    # figure (an older bench), with the all-threads peak.
    basis = (peak1 > 0) ? threads * peak1 : peak
    for (c = 1; c <= count; c++) {
      k = order[c]; split(k, parts, "|"); v = median(ours[k])
      if (parts[1] == "peak") { printf "%-8s %-22s %6s %14.1f %14s %8s  (best of the rounds)\n", parts[1], parts[2], parts[3], maximum(ours[k]), "-", "-"; continue }
      p = (k in peer) ? median(peer[k]) : 0
      ratio = (p == 0) ? "-" : sprintf("%.2fx", v / p)
      pct = (parts[2] == "gflop_per_s" && basis > 0 && p > 0) ? sprintf("  %.0f%% of %s (peer %.0f%%)", 100 * v / basis, (peak1 > 0) ? threads "x 1-thread peak" : "peak", 100 * p / basis) : ""
      t = target[parts[1] "|" parts[2]]; verdict = ""
      if (t != "" && p > 0) {
        limit = substr(t, 3) + 0; r = v / p
        met = (substr(t, 1, 2) == ">=") ? (r >= limit) : (r <= limit)
        # G at n >= 512 must also reach 85% of the one-thread FMA peak per thread.
        t = t "x"
        if (parts[1] == "G" && parts[3] + 0 >= 512) { t = t ", >=85% of peak"; if (!(basis > 0 && v >= 0.85 * basis)) met = 0 }
        verdict = sprintf("  %s %s", t, met ? "met" : "NOT met")
      }
      printf "%-8s %-22s %6s %14.1f %14.1f %8s  %s%s\n", parts[1], parts[2], parts[3], v, p, ratio, verdict, pct
    }
  }
' "$here/results/ours.jsonl" "$here/results/peer.jsonl"
