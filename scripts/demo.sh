#!/usr/bin/env bash
# The README's demo command:  bash scripts/demo.sh [--reset]
#
# Starts a real n8n (pinned, on Node 24) on http://127.0.0.1:5678 with this package installed as
# Settings → Community Nodes installs it (packed, in .demo/n8n/.n8n/nodes/node_modules), a demo
# owner account, the example credentials and workflows imported, and the project's deterministic
# test model (not an LLM) answering OpenAI calls on http://127.0.0.1:8787. Everything it writes is
# under .demo/ (git-ignored): the n8n user folder and a copy of examples/registry, so the demo never
# edits the repo. Runs n8n in the foreground; Ctrl-C stops n8n and the model server.
#
# Overrides (environment):
#   PROMPT_RELEASE_OPENAI_BASE_URL  OpenAI-compatible base URL for the demo's OpenAI credential, e.g.
#                                   https://api.openai.com/v1 or http://127.0.0.1:11434/v1 (Ollama).
#                                   When set, the test model server is not started.
#   OPENAI_API_KEY                  API key for that credential (default: a dummy key for the test model).
#   PROMPT_RELEASE_DEMO_PORT        n8n port (default 5678).
#   PROMPT_RELEASE_MODEL_PORT       test model port (default 8787).
#   PROMPT_RELEASE_DEMO_EMAIL / PROMPT_RELEASE_DEMO_PASSWORD   the n8n owner login
#                                   (default demo@example.com / PromptRelease-demo-1).
#   --reset                         start from a fresh .demo/ (deletes the demo database and registry copy).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT="$(pwd)"

die() { printf 'demo: %s\n' "$*" >&2; exit 1; }
say() { printf 'demo: %s\n' "$*" >&2; }

reset=0
for arg in "$@"; do
	case "$arg" in
	--reset) reset=1 ;;
	-h | --help) sed -n '2,22p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) die "unknown option $arg (see --help)" ;;
	esac
done

N8N_PORT_DEMO="${PROMPT_RELEASE_DEMO_PORT:-5678}"
MODEL_PORT="${PROMPT_RELEASE_MODEL_PORT:-8787}"
DEMO_EMAIL="${PROMPT_RELEASE_DEMO_EMAIL:-demo@example.com}"
DEMO_PASSWORD="${PROMPT_RELEASE_DEMO_PASSWORD:-PromptRelease-demo-1}"
# Fixed ids, so example workflows can reference the credentials (nodes[].credentials.<type>.id).
CRED_REGISTRY_ID=promptRegDemo001
CRED_OPENAI_ID=openAiDemo000001

say "preparing Node 24, dependencies, build, n8n host, extension (first run on a machine: several minutes)..."
# shellcheck source=scripts/env.sh
source scripts/env.sh --
# shellcheck source=scripts/n8n-host.sh
source scripts/n8n-host.sh
# shellcheck source=scripts/pack-extension.sh
source scripts/pack-extension.sh

DEMO="$ROOT/.demo"
[ "$reset" = 1 ] && rm -rf "$DEMO"
mkdir -p "$DEMO/n8n"
# Where n8n's community-package installer puts the package; n8n loads it at start as n8n-nodes-prompt-release.*
pr_install_package_into "$DEMO/n8n" || die "could not install the packed package into .demo/n8n"
if [ ! -d "$DEMO/registry" ]; then
	[ -d examples/registry ] || die "examples/registry is missing"
	cp -R examples/registry "$DEMO/registry"
fi

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
port_busy "$N8N_PORT_DEMO" && die "port $N8N_PORT_DEMO is in use (another n8n?); set PROMPT_RELEASE_DEMO_PORT"

children=()
cleanup() {
	local pid
	for pid in "${children[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- model: the deterministic test model, unless a real/local one is configured -------------------
if [ -n "${PROMPT_RELEASE_OPENAI_BASE_URL:-}" ]; then
	OPENAI_URL="$PROMPT_RELEASE_OPENAI_BASE_URL"
	OPENAI_KEY="${OPENAI_API_KEY:-}"
	[ -n "$OPENAI_KEY" ] || say "warning: PROMPT_RELEASE_OPENAI_BASE_URL is set but OPENAI_API_KEY is empty"
	MODEL_NOTE="Model answers come from $OPENAI_URL (PROMPT_RELEASE_OPENAI_BASE_URL)."
else
	CLI="$ROOT/dist/bin/prompt-release.js"
	[ -f "$CLI" ] || die "dist/bin/prompt-release.js is not built yet (run: npm run build), so the test model server cannot start"
	node "$CLI" model-server --help >/dev/null 2>&1 ||
		die "this build of the CLI has no 'model-server' subcommand yet (node dist/bin/prompt-release.js --help)"
	[ -f examples/scripted-model.yaml ] || die "examples/scripted-model.yaml is missing"
	port_busy "$MODEL_PORT" && die "port $MODEL_PORT is in use; set PROMPT_RELEASE_MODEL_PORT"
	setsid node "$CLI" model-server --rules examples/scripted-model.yaml --port "$MODEL_PORT" >"$DEMO/model-server.log" 2>&1 &
	children+=("$!")
	for _ in $(seq 100); do
		port_busy "$MODEL_PORT" && break
		kill -0 "${children[-1]}" 2>/dev/null || { cat "$DEMO/model-server.log" >&2; die "the test model server exited"; }
		sleep 0.1
	done
	port_busy "$MODEL_PORT" || { cat "$DEMO/model-server.log" >&2; die "the test model server did not listen on $MODEL_PORT"; }
	OPENAI_URL="http://127.0.0.1:$MODEL_PORT/v1"
	OPENAI_KEY="${OPENAI_API_KEY:-test-model-needs-no-key}"
	MODEL_NOTE="Model answers come from the project's deterministic test model at http://127.0.0.1:$MODEL_PORT (examples/scripted-model.yaml) — not an LLM."
fi

# --- n8n environment ------------------------------------------------------------------------------
n8n() { node "$N8N_BIN" "$@"; }
export N8N_USER_FOLDER="$DEMO/n8n"
export N8N_ENCRYPTION_KEY=prompt-release-demo-fixed-encryption-key
export N8N_DIAGNOSTICS_ENABLED=false N8N_VERSION_NOTIFICATIONS_ENABLED=false N8N_TEMPLATES_ENABLED=false
export N8N_PERSONALIZATION_ENABLED=false N8N_DYNAMIC_BANNERS_ENABLED=false N8N_HIRING_BANNER_ENABLED=false
export N8N_LICENSE_AUTO_RENEW_ENABLED=false N8N_AI_ENABLED=false N8N_DISABLED_MODULES=mcp-registry
export N8N_RUNNERS_MODE=internal N8N_LOG_LEVEL=info N8N_ENFORCE_SETTINGS_FILE_PERMISSIONS=true
export N8N_LISTEN_ADDRESS=127.0.0.1 N8N_HOST=127.0.0.1 N8N_PORT="$N8N_PORT_DEMO" N8N_PROTOCOL=http
export N8N_EDITOR_BASE_URL="http://127.0.0.1:$N8N_PORT_DEMO" N8N_SECURE_COOKIE=false NODE_ENV=production
unset N8N_CUSTOM_EXTENSIONS # the package comes from the user folder, as on a user's install
# The owner account, created/updated at start (n8n 2.x: instance settings from the environment).
export N8N_INSTANCE_OWNER_MANAGED_BY_ENV=true N8N_INSTANCE_OWNER_EMAIL="$DEMO_EMAIL"
export N8N_INSTANCE_OWNER_FIRST_NAME=Demo N8N_INSTANCE_OWNER_LAST_NAME=User
N8N_INSTANCE_OWNER_PASSWORD_HASH="$(DEMO_PASSWORD="$DEMO_PASSWORD" node -e \
	'process.stdout.write(require(process.argv[1]).hashSync(process.env.DEMO_PASSWORD, 10))' \
	"$N8N_HOST_DIR/node_modules/bcryptjs")" || die "could not hash the demo password (bcryptjs in the n8n host)"
export N8N_INSTANCE_OWNER_PASSWORD_HASH

# --- credentials and workflows --------------------------------------------------------------------
node -e '
	const [file, regId, regPath, oaId, oaUrl, oaKey] = process.argv.slice(1);
	const creds = [
		{ id: regId, name: "Prompt Registry (demo copy)", type: "promptRegistryApi", data: { registryPath: regPath } },
		{ id: oaId, name: "OpenAI (demo)", type: "openAiApi", data: { apiKey: oaKey, url: oaUrl } },
	];
	require("fs").writeFileSync(file, JSON.stringify(creds, null, 2));
' "$DEMO/credentials.json" "$CRED_REGISTRY_ID" "$DEMO/registry" "$CRED_OPENAI_ID" "$OPENAI_URL" "$OPENAI_KEY"
log="$DEMO/import.log"
n8n import:credentials --input="$DEMO/credentials.json" >"$log" 2>&1 || { cat "$log" >&2; die "import of the demo credentials failed"; }
rm -f "$DEMO/credentials.json" # holds the API key in plain text
shopt -s nullglob
workflows=(examples/workflows/*.json)
shopt -u nullglob
for wf in "${workflows[@]}"; do
	n8n import:workflow --input="$wf" >>"$log" 2>&1 || { tail -n 40 "$log" >&2; die "import of $wf failed"; }
done
[ "${#workflows[@]}" -gt 0 ] || say "no examples/workflows/*.json yet: n8n starts without example workflows"

# --- start -------------------------------------------------------------------------------------------
URL="http://127.0.0.1:$N8N_PORT_DEMO"
setsid node "$N8N_BIN" start >"$DEMO/n8n.log" 2>&1 &
n8n_pid=$!
children+=("$n8n_pid")
say "starting n8n (log: .demo/n8n.log)..."
ready=0
for _ in $(seq 600); do
	if ! kill -0 "$n8n_pid" 2>/dev/null; then tail -n 60 "$DEMO/n8n.log" >&2; die "n8n exited during start"; fi
	if [ "$(node -e 'fetch(process.argv[1]).then(r=>console.log(r.status),()=>console.log(0))' "$URL/healthz/readiness")" = 200 ]; then
		ready=1
		break
	fi
	sleep 0.5
done
[ "$ready" = 1 ] || { tail -n 60 "$DEMO/n8n.log" >&2; die "n8n was not ready after 5 minutes"; }

cat <<MSG

  n8n is running: $URL
  Log in as:      $DEMO_EMAIL  /  $DEMO_PASSWORD
  Workflows:      ${#workflows[@]} imported from examples/workflows/ ; credentials "Prompt Registry (demo copy)"
                  (registry folder .demo/registry, a copy of examples/registry) and "OpenAI (demo)".

  $MODEL_NOTE
  To use a real or local model, set PROMPT_RELEASE_OPENAI_BASE_URL (an OpenAI-compatible base URL,
  e.g. https://api.openai.com/v1 or http://127.0.0.1:11434/v1) and OPENAI_API_KEY, then run
  scripts/demo.sh again (the "OpenAI (demo)" credential is re-imported with those values).

  Ctrl-C stops n8n and the model server. Start over with: bash scripts/demo.sh --reset

MSG
# n8n in the foreground: show its log until it exits; Ctrl-C (or SIGTERM to this script) stops all.
tail -n 0 -f --pid="$n8n_pid" "$DEMO/n8n.log" &
children+=("$!")
wait "$n8n_pid" || die "n8n stopped (see .demo/n8n.log)"
