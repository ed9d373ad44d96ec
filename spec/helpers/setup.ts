/**
 * jest runs each spec file in a vm context whose Symbol lacks Node's `Symbol.dispose` and
 * `Symbol.asyncDispose`, which `using` and `await using` need; give it Node's (registered
 * symbols), as a program outside jest has them.
 */
const symbols = Symbol as unknown as { dispose?: symbol; asyncDispose?: symbol };
symbols.dispose ??= Symbol.for('nodejs.dispose');
symbols.asyncDispose ??= Symbol.for('nodejs.asyncDispose');
