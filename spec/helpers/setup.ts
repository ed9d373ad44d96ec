/**
 * jest runs each spec file in a vm context whose Symbol lacks Node's `Symbol.asyncDispose`, which
 * `await using` needs; give it Node's (a registered symbol), as a program outside jest has it.
 */
const symbols = Symbol as unknown as { asyncDispose?: symbol };
symbols.asyncDispose ??= Symbol.for('nodejs.asyncDispose');
