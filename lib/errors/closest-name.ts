/**
 * "Did you mean" for a name that is not known: the known name it is most likely a typo of, if
 * one is close enough (a letter or two off, another case, or cut short), else undefined.
 *
 * @param aliases - names from other tools that mean a known one, e.g. `maxThreads` for `threads`
 */
export function closestName(name: string, known: readonly string[], aliases: Readonly<Record<string, string>> = {}): string | undefined {
  const alias = Object.hasOwn(aliases, name) ? aliases[name] : undefined;
  if (alias !== undefined) return alias;
  const typed = name.toLowerCase();
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of known) {
    const lower = candidate.toLowerCase();
    // Cut short or run on (`idleTimeout`, `deadlock`): one starts with the other.
    const distance = typed.length >= 4 && (lower.startsWith(typed) || typed.startsWith(lower)) ? 0 : editDistance(typed, lower);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  // One edit in a short name, two in a longer one, three in a long one: `x` suggests nothing.
  const allowed = typed.length <= 3 ? 1 : typed.length <= 8 ? 2 : 3;
  return bestDistance <= allowed ? best : undefined;
}

/** Levenshtein distance: the fewest insertions, deletions and substitutions that turn `a` into `b`. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min((previous[j] as number) + 1, (current[j - 1] as number) + 1, (previous[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length] as number;
}
