/** A process warning as emitted: its text and its code. */
export interface Warned {
  readonly message: string;
  readonly code: unknown;
}

/**
 * The warnings `process.emitWarning` is asked for from now on, kept from Node's stderr printer.
 * Restore with `jest.restoreAllMocks()` (an `afterEach` does it in the specs that use this).
 */
export function captureWarnings(): Warned[] {
  const warned: Warned[] = [];
  jest.spyOn(process, 'emitWarning').mockImplementation(((message: string | Error, options?: { code?: string }) => {
    warned.push({ message: String(message), code: options?.code });
  }) as typeof process.emitWarning);
  return warned;
}
