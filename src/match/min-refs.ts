/**
 * multi-ref needs minMatchingRefs references of one logo at or above the threshold: a value above
 * every logo's reference count can never match, and matching then reports no match at all without
 * a word (an evaluation TP 0 / FP 0, detectAndMatch empty matches), as if nothing looked alike.
 * One check for the CLI (eval, compare) and the API (detectAndMatch), each naming its own option.
 */
import { LogolabError } from '../errors.js';

/** The most references any one logo has; `refLogos` holds each reference's logo. */
export function mostRefsPerLogo(refLogos: Iterable<string>): number {
  const perLogo = new Map<string, number>();
  for (const logo of refLogos) perLogo.set(logo, (perLogo.get(logo) ?? 0) + 1);
  let most = 0;
  for (const n of perLogo.values()) most = Math.max(most, n);
  return most;
}

/**
 * Throws when `asked` (multi-ref's minMatchingRefs) exceeds `most` (mostRefsPerLogo), e.g.
 * "--min-matching-refs 5: the sampled logos have at most 2 reference crops each, so multi-ref can
 * never match; lower it or raise --refs-per-logo".
 */
export function refuseUnreachableMinRefs(asked: number, most: number, words: { option: string; whose: string; refs: string; fix: string }): void {
  if (asked > most) throw new LogolabError(`${words.option} ${asked}: ${words.whose} have at most ${most} ${words.refs} each, so multi-ref can never match; ${words.fix}`);
}
