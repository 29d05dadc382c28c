#!/usr/bin/env bash
# shellcheck shell=bash
# Packs this project and installs it the way n8n 2.x installs a community package for a real user
# (CommunityPackagesService.downloadPackage, n8n 2.41.1): `npm pack`, untar into
# <dir>/n8n-nodes-prompt-release, drop devDependencies/peerDependencies/optionalDependencies from its
# package.json, then inside it
#   npm install --audit=false --fund=false --bin-links=false --install-strategy=shallow
#               --ignore-scripts=true --package-lock=false
# so the package's runtime dependencies (zod, openai, yaml, pg, ...) live in its OWN node_modules and
# n8n-workflow (a peer) is resolved from n8n's install (n8n puts its module paths on NODE_PATH).
#
# The installed package is cached by the tarball's content hash, outside the repo (from anywhere under
# the repo, require() would walk up into the repo's node_modules and hide a missing runtime dependency):
#   $PROMPT_RELEASE_CACHE/package-<sha256 of the tarball, 16 hex>/
#     n8n-nodes-prompt-release/        the package as n8n leaves it: package.json, dist/, node_modules/
#     n8n-nodes-prompt-release.tgz     the `npm pack` tarball
# An n8n process loads it from its user folder, where Settings → Community Nodes puts it:
#   <N8N_USER_FOLDER>/.n8n/nodes/node_modules/n8n-nodes-prompt-release   (a copy, hard-linked when possible)
#   <N8N_USER_FOLDER>/.n8n/nodes/package.json                            ({"dependencies": {<name>: <version>}})
# and names its node types n8n-nodes-prompt-release.<node> (e.g. n8n-nodes-prompt-release.extractSignal).
#
#   source scripts/pack-extension.sh   # exports PROMPT_RELEASE_PACKAGE_DIR / _TARBALL / _NAME / _VERSION,
#                                      # defines pr_install_package_into <N8N_USER_FOLDER>
#   bash scripts/pack-extension.sh [--no-prepare] [--into <N8N_USER_FOLDER>]...   # prints them
#     --no-prepare  only Node 24: no npm install/build of the repo (for callers such as jest that must
#                   not touch node_modules)
#     --into DIR    also install the package into that n8n user folder (repeatable)

# Installs the cached package into an n8n user folder exactly where n8n's community-package installer
# puts it (replacing an older copy). Needs PROMPT_RELEASE_PACKAGE_DIR (from _pr_pack_main).
pr_install_package_into() {
	local user_folder="$1" nodes dest
	nodes="$user_folder/.n8n/nodes"
	dest="$nodes/node_modules/$PROMPT_RELEASE_PACKAGE_NAME"
	mkdir -p "$nodes/node_modules" || return 1
	rm -rf "$dest"
	# Hard links keep ~300 copies cheap; n8n never writes into an installed package.
	cp -al "$PROMPT_RELEASE_PACKAGE_DIR" "$dest" 2>/dev/null || {
		rm -rf "$dest"
		cp -R "$PROMPT_RELEASE_PACKAGE_DIR" "$dest"
	} || return 1
	# n8n keeps nodes/package.json listing the installed packages (it rebuilds it from its database if missing).
	node -e '
		const fs = require("fs"); const [file, name, version] = process.argv.slice(1);
		let pkg = { name: "installed-nodes", private: true, dependencies: {} };
		try { pkg = JSON.parse(fs.readFileSync(file, "utf8")); pkg.dependencies ??= {}; } catch {}
		pkg.dependencies[name] = version;
		fs.writeFileSync(file, JSON.stringify(pkg, null, 2));
	' "$nodes/package.json" "$PROMPT_RELEASE_PACKAGE_NAME" "$PROMPT_RELEASE_PACKAGE_VERSION"
}

_pr_pack_main() {
	local here root prepare=1 arg
	for arg in "$@"; do
		case "$arg" in
		--no-prepare) prepare=0 ;;
		--) break ;;
		*) ;; # a sourcing script's own arguments, and --into (handled by the caller below)
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
	local pkgname pkgversion out
	pkgname="$(node -p 'require(process.argv[1]).name' "$root/package.json")" || return 1
	pkgversion="$(node -p 'require(process.argv[1]).version' "$root/package.json")" || return 1

	out="$(
		set -euo pipefail
		mkdir -p "$PROMPT_RELEASE_CACHE"
		work="$(mktemp -d "$PROMPT_RELEASE_CACHE/.package.work.XXXXXX")"
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
		ext="$PROMPT_RELEASE_CACHE/package-$sum"
		if [ ! -f "$ext/.complete" ]; then
			exec 9>"$PROMPT_RELEASE_CACHE/.package-$sum.lock"
			command -v flock >/dev/null && flock -w 600 9
		fi
		if [ ! -f "$ext/.complete" ]; then
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
			rm -rf "$ext"
			mkdir -p "$ext"
			mv "$work/pkg" "$ext/$pkgname"
			cp "$work/$tgz" "$ext/$pkgname.tgz"
			touch "$ext/.complete"
		fi
		touch "$ext/.complete" # last use, for pruning
		# Installs of other content unused for a day (or abandoned half-done) go: a running n8n has its own copy.
		for d in "$PROMPT_RELEASE_CACHE"/package-*; do
			[ "$d" = "$ext" ] || [ ! -d "$d" ] && continue
			if [ -f "$d/.complete" ]; then
				[ -n "$(find "$d/.complete" -mmin +1440)" ] && rm -rf "$d" "$PROMPT_RELEASE_CACHE/.${d##*/}.lock"
			else
				[ -n "$(find "$d" -maxdepth 0 -mmin +180)" ] && rm -rf "$d" "$PROMPT_RELEASE_CACHE/.${d##*/}.lock"
			fi
		done
		echo "$ext"
	)" || return 1
	export PROMPT_RELEASE_PACKAGE_NAME="$pkgname"
	export PROMPT_RELEASE_PACKAGE_VERSION="$pkgversion"
	export PROMPT_RELEASE_PACKAGE_DIR="$out/$pkgname"
	export PROMPT_RELEASE_PACKAGE_TARBALL="$out/$pkgname.tgz"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	set -euo pipefail
	_pr_pack_main "$@"
	into=0
	for arg in "$@"; do
		if [ "$into" = 1 ]; then
			pr_install_package_into "$arg"
			echo "INSTALLED_INTO=$arg/.n8n/nodes/node_modules/$PROMPT_RELEASE_PACKAGE_NAME"
			into=0
		elif [ "$arg" = --into ]; then
			into=1
		fi
	done
	echo "PROMPT_RELEASE_PACKAGE_NAME=$PROMPT_RELEASE_PACKAGE_NAME"
	echo "PROMPT_RELEASE_PACKAGE_VERSION=$PROMPT_RELEASE_PACKAGE_VERSION"
	echo "PROMPT_RELEASE_PACKAGE_DIR=$PROMPT_RELEASE_PACKAGE_DIR"
	echo "PROMPT_RELEASE_PACKAGE_TARBALL=$PROMPT_RELEASE_PACKAGE_TARBALL"
else
	_pr_pack_main "$@"
fi
