#!/usr/bin/env bash
# Runs the self-contained bench (bench/Backprop.Bench/bin/devicepub, from `dotnet publish -r linux-x64
# --self-contained -p:PublishTrimmed=true`) on a machine without the .NET SDK. Writes to ${OUT:-.}.
set -u
out="${OUT:-.}"
B=bench/Backprop.Bench/bin/devicepub/Backprop.Bench
{ lscpu; echo; nproc; grep -o 'avx512[a-z_]*' /proc/cpuinfo | sort -u | tr '\n' ' '; echo; cat /proc/loadavg; } >"$out/machine.txt" 2>&1
head -20 "$out/machine.txt"
$B --verify | tee "$out/verify.jsonl"
$B --threads 2 --seconds "${SECONDS_PER_REP:-1}" | tee "$out/ours-t2.jsonl"
$B --only peak,probe --threads 2 --seconds 0.3 | tee "$out/probe-t2.jsonl"
$B --only peak,G --threads 1 --seconds 0.5 | tee "$out/ours-t1.jsonl"
$B --only G --threads 2 --seconds 0.5 --kernel Vector256 | tee "$out/ours-t2-v256.jsonl"
