/**
 * Which decorator set-up this jest project compiled the spec with: each project runs the same
 * spec, and a few tests apply to one set-up only (metadata checks need emitDecoratorMetadata).
 */
let seen: 'standard' | 'legacy' = 'legacy';
function probe(...args: unknown[]): void {
  seen = typeof args[1] === 'object' && args[1] !== null ? 'standard' : 'legacy';
}
@probe
class Probe {}
void Probe;

export const decoratorMode: 'standard' | 'legacy' = seen;
export const hasDesignMetadata = typeof (Reflect as unknown as { getMetadata?: unknown }).getMetadata === 'function';
