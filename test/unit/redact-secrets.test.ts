/** API keys never survive in an error message: whole, as an echoed prefix, or percent-encoded. */
import { redactSecrets } from '../../lib/providers/errors';

const KEY = 'sk-proj-SECRET/part+more=tail123';

test('the key, its echoed prefix and its percent-encoded form are redacted; short secrets are left alone', () => {
	const text = `bad key ${KEY}; starts ${KEY.slice(0, 14)}…; in a URL ${encodeURIComponent(KEY)}`;
	const out = redactSecrets(text, [KEY, 'short']);
	expect(out).not.toContain('SECRET');
	expect(out).not.toContain('tail123');
	expect(out.match(/\[redacted API key]/g)).toHaveLength(3);
	expect(redactSecrets('a short one', ['short'])).toBe('a short one');
});
