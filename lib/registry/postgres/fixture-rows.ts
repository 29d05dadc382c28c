/** Reading a prompt's fixture rows page by page (keyset pagination), so 100,000 fixtures never sit in memory at once. */
import { ConfigError, ConfigErrors } from '../../errors';
import type { Fixture } from '../../types';
import type { PostgresRegistryStore } from './store';

const PAGE = 1000;

/**
 * The prompt's fixtures in id order, each checked by `check`. A fixture that fails its check throws, unless
 * `onProblem` is given: then it is reported there and skipped.
 */
export async function* streamFixtureRows(
	store: PostgresRegistryStore,
	promptId: string,
	check: (id: string, body: unknown) => Fixture,
	onProblem?: (error: ConfigError) => void,
): AsyncGenerator<Fixture> {
	let after = '';
	for (;;) {
		const rows = await store.query<{ fixture_id: string; body: unknown }>(
			`SELECT fixture_id, body FROM {s}.fixtures WHERE prompt_id = $1 AND fixture_id COLLATE "C" > $2 ORDER BY fixture_id COLLATE "C" LIMIT ${PAGE}`,
			[promptId, after],
		);
		for (const row of rows) {
			let fixture: Fixture;
			try {
				fixture = check(row.fixture_id, row.body);
			} catch (error) {
				if (!onProblem) throw error;
				if (error instanceof ConfigErrors) error.errors.forEach(onProblem);
				else if (error instanceof ConfigError) onProblem(error);
				else throw error;
				continue;
			}
			yield fixture;
		}
		if (rows.length < PAGE) return;
		after = rows[rows.length - 1].fixture_id;
	}
}
