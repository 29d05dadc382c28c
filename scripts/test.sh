#!/usr/bin/env bash
# The README's test command, on a fresh clone:  bash scripts/test.sh [jest args...]
# Node 24 (cached) -> npm install -> build -> pinned n8n host (cached) -> packed extension -> lint -> jest
# (unit, CLI, providers, nodes, e2e). With jest arguments, runs only jest with them. Exits non-zero if either fails.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

step() { printf '==> %s\n' "$*" >&2; }
t0=$SECONDS

step "Node 24, dependencies, build"
# shellcheck source=scripts/env.sh
source scripts/env.sh --
step "n8n host (first run on a machine installs it: a few minutes)"
# shellcheck source=scripts/n8n-host.sh
source scripts/n8n-host.sh
step "pack + install this package as n8n installs community packages"
# shellcheck source=scripts/pack-extension.sh
source scripts/pack-extension.sh
step "headless Chromium for the HTML report test (Debian package)"
if [ ! -x /usr/bin/chromium ]; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
		timeout 900 apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive timeout 900 apt-get install -y -qq chromium >/dev/null ||
			printf 'warning: could not install chromium; the HTML report browser test will fail\n' >&2
	else
		printf 'warning: /usr/bin/chromium is missing and cannot be installed here (needs root + apt-get)\n' >&2
	fi
fi
export PROMPT_RELEASE_REQUIRE_BROWSER=1
step "ready in $((SECONDS - t0)) s: node $(node --version), n8n $N8N_HOST_DIR, package $PROMPT_RELEASE_PACKAGE_TARBALL"

set +e
lint=0
if [ "$#" -eq 0 ]; then
	step "lint (n8n community-node rules) and type-check of the tests"
	npx --no-install eslint . || lint=$?
	npx --no-install tsc -p tsconfig.test.json --noEmit || lint=$?
fi
# dist/ is built above; the jest global setup need not build it again.
export PROMPT_RELEASE_SKIP_BUILD=1
npx --no-install jest --ci "$@"
code=$?
set -e
step "jest exited with $code, lint with $lint ($((SECONDS - t0)) s in all)"
[ "$code" -ne 0 ] && exit "$code"
exit "$lint"
