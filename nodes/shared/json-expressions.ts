/**
 * Parameters mapped as `{{ $json.<field> }}` — by far the commonest n8n mapping (what dragging a field from
 * the input panel writes) — read from the item itself, without a round trip through n8n's expression
 * engine (docs/adr/0052-json-field-parameters.md).
 *
 * n8n 2.x evaluates every `={{ … }}` parameter in an isolated-vm sandbox (@n8n/expression-runtime): about
 * 1.2 ms of CPU per expression on this machine kind, two per item for a prompt with two mapped inputs — more
 * than everything else Extract Signal does per item. For the plain field path n8n's answer is fixed by its
 * own code: `$json` is the node's input item at the item index (WorkflowDataProxy: `$json` →
 * `connectionInputData[itemIndex].json`, n8n-workflow 2.41 workflow-data-proxy.js), and a string, finite
 * number, boolean or null found there is returned unchanged (Expression.resolveSimpleParameterValue).
 * So the fast path answers only that: the whole parameter is `={{ $json.a.b }}` / `={{ $json["a"][0] }}`,
 * every step is an own property of an object or array, and the value is such a primitive. Anything else —
 * a missing field, an object value, surrounding text, a function call, another node's data — goes to
 * `getNodeParameter` exactly as before, so n8n's own answer or error is what the node sees.
 * test/nodes/json-expressions.test.ts compares both paths in n8n's engines (legacy and VM).
 */
import type { IExecuteFunctions } from 'n8n-workflow';

/** The whole parameter is one `$json` field path (dots or bracketed names / indexes), nothing else. */
const SIMPLE = /^=\{\{\s*\$json((?:\.[A-Za-z_$][\w$]*|\[(?:"[^"\\]*"|'[^'\\]*'|\d+)\])+)\s*\}\}$/;
const STEP = /\.([A-Za-z_$][\w$]*)|\[(?:"([^"\\]*)"|'([^'\\]*)'|(\d+))\]/g;

/** Parsed paths by parameter text (a workflow has few distinct ones); null: not a simple field path. */
const parsed = new Map<string, string[] | null>();
const MAX_PARSED = 2000;

/** The field path of `={{ $json.a["b"][0] }}` as ['a', 'b', '0']; undefined for any other value. */
export function jsonFieldPath(raw: unknown): string[] | undefined {
	if (typeof raw !== 'string' || !raw.startsWith('={{')) return undefined;
	let path = parsed.get(raw);
	if (path === undefined) {
		const match = SIMPLE.exec(raw);
		path = match ? [...match[1].matchAll(STEP)].map((m) => m[1] ?? m[2] ?? m[3] ?? m[4]) : null;
		if (parsed.size >= MAX_PARSED) parsed.clear();
		parsed.set(raw, path);
	}
	return path ?? undefined;
}

type Primitive = string | number | boolean | null;

/**
 * `{ value }` when `path` leads through own properties of objects/arrays to a string, finite number, boolean
 * or null; undefined when n8n must answer (missing step, a value of another kind, a non-object on the way).
 */
export function readJsonField(json: unknown, path: string[]): { value: Primitive } | undefined {
	let current: unknown = json;
	for (const step of path) {
		if (current === null || typeof current !== 'object' || !Object.hasOwn(current, step)) return undefined;
		current = (current as Record<string, unknown>)[step];
	}
	if (current === null || typeof current === 'string' || typeof current === 'boolean') return { value: current };
	if (typeof current === 'number' && Number.isFinite(current)) return { value: current };
	return undefined;
}

const parametersByContext = new WeakMap<object, Record<string, unknown>>();

/**
 * The node's parameters as stored (expressions unevaluated), read once per node run: n8n's `getNode()`
 * deep-copies the node on every call, and the parameters do not change while the node runs.
 */
export function storedParameters(ctx: IExecuteFunctions): Record<string, unknown> {
	let parameters = parametersByContext.get(ctx);
	if (!parameters) {
		parameters = ctx.getNode().parameters as Record<string, unknown>;
		parametersByContext.set(ctx, parameters);
	}
	return parameters;
}

/** The item's value for a parameter value as stored on the node: a plain value as is, a simple field path read directly; undefined: ask n8n. */
export function directValue(ctx: IExecuteFunctions, raw: unknown, itemIndex: number): { value: unknown } | undefined {
	if (typeof raw !== 'string' || !raw.startsWith('=')) return { value: raw };
	const path = jsonFieldPath(raw);
	return path ? readJsonField(ctx.getInputData()[itemIndex]?.json, path) : undefined;
}

/** Whether a stored parameter value holds an expression anywhere (a string starting with "="). */
export function holdsExpression(value: unknown): boolean {
	if (typeof value === 'string') return value.startsWith('=');
	if (Array.isArray(value)) return value.some(holdsExpression);
	if (value !== null && typeof value === 'object') return Object.values(value).some(holdsExpression);
	return false;
}

/**
 * A node parameter for an item (`name` may be a dotted path such as `signals.signal`):
 * `getNodeParameter(name, itemIndex, fallback)`, except that a value without any expression is returned as
 * stored (read-only: callers must not change it) and a simple `{{ $json.… }}` mapping is read from the item.
 * For parameters without `validateType`, `extractValue` or resource locators, whose value n8n returns as
 * stored or evaluated; any other case goes through n8n.
 */
export function itemParameter(ctx: IExecuteFunctions, name: string, itemIndex: number, fallback: unknown): unknown {
	let raw: unknown = storedParameters(ctx);
	for (const key of name.split('.')) raw = raw !== null && typeof raw === 'object' && Object.hasOwn(raw, key) ? (raw as Record<string, unknown>)[key] : undefined;
	if (raw !== undefined) {
		if (!holdsExpression(raw)) return raw;
		if (typeof raw === 'string') {
			const direct = directValue(ctx, raw, itemIndex);
			if (direct) return direct.value;
		}
	}
	return ctx.getNodeParameter(name, itemIndex, fallback);
}
