#!/usr/bin/env bash
# Runs every benchmark: the end-to-end targets (issue 7) and the BenchmarkDotNet micro-benchmarks, then writes the
# latest figures to benchmarks/RESULTS.md. Exits non-zero when a target fails.
#   benchmarks/run.sh              full run (several minutes on 2 cores)
#   benchmarks/run.sh --quick      reduced sizes, for a smoke test
# Extra arguments go to the harness (e.g. `targets --only 1`, `micro --filter '*BuildNumber*'`).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

# Targets 4 and 5 start the loopback App Service host and Azurite; Azurite comes from the pinned npm test servers.
if [ ! -d tools/test-servers/node_modules/azurite ]; then
  echo "installing the pinned npm test servers (tools/test-servers)…"
  npm ci --prefix tools/test-servers --no-audit --no-fund
fi

dotnet build benchmarks/IoMT.Deployment.Benchmarks -c Release --nologo -v quiet
mode=all
case "${1:-}" in
  targets|micro|all) mode="$1"; shift ;;
esac
results=benchmarks/RESULTS.md
for arg in "$@"; do
  # A quick or partial run does not overwrite the committed full-run figures.
  case "$arg" in --quick|--only|--filter) results=benchmarks/BenchmarkDotNet.Artifacts/RESULTS.partial.md ;; esac
done
[ "$mode" = all ] || results=benchmarks/BenchmarkDotNet.Artifacts/RESULTS.partial.md
exec dotnet run -c Release --no-build --project benchmarks/IoMT.Deployment.Benchmarks -- "$mode" --markdown "$results" "$@"
