#!/usr/bin/env bash
# Regenerates the README's pictures with the tool itself, from a clone with only the .NET SDK.
set -euo pipefail
cd "$(dirname "$0")/../.."
dotnet build src/Backprop.Cli -c Release -v quiet -nologo > /dev/null
run() { dotnet src/Backprop.Cli/bin/Release/net10.0/Backprop.Cli.dll "$@"; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
run explain --svg docs/images/seed-network.svg > /dev/null
run train --dataset spirals --hidden 16,16 --activation tanh --lr 0.01 --epochs 300 --validation-fraction 0.2 \
    --plot docs/images/spirals-loss.png --save "$tmp/spirals.json" --quiet
run plot boundary --model "$tmp/spirals.json" --dataset spirals --out docs/images/spirals-boundary.png
echo "wrote docs/images/seed-network.svg, spirals-loss.png, spirals-boundary.png"
