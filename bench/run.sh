#!/usr/bin/env bash
# Old name of bench/compare.sh, kept so earlier notes and commands still work.
exec "$(dirname "$0")/compare.sh" "$@"
