#!/usr/bin/env bash
# shellcheck shell=bash
# Ensures the pinned n8n host (scripts/n8n-host/package.json + package-lock.json) is installed in
#   $PROMPT_RELEASE_CACHE/n8n-host-<sha256(package.json, package-lock.json, node version), 12 hex>
# and exports N8N_HOST_DIR and N8N_BIN (the n8n entry script; run it with the Node 24 from env.sh).
#
#   source scripts/n8n-host.sh     # in a script: exports N8N_HOST_DIR, N8N_BIN, Node 24 on PATH
#   bash scripts/n8n-host.sh       # installs if needed, prints N8N_HOST_DIR=... and N8N_BIN=...
#
# Install: into a temp dir next to the target, `npm install --ignore-scripts` (a plain install runs
# every install script and one optional native package tries to download from GitHub and rolls the
# whole install back), then `npm rebuild sqlite3` against Node 24's headers, check `n8n --version`,
# write a marker, rename into place. A lock (flock) lets a second concurrent run wait and reuse it.

_pr_host_main() {
	local here
	here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
	# shellcheck source=scripts/env.sh
	source "$here/env.sh" --node-only || return 1

	local src="$here/n8n-host" key dir marker want_version
	want_version="$(node -p 'require(process.argv[1]).dependencies.n8n' "$src/package.json")" || return 1
	key="$(cat "$src/package.json" "$src/package-lock.json" <(echo "node-$PROMPT_RELEASE_NODE_VERSION") |
		sha256sum | cut -c1-12)"
	dir="$PROMPT_RELEASE_CACHE/n8n-host-$key"
	marker="$dir/.prompt-release-host-complete"

	if [ ! -f "$marker" ]; then
		mkdir -p "$PROMPT_RELEASE_CACHE" || return 1
		# Leftovers of killed runs (a live install ends within its timeouts, well under 3 hours).
		find "$PROMPT_RELEASE_CACHE" -maxdepth 1 -name '.n8n-host-*.tmp.*' -mmin +180 -exec rm -rf {} + 2>/dev/null
		(
			set -uo pipefail
			if command -v flock >/dev/null; then
				exec 9>"$PROMPT_RELEASE_CACHE/.n8n-host-$key.lock"
				flock -w 1800 9 || { echo "prompt-release: timed out waiting for another n8n host install" >&2; exit 1; }
			fi
			[ -f "$marker" ] && exit 0 # another run finished it while we waited
			tmp="$(mktemp -d "$PROMPT_RELEASE_CACHE/.n8n-host-$key.tmp.XXXXXX")" || exit 1
			trap 'rm -rf "$tmp"' EXIT
			chmod 755 "$tmp"
			cp "$src/package.json" "$src/package-lock.json" "$tmp/"
			log="$tmp/install.log"
			fail() {
				echo "prompt-release: n8n host install failed: $1" >&2
				printf -- '----- %s (last 60 lines) -----\n' "$log" >&2
				tail -n 60 "$log" >&2
				exit 1
			}
			[ -t 2 ] && echo "prompt-release: installing n8n $want_version into $dir (one time, a few minutes)..." >&2
			start=$SECONDS
			# `npm ci` refuses n8n's lockfile (optional platform packages missing from the registry);
			# `npm install` with the same lockfile is deterministic.
			(cd "$tmp" && timeout 900 npm install --ignore-scripts --no-audit --no-fund --loglevel=error) >"$log" 2>&1 ||
				fail "npm install --ignore-scripts (exit $?)"
			t_install=$((SECONDS - start))
			# sqlite3's script tries a prebuilt download (fails offline) then compiles with node-gyp.
			(cd "$tmp" && JOBS=max timeout 900 npm rebuild sqlite3) >>"$log" 2>&1 ||
				fail "npm rebuild sqlite3 (exit $?)"
			t_sqlite=$((SECONDS - start - t_install))
			got="$(cd "$tmp" && timeout 120 node node_modules/n8n/bin/n8n --version 2>>"$log" | tail -n 1)"
			[ "$got" = "$want_version" ] || fail "n8n --version printed '$got', expected $want_version"
			echo "installed in $((SECONDS - start)) s (npm install ${t_install} s, sqlite3 ${t_sqlite} s) with $(node --version)" \
				>"$tmp/.prompt-release-host-complete"
			# Rename into place; a leftover incomplete dir (no marker) from a killed run is replaced.
			if [ -e "$dir" ] && [ ! -f "$marker" ]; then rm -rf "$dir"; fi
			mv -T "$tmp" "$dir" 2>/dev/null || [ -f "$marker" ] || fail "could not move $tmp to $dir"
			[ -t 2 ] && echo "prompt-release: n8n host ready ($((SECONDS - start)) s)" >&2
			exit 0
		) || return 1
	fi
	export N8N_HOST_DIR="$dir"
	export N8N_BIN="$dir/node_modules/n8n/bin/n8n"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	set -euo pipefail
	_pr_host_main
	echo "N8N_HOST_DIR=$N8N_HOST_DIR"
	echo "N8N_BIN=$N8N_BIN"
	echo "NODE=$(command -v node)"
else
	_pr_host_main
fi
