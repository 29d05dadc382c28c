/**
 * Who a person is, for "same person" and "is the author" (two-person approval, ADR 0041). Names are typed
 * by people (`$PROMPT_RELEASE_USER`, the OS user): `Bob`, `BOB` and ` bob ` are one person, and so are a
 * full-width `ｂｏｂ` and `bob`. Names are compared by their key and recorded as typed.
 */

/**
 * The comparison key of a name: Unicode NFKC, then case-folded, then trimmed with inner runs of white space
 * made one space. Case folding is JavaScript's lower-upper-lower mapping, which folds what full case folding
 * folds in names (`ß` = `ẞ` = `ss`, final `ς` = `σ`) and errs toward "same person" where they differ (dotless
 * `ı` = `i`): for approvals, fewer distinct people is the safe side. NFKC again at the end composes what folding
 * split. An empty key means the name is blank.
 */
export function identityKey(name: string): string {
	return name.normalize('NFKC').toLowerCase().toUpperCase().toLowerCase().normalize('NFKC').trim().replace(/\s+/gu, ' ');
}

/** Whether two names are the same person by `identityKey` (blank names are nobody, never the same). */
export function sameIdentity(a: string | undefined, b: string | undefined): boolean {
	if (a === undefined || b === undefined) return false;
	const key = identityKey(a);
	return key !== '' && key === identityKey(b);
}
