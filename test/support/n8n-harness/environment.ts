/**
 * Process-level bootstrap of the n8n-core services a workflow run needs, registered in the
 * `@n8n/di` Container that n8n-core itself resolves from. Nothing here touches a database,
 * the network, or the user's ~/.n8n folder.
 *
 * The Container is a module-level singleton, and jest gives every test file its own module
 * registry, so each test file bootstraps once (lazily, on its first run).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';

import { Logger } from '@n8n/backend-common';
import { OutboundHttp } from '@n8n/backend-network';
import { ExpressionEngineConfig } from '@n8n/config';
import { Container } from '@n8n/di';
import * as expressionRuntime from '@n8n/expression-runtime';
import {
	Cipher,
	EncryptionKeyProxy,
	ErrorReporter,
	InstanceSettings,
	type IEncryptionKeyProvider,
	type KeyInfo,
} from 'n8n-core';
import { Expression, LoggerProxy, type IHttpRequestOptions, type IRequestOptions } from 'n8n-workflow';
// The AST sandbox hooks n8n-workflow passes to the VM evaluator. (Deep path: TypeScript's
// `moduleResolution: node` cannot resolve the `n8n-workflow/expression-sandboxing` export.)
import { expressionSandboxHooks } from 'n8n-workflow/dist/cjs/expression-sandboxing';

/** Something that answers an outgoing `this.helpers.httpRequest*` call made during a run. */
export type HttpHandler = (request: IHttpRequestOptions) => unknown;

/** One outgoing request as n8n-core handed it to the transport (credentials already applied). */
export interface RecordedHttpRequest {
	/** The request after n8n-core's `credentialsHelper.authenticate` ran (headers, qs, auth, ...). */
	options: IHttpRequestOptions;
	/** Name of the node whose helper issued the request, when known. */
	nodeName?: string;
}

interface RunScope {
	http?: HttpHandler;
	requests: RecordedHttpRequest[];
	reportedErrors: unknown[];
	currentNode?: string;
}

/** Per-run state, scoped with AsyncLocalStorage so concurrent runs in one file stay apart. */
export const runScope = new AsyncLocalStorage<RunScope>();

export function createRunScope(http?: HttpHandler): RunScope {
	return { http, requests: [], reportedErrors: [] };
}

export const HARNESS_ENCRYPTION_KEY = 'n8n-harness-test-encryption-key';

const noop = () => {};

function createSilentLogger(): Logger {
	const verbose = process.env.N8N_HARNESS_LOG === 'true';
	const write =
		(level: string) =>
		(message: string, meta?: unknown): void => {
			if (verbose) console.log(`[n8n ${level}] ${message}`, meta ?? '');
		};
	const logger: Record<string, unknown> = {
		error: write('error'),
		warn: write('warn'),
		info: write('info'),
		debug: write('debug'),
		verbose: write('verbose'),
		log: noop,
		isScopingEnabled: false,
	};
	logger.scoped = () => logger;
	return logger as unknown as Logger;
}

/**
 * A real `InstanceSettings` object (so `instanceof` and its getters work) without running its
 * constructor, which would read or create `~/.n8n/config`.
 */
function createInstanceSettings(): InstanceSettings {
	const n8nFolder = path.join(os.tmpdir(), 'n8n-harness');
	const settings = Object.create(InstanceSettings.prototype) as InstanceSettings;
	const encryptionKey = HARNESS_ENCRYPTION_KEY;
	Object.assign(settings, {
		n8nFolder,
		staticCacheDir: path.join(n8nFolder, 'cache'),
		customExtensionDir: path.join(n8nFolder, 'custom'),
		nodesDownloadDir: path.join(n8nFolder, 'nodes'),
		nodeDefinitionsDir: path.join(n8nFolder, 'node-definitions'),
		settingsFile: path.join(n8nFolder, 'config'),
		enforceSettingsFilePermissions: false,
		canSeedDeploymentState: false,
		instanceRole: 'leader',
		instanceType: 'main',
		isMultiMainEnabled: false,
		isMultiMainLicensed: false,
		hostId: 'main-n8n-harness',
		settings: { encryptionKey },
		instanceId: createHash('sha256').update('n8n-harness-instance').digest('hex'),
		hmacSignatureSecret: createHash('sha256').update(`hmac-signature:${encryptionKey}`).digest('hex'),
	});
	return settings;
}

/**
 * In-memory stand-in for n8n's DB-backed data-encryption-key store: one active key
 * (`harness:` prefix, AES-256-GCM) plus the legacy instance-key descriptor, both wrapped with
 * the instance key exactly as n8n stores them.
 */
function createKeyProvider(cipher: Cipher): IEncryptionKeyProvider {
	const active: KeyInfo = {
		id: 'harness',
		value: cipher.encryptDEKWithInstanceKey(createHash('sha256').update('harness-dek').digest('hex')),
		algorithm: 'aes-256-gcm',
		format: 'prefixed',
	};
	const legacy: KeyInfo = {
		id: 'legacy',
		value: cipher.encryptDEKWithInstanceKey(HARNESS_ENCRYPTION_KEY),
		algorithm: 'aes-256-cbc',
		format: 'no-prefix',
	};
	return {
		getActiveKey: async () => active,
		getKeyById: async (id) => (id === active.id ? active : null),
		getLegacyKey: async () => legacy,
	};
}

/**
 * Replaces the real transport at the last step (`OutboundHttp.requests().request`), so every
 * n8n-core request helper (`httpRequest`, `httpRequestWithAuthentication`, `request*`) runs for
 * real up to the wire. Without a handler for the run, requests fail: tests never hit the network.
 */
function createOutboundHttp(): OutboundHttp {
	const dispatch = async (options: IHttpRequestOptions): Promise<unknown> => {
		const scope = runScope.getStore();
		const method = options.method ?? 'GET';
		if (!scope) throw new Error(`n8n-harness: HTTP ${method} ${options.url} outside of a run`);
		scope.requests.push({ options, nodeName: scope.currentNode });
		if (!scope.http) {
			throw new Error(
				`n8n-harness: network is disabled; pass \`http\` to runWorkflow() to answer ${method} ${options.url}`,
			);
		}
		return await scope.http(options);
	};
	const fake = {
		requests: () => ({
			request: dispatch,
			requestLegacy: async (options: IRequestOptions) =>
				await dispatch({
					url: options.uri ?? options.url ?? '',
					method: options.method as IHttpRequestOptions['method'],
					headers: options.headers,
					qs: options.qs,
					body: options.body,
				}),
		}),
		transport: () => {
			throw new Error('n8n-harness: OutboundHttp.transport() is not available in tests');
		},
		egressFilter: () => {
			throw new Error('n8n-harness: OutboundHttp.egressFilter() is not available in tests');
		},
	};
	return fake as unknown as OutboundHttp;
}

function createErrorReporter(): ErrorReporter {
	const record = (error: unknown) => {
		runScope.getStore()?.reportedErrors.push(error);
	};
	return { error: record, warn: noop, info: noop } as unknown as ErrorReporter;
}

/** Engines the harness can run in-process. (`quickjs` is loaded with a dynamic `import()` jest cannot do.) */
export type ExpressionEngine = 'legacy' | 'vm';

let activeEngine: ExpressionEngine | undefined;

/** The engine runs use; `undefined` until the first run (or {@link useExpressionEngine}). */
export function activeExpressionEngine(): ExpressionEngine | undefined {
	return activeEngine;
}

/**
 * Selects n8n's expression engine for the following runs in this test file.
 *
 * - `vm`: n8n 2.x's default (`N8N_EXPRESSION_ENGINE=vm`): `@n8n/expression-runtime` evaluating in
 *   an isolated-vm V8 isolate, with n8n-workflow's AST sandbox hooks.
 * - `legacy`: `@n8n/tournament` evaluating in the host context (`N8N_EXPRESSION_ENGINE=legacy`).
 *
 * Without a call, the first run uses `ExpressionEngineConfig.engine`, i.e. `N8N_EXPRESSION_ENGINE`
 * or n8n's default `vm`. Call it in `beforeAll`, not while a run is in flight.
 */
export async function useExpressionEngine(engine: ExpressionEngine): Promise<void> {
	if (activeEngine === engine) return;
	await disposeExpressionEngine();
	if (engine === 'vm') {
		// Mirrors Expression.initExpressionEngine() (n8n-workflow), which n8n's CLI calls at startup
		// with ExpressionEngineConfig; that method loads the runtime with a dynamic import(), which
		// jest only supports under --experimental-vm-modules, so the evaluator is built here.
		const config = Container.get(ExpressionEngineConfig);
		const logger = LoggerProxy as unknown as expressionRuntime.Logger;
		const evaluator = new expressionRuntime.ExpressionEvaluator({
			createBridge: () =>
				new expressionRuntime.IsolatedVmBridge({
					timeout: config.bridgeTimeout,
					memoryLimit: config.bridgeMemoryLimit,
					logger,
				}),
			maxCodeCacheSize: config.maxCodeCacheSize,
			poolSize: config.poolSize,
			hooks: expressionSandboxHooks,
			logger,
		});
		await evaluator.initialize();
		(Expression as unknown as { vmEvaluator: unknown }).vmEvaluator = evaluator;
	}
	Expression.setExpressionEngine(engine);
	activeEngine = engine;
}

/** Releases the VM engine's isolates (registered as an `afterAll` by the harness). */
export async function disposeExpressionEngine(): Promise<void> {
	await Expression.disposeExpressionEngine();
	Expression.setExpressionEngine('legacy');
	activeEngine = undefined;
}

function configuredEngine(): ExpressionEngine {
	const { engine } = Container.get(ExpressionEngineConfig);
	if (engine === 'quickjs') {
		throw new Error('n8n-harness: N8N_EXPRESSION_ENGINE=quickjs is not supported in jest; use vm or legacy');
	}
	return engine;
}

let bootstrapped = false;

/**
 * Registers what n8n-core resolves from the Container during a run. Everything else it needs
 * (ExecutionContextService, ExecutionContextHookRegistry, TriggersAndPollers, BinaryDataService,
 * BinaryDataConfig, SecurityConfig, ...) is built by the Container from the real classes.
 */
export async function ensureN8nEnvironment(): Promise<void> {
	if (!bootstrapped) bootstrap();
	if (activeEngine === undefined) await useExpressionEngine(configuredEngine());
}

function bootstrap(): void {

	const logger = createSilentLogger();
	Container.set(Logger, logger);
	LoggerProxy.init(logger);

	Container.set(InstanceSettings, createInstanceSettings());
	Container.set(ErrorReporter, createErrorReporter());
	Container.set(OutboundHttp, createOutboundHttp());

	// Real Cipher (AES-256-GCM/CBC) over an in-memory key store; used by `Credentials`.
	const cipher = Container.get(Cipher);
	Container.get(EncryptionKeyProxy).setProvider(createKeyProvider(cipher));

	bootstrapped = true;
}
