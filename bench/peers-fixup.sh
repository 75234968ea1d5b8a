#!/usr/bin/env bash
# Makes TorchSharp 0.107.0 load on Debian 12 (libstdc++ up to GLIBCXX_3.4.30). Its libLibTorchSharp.so needs
# GLIBCXX_3.4.32 for ONE symbol, std::ios_base_library_init() (GCC 13). We build a one-function stand-in
# (peers-glibcxx-shim.cpp), mark the GLIBCXX_3.4.32 requirement weak in the copy of libLibTorchSharp.so in
# the peers' build output (never in the NuGet cache), and make that copy load the stand-in (DT_NEEDED).
# Needs g++ and patchelf (apt-get install -y patchelf). Idempotent.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${1:-$here/Backprop.Bench.Peers/bin/Release/net10.0}"
need=$(strings /usr/lib/x86_64-linux-gnu/libstdc++.so.6 2>/dev/null | grep -c '^GLIBCXX_3\.4\.32$' || true)
if [ "$need" != "0" ]; then echo "libstdc++ already has GLIBCXX_3.4.32; nothing to do"; exit 0; fi
command -v patchelf >/dev/null || { echo "peers-fixup: needs patchelf (apt-get install -y patchelf)" >&2; exit 1; }
for dir in "$out/runtimes/linux-x64/native" "$out/cpu"; do
  lib="$dir/libLibTorchSharp.so"
  [ -f "$lib" ] || continue
  g++ -shared -fPIC -O2 -o "$dir/libglibcxx332shim.so" "$here/peers-glibcxx-shim.cpp"
  python3 "$here/peers-weaken-version.py" "$lib" GLIBCXX_3.4.32
  readelf -d "$lib" | grep -q libglibcxx332shim.so || patchelf --add-needed libglibcxx332shim.so "$lib"
  echo "patched $lib"
done
