#!/usr/bin/env bash
# shellcheck shell=bash
# Packs this project and installs it the way n8n 2.x installs a community package for a real user
# (CommunityPackagesService.downloadPackage): `npm pack`, untar into <dir>/n8n-nodes-prompt-release,
# drop devDependencies/peerDependencies/optionalDependencies from its package.json, then inside it
#   npm install --audit=false --fund=false --bin-links=false --install-strategy=shallow
#               --ignore-scripts=true --package-lock=false
# so the package's runtime dependencies (zod, openai, yaml, ...) live in its OWN node_modules and
# n8n-workflow (a peer) is resolved from n8n's install (n8n puts its module paths on NODE_PATH).
#
# Layout (outside the repo on purpose: from anywhere under the repo, Node's require() would walk up
# into the repo's own node_modules with all dev dependencies and hide a missing runtime dependency):
#   $PROMPT_RELEASE_EXTENSION_DIR (default $PROMPT_RELEASE_CACHE/extension-<hash of repo path>)
#     n8n-nodes-prompt-release/        package as installed: package.json, dist/, node_modules/
#     custom/n8n-nodes-prompt-release  -> ../n8n-nodes-prompt-release/dist   (symlink)
# N8N_CUSTOM_EXTENSIONS=<dir>/custom: n8n globs **/*.node.js and **/*.credentials.js there (following
# the symlink) and so sees only our dist/, never a node_modules tree.
#
#   source scripts/pack-extension.sh   # exports N8N_CUSTOM_EXTENSIONS, PROMPT_RELEASE_EXTENSION_DIR
#   bash scripts/pack-extension.sh     # prints them
#   bash scripts/pack-extension.sh --no-prepare   # only Node 24: no npm install/build of the repo
#                                                 # (for callers such as jest that must not touch node_modules)
# Reinstalls only when the packed tarball's content changed.

_pr_pack_main() {
	local here root prepare=1 arg
	for arg in "$@"; do
		case "$arg" in
		--no-prepare) prepare=0 ;;
		--) break ;;
		*) ;; # a sourcing script's own arguments
		esac
	done
	here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
	# shellcheck source=scripts/env.sh
	if [ "$prepare" = 1 ]; then
		source "$here/env.sh" -- || return 1 # Node 24, npm install, build when needed
	else
		source "$here/env.sh" --node-only || return 1
	fi
	root="$PROMPT_RELEASE_ROOT"

	local ext="${PROMPT_RELEASE_EXTENSION_DIR:-$PROMPT_RELEASE_CACHE/extension-$(printf '%s' "$root" | sha256sum | cut -c1-12)}"
	case "$ext/" in
	"$root"/*) echo "prompt-release: warning: extension dir $ext is inside the repo; require() can fall back to the repo's node_modules" >&2 ;;
	esac
	local pkgname
	pkgname="$(node -p 'require(process.argv[1]).name' "$root/package.json")" || return 1

	(
		set -euo pipefail
		mkdir -p "$ext"
		exec 9>"$ext/.lock"
		command -v flock >/dev/null && flock -w 600 9
		work="$(mktemp -d "$ext/.work.XXXXXX")"
		trap 'rm -rf "$work"' EXIT
		log="$work/log"
		fail() {
			echo "prompt-release: pack-extension failed: $1" >&2
			tail -n 60 "$log" >&2
			exit 1
		}
		[ -d "$root/dist" ] || { echo "prompt-release: $root/dist is missing (build first)" >&2; exit 1; }
		tgz="$(cd "$root" && npm pack --pack-destination "$work" --loglevel=error 2>>"$log" | tail -n 1)" ||
			fail "npm pack"
		[ -f "$work/$tgz" ] || fail "npm pack produced no tarball"
		# Content hash (tar mtimes in npm pack are fixed, so equal content => equal bytes).
		sum="$(sha256sum <"$work/$tgz" | cut -c1-16)"
		if [ "$(cat "$ext/.tarball.sha256" 2>/dev/null)" = "$sum" ] && [ -d "$ext/$pkgname/dist" ] &&
			[ -L "$ext/custom/$pkgname" ]; then
			exit 0
		fi
		mkdir "$work/pkg"
		tar -xzf "$work/$tgz" -C "$work/pkg" --strip-components=1
		node -e '
			const fs = require("fs"); const f = process.argv[1];
			const { devDependencies, peerDependencies, optionalDependencies, ...pkg } = JSON.parse(fs.readFileSync(f, "utf8"));
			fs.writeFileSync(f, JSON.stringify(pkg, null, 2));' "$work/pkg/package.json"
		(cd "$work/pkg" && timeout 600 npm install --audit=false --fund=false --bin-links=false \
			--install-strategy=shallow --ignore-scripts=true --package-lock=false --prefer-offline \
			--loglevel=error) >>"$log" 2>&1 || fail "npm install of the packed package (production dependencies)"
		# Every runtime dependency must resolve from the package's own node_modules.
		node -e '
			const fs = require("fs"), path = require("path"); const dir = process.argv[1];
			const deps = Object.keys(require(path.join(dir, "package.json")).dependencies || {});
			const bad = deps.filter((d) => !fs.existsSync(path.join(dir, "node_modules", d, "package.json")));
			if (bad.length) { console.error("runtime dependencies missing from the package node_modules: " + bad.join(", ")); process.exit(1); }
		' "$work/pkg" >>"$log" 2>&1 || fail "dependency check"
		rm -rf "$ext/$pkgname.old"
		[ -e "$ext/$pkgname" ] && mv "$ext/$pkgname" "$ext/$pkgname.old"
		mv "$work/pkg" "$ext/$pkgname"
		rm -rf "$ext/$pkgname.old" "$ext/custom"
		mkdir -p "$ext/custom"
		ln -s "../$pkgname/dist" "$ext/custom/$pkgname"
		cp "$work/$tgz" "$ext/$pkgname.tgz"
		echo "$sum" >"$ext/.tarball.sha256"
	) || return 1
	export PROMPT_RELEASE_EXTENSION_DIR="$ext"
	export PROMPT_RELEASE_EXTENSION_PACKAGE="$ext/$pkgname"
	export N8N_CUSTOM_EXTENSIONS="$ext/custom"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	set -euo pipefail
	_pr_pack_main "$@"
	echo "PROMPT_RELEASE_EXTENSION_DIR=$PROMPT_RELEASE_EXTENSION_DIR"
	echo "PROMPT_RELEASE_EXTENSION_PACKAGE=$PROMPT_RELEASE_EXTENSION_PACKAGE"
	echo "N8N_CUSTOM_EXTENSIONS=$N8N_CUSTOM_EXTENSIONS"
else
	_pr_pack_main "$@"
fi
