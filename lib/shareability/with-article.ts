/** `a Map`, `an Error`, `an Int32Array`, `a Uint8Array`: the article as the name is spoken. */
export function withArticle(name: string): string {
  return /^[AEIO]/i.test(name) || /^U(?!int|n[iu])/i.test(name) ? `an ${name}` : `a ${name}`;
}
