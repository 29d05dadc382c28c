/** Hot-path shortcuts keep their behaviour: template filling, and the limiter's abort of a request still waiting. */
import { AdaptiveLimiter } from '../../lib/throughput/limiter';
import { renderPrompt } from '../../lib/template';
import { makeSpec } from './helpers';

/** The original filling: one regex replace per text. */
function reference(text: string, vars: Record<string, unknown>): string {
	return text.replace(/\{\{\s*([^{}]*?)\s*\}\}/g, (_all, name: string) => (Object.hasOwn(vars, name) ? String(vars[name]) : ''));
}

test('renderPrompt fills instructions and template exactly as a regex replace does', () => {
	const texts = [
		'Subject: {{subject}}\n\n{{body}}',
		'no placeholders at all',
		'{{subject}}{{subject}} {{ body }} {{missing}} {{}} {x} {{a{b}} }}{{body}}',
		'',
		'{{ subject}}tail{{body }}',
	];
	for (const instructions of texts) {
		for (const template of texts) {
			const spec = makeSpec({ instructions, template, inputs: { subject: { type: 'string', required: true }, body: { type: 'string', required: false } } });
			for (const vars of [{ subject: 'S', body: 'B $& $1' }, { subject: '{{body}}' }]) {
				const r = renderPrompt(spec, vars);
				expect(r.system).toBe(reference(instructions, r.variables));
				expect(r.user).toBe(reference(template, r.variables));
			}
		}
	}
});

test('a request waiting in the limiter is let go when its caller aborts; one let through at once needs no listener', async () => {
	const limiter = new AdaptiveLimiter({ maxConcurrency: 1 });
	const first = new AbortController();
	const listeners = (signal: AbortSignal) => {
		let added = 0;
		const add = signal.addEventListener.bind(signal);
		signal.addEventListener = ((...args: Parameters<AbortSignal['addEventListener']>) => {
			added++;
			add(...args);
		}) as AbortSignal['addEventListener'];
		return () => added;
	};
	const addedFirst = listeners(first.signal);
	const ticket = await limiter.acquire({ inputTokens: 1, outputTokens: 1 }, { signal: first.signal });
	expect(addedFirst()).toBe(0);

	const second = new AbortController();
	const waiting = limiter.acquire({ inputTokens: 1, outputTokens: 1 }, { signal: second.signal });
	second.abort(new Error('caller gave up'));
	await expect(waiting).rejects.toThrow('caller gave up');

	// The slot is still the first request's; once it is done, the next request goes.
	ticket.done(200);
	const third = await limiter.acquire({ inputTokens: 1, outputTokens: 1 });
	third.done(200);
	expect(limiter.stats.started).toBe(2);
});
