#!/usr/bin/env bash
# Runs every test of IoMT.Deployment: installs the pinned test servers (Azurite, cosmosdb-server) with npm ci and the
# distribution's Chromium when it is missing,
# builds the solution, runs every test project, and prints one closing line:
#   tests: N passed, N failed, N skipped
set -euo pipefail
cd "$(dirname "$0")"

configuration="${CONFIGURATION:-Release}"
results="artifacts/test-results"

echo "==> installing the pinned test servers (tools/test-servers)"
npm ci --prefix tools/test-servers --no-audit --no-fund --loglevel=error

# The dashboard's browser test drives the distribution's Chromium (no Playwright browser download); it fails, not skips,
# without it, so a fresh machine gets it here.
if [ ! -x /usr/bin/chromium ]; then
  echo "==> installing chromium (the dashboard's browser test needs /usr/bin/chromium)"
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else echo "error: /usr/bin/chromium is missing and neither root nor sudo is available to install it (apt-get install chromium)." >&2; exit 1; fi
  fi
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1

echo "==> building IoMT.Deployment.sln ($configuration)"
dotnet build IoMT.Deployment.sln -c "$configuration" -nologo -clp:ErrorsOnly

rm -rf "$results"
mkdir -p "$results"
status=0
for project in tests/*.Tests/*.Tests.csproj; do
  name=$(basename "$project" .csproj)
  echo "==> $name"
  dotnet test "$project" -c "$configuration" --no-build -nologo \
    --logger "trx;LogFileName=$name.trx" --logger "console;verbosity=normal" \
    --results-directory "$results" -- RunConfiguration.TestSessionTimeout=900000 || status=1
done

passed=0; failed=0; skipped=0; total=0
for trx in "$results"/*.trx; do
  [ -f "$trx" ] || continue
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -n 1)
  get() { echo "$counters" | sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p"; }
  t=$(get total); p=$(get passed); f=$(get failed); e=$(get executed); n=$(get notExecuted)
  total=$((total + ${t:-0})); passed=$((passed + ${p:-0}))
  failed=$((failed + ${f:-0} + $(get error || echo 0) + $(get timeout || echo 0) + $(get aborted || echo 0)))
  skipped=$((skipped + ${t:-0} - ${e:-0}))
done

projects=$(ls tests/*.Tests/*.Tests.csproj | wc -l)
reports=$(ls "$results"/*.trx 2>/dev/null | wc -l)
if [ "$reports" -lt "$projects" ]; then
  echo "error: $projects test projects but only $reports test reports: a test host crashed or did not run." >&2
  status=1
fi
if [ "$total" -eq 0 ]; then
  echo "error: no test ran." >&2
  status=1
fi
if [ "$failed" -gt 0 ]; then status=1; fi

echo "tests: $passed passed, $failed failed, $skipped skipped"
exit $status
