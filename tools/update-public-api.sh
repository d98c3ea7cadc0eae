#!/usr/bin/env bash
# Regenerates the public API lists (PublicAPI.Shipped.txt / PublicAPI.Unshipped.txt) of every package under src/.
#
#   tools/update-public-api.sh            # after a deliberate public API change: the current API not in Shipped goes
#                                         # into Unshipped (a project without the files gets them, e.g. a new package)
#   tools/update-public-api.sh --ship     # at a release: Unshipped is merged into Shipped (*REMOVED* lines take their
#                                         # entry out of Shipped) and Unshipped is emptied
#   tools/update-public-api.sh src/X      # only the given project folders
#
# The build checks the lists (Microsoft.CodeAnalysis.PublicApiAnalyzers: RS0016 a public symbol not listed, RS0017 a
# listed symbol gone), so a public API change is a reviewed diff of these files. Removing a *shipped* API stays a
# deliberate edit: add "*REMOVED*<the Shipped line>" to Unshipped; this script keeps such lines.
# Works offline once the packages are restored (dotnet format's code fix for RS0016, no network).
set -euo pipefail
cd "$(dirname "$0")/.."

ship=false
projects=()
for arg in "$@"; do
  case "$arg" in
    --ship) ship=true ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) projects+=("${arg%/}") ;;
  esac
done
if [ ${#projects[@]} -eq 0 ]; then
  for csproj in src/*/*.csproj; do projects+=("$(dirname "$csproj")"); done
fi

header='#nullable enable'

# Sorted entries of a list file, without its header and blank lines.
entries() { grep -v -e "^$header\$" -e '^[[:space:]]*$' "$1" | LC_ALL=C sort -u || true; }

write_list() { # file, entries on stdin
  { echo "$header"; cat; } > "$1"
}

for dir in "${projects[@]}"; do
  csproj=$(ls "$dir"/*.csproj 2>/dev/null | head -n 1 || true)
  if [ -z "$csproj" ]; then echo "error: no project file in $dir" >&2; exit 2; fi
  shipped="$dir/PublicAPI.Shipped.txt"
  unshipped="$dir/PublicAPI.Unshipped.txt"
  [ -f "$shipped" ] || echo "$header" > "$shipped"
  [ -f "$unshipped" ] || echo "$header" > "$unshipped"

  if $ship; then
    removed=$(entries "$unshipped" | sed -n 's/^\*REMOVED\*//p')
    merged=$({ entries "$shipped"; entries "$unshipped" | grep -v '^\*REMOVED\*' || true; } | LC_ALL=C sort -u)
    if [ -n "$removed" ]; then
      merged=$(printf '%s\n' "$merged" | grep -v -x -F -f <(printf '%s\n' "$removed") || true)
    fi
    printf '%s\n' "$merged" | grep -v '^$' | write_list "$shipped" || true
    echo "$header" > "$unshipped"
    echo "==> $dir: Unshipped merged into Shipped ($(entries "$shipped" | wc -l) entries)"
    continue
  fi

  # Start Unshipped afresh (keeping the deliberate *REMOVED* lines) so entries of APIs removed before shipping vanish,
  # then let the analyzer's code fix list every public symbol that Shipped does not.
  kept=$(entries "$unshipped" | grep '^\*REMOVED\*' || true)
  printf '%s\n' "$kept" | grep -v '^$' | write_list "$unshipped" || true
done

if ! $ship; then
  for dir in "${projects[@]}"; do
    csproj=$(ls "$dir"/*.csproj | head -n 1)
    echo "==> $dir: listing the public API (dotnet format analyzers --diagnostics RS0016)"
    dotnet format analyzers "$csproj" --diagnostics RS0016 --severity info -v:q
    unshipped="$dir/PublicAPI.Unshipped.txt"
    entries "$unshipped" | write_list "$unshipped.tmp"
    mv "$unshipped.tmp" "$unshipped"
    echo "    $(entries "$dir/PublicAPI.Shipped.txt" | wc -l) shipped, $(entries "$unshipped" | wc -l) unshipped"
  done
fi
