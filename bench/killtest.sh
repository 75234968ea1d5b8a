#!/usr/bin/env bash
# Kill test, long version (the unit suite's KillTests runs a few kills in ~10 s).
# Trains a seeded run with the Release CLI, interrupts it KILLS times at random moments with SIGKILL, SIGINT or
# SIGTERM (seeded), resumes each time from the checkpoint until the run finishes, and compares the final model
# file byte for byte with an uninterrupted run. After every interruption the checkpoint and the model file (when
# present) must load. Prints one summary line per signal and the verdict; exits 1 on any mismatch.
# Usage: bench/killtest.sh [kills=30] [seed=2026]
set -euo pipefail
set -m   # job control: background jobs keep SIGINT (a non-interactive shell would start them with SIGINT ignored)
cd "$(dirname "$0")/.."
KILLS="${1:-30}"
RANDOM="${2:-2026}"
dotnet build src/Backprop.Cli -c Release -nologo -v q >/dev/null
CLI=src/Backprop.Cli/bin/Release/net10.0/Backprop.Cli.dll
W="$(mktemp -d)"
trap 'rm -rf "$W"' EXIT
ARGS=(train --dataset spirals --hidden 128,128 --activation tanh --epochs 400 --batch 4 --seed 7 --validation-fraction 0.2
      --schedule cosine:400 --optimizer adam --lr 0.003 --clip-norm 5 --quiet)

start=$(date +%s%N)
dotnet "$CLI" "${ARGS[@]}" --save "$W/reference.json" >/dev/null
echo "uninterrupted run: $(( ($(date +%s%N) - start) / 1000000 )) ms"

declare -A sent=([KILL]=0 [INT]=0 [TERM]=0)
declare -A codes=()
signals=(KILL INT TERM)
landed=0 runs=0 loads=0
while :; do
  runs=$((runs + 1))
  extra=()
  [[ -f "$W/ck.json" ]] && extra=(--resume "$W/ck.json")
  dotnet "$CLI" "${ARGS[@]}" --save "$W/model.json" --checkpoint "$W/ck.json" --checkpoint-every 1 "${extra[@]}" >/dev/null &
  pid=$!
  sig=""
  if (( landed < KILLS )); then
    ms=$((RANDOM % 1200 + 250))
    sleep "$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))"
    sig=${signals[$((RANDOM % 3))]}
    if kill -0 "$pid" 2>/dev/null; then
      kill "-$sig" "$pid" && landed=$((landed + 1)) && sent[$sig]=$((sent[$sig] + 1))
    else
      sig=""
    fi
  fi
  set +e
  wait "$pid"
  rc=$?
  set -e
  codes["${sig:-none}:$rc"]=$(( ${codes["${sig:-none}:$rc"]:-0} + 1 ))
  for f in "$W/ck.json" "$W/model.json"; do
    if [[ -f "$f" ]]; then
      dotnet "$CLI" info --model "$f" >/dev/null || { echo "FAIL: $f does not load after SIG$sig (exit $rc)"; exit 1; }
      loads=$((loads + 1))
    fi
  done
  [[ $rc == 0 ]] && break
  (( runs > KILLS + 20 )) && { echo "FAIL: no finished run after $runs starts"; exit 1; }
done

echo "kills landed: $landed (SIGKILL ${sent[KILL]}, SIGINT ${sent[INT]}, SIGTERM ${sent[TERM]}); runs: $runs; files loaded after interruptions: $loads"
for k in "${!codes[@]}"; do echo "  signal:exit-code $k x${codes[$k]}"; done | sort
if cmp -s "$W/reference.json" "$W/model.json"; then
  echo "final model: byte-identical to the uninterrupted run"
else
  echo "FAIL: the final model differs from the uninterrupted run"
  exit 1
fi
