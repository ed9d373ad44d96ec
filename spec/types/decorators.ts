/**
 * Compile-time checks of the decorators, compiled under BOTH decorator modes by `npm test`
 * (tsconfig.standard.json and tsconfig.legacy.json). Each `@ts-expect-error` must meet an error:
 * if a rule stopped being enforced, the unused directive fails the build.
 */
import { Monitor, monitorMethod, shareable } from '../../lib';

@shareable
class Point {
  constructor(
    readonly x: number,
    readonly y: number,
  ) {}
}

@Monitor
class Accepted {
  @monitorMethod async primitives(a: number, b: string, c: boolean, d: bigint, e?: undefined, f?: null): Promise<void> {}
  @monitorMethod async readonlyArray(items: readonly string[]): Promise<readonly number[]> {
    return items.map((item) => item.length);
  }
  @monitorMethod async records(value: { readonly at: { readonly x: number } }): Promise<{ readonly ok: true }> {
    return { ok: true };
  }
  @monitorMethod async valueClass(point: Point): Promise<Point> {
    return point;
  }
  @monitorMethod async otherMonitor(other: Accepted): Promise<Accepted> {
    return other;
  }
  @monitorMethod() async factoryForm(n: number): Promise<number> {
    return n;
  }
  @monitorMethod({ name: 'named' }) async withOptions(n: number): Promise<void> {}
  @monitorMethod async sharedMemory(memory: SharedArrayBuffer, moved: ArrayBuffer): Promise<void> {}
  @monitorMethod async unknownInput(value: unknown): Promise<unknown> {
    return value;
  }
}

/** A monitor type as a parameter is accepted even with public mutable fields: no caller can reach them. */
@Monitor
class WithPublicState {
  items: string[] = [];
  @monitorMethod async link(other: WithPublicState): Promise<WithPublicState> {
    return other;
  }
}

@Monitor({ reentrant: 'chain' })
class WithOptions {
  constructor(readonly start: number) {}
  @monitorMethod async ok(): Promise<void> {}
}

class Refused {
  // @ts-expect-error a mutable array parameter
  @monitorMethod async mutableArray(items: string[]): Promise<void> {}
  // @ts-expect-error a Map parameter
  @monitorMethod async map(entries: Map<string, number>): Promise<void> {}
  // @ts-expect-error a Date parameter
  @monitorMethod async date(when: Date): Promise<void> {}
  // @ts-expect-error a Set nested in a record
  @monitorMethod async nested(value: { readonly tags: Set<string> }): Promise<void> {}
  // @ts-expect-error a function parameter
  @monitorMethod async callback(done: () => void): Promise<void> {}
  // @ts-expect-error a symbol parameter
  @monitorMethod async symbol(key: symbol): Promise<void> {}
  // @ts-expect-error a mutable array result
  @monitorMethod async returnsArray(): Promise<string[]> {
    return [];
  }
  // @ts-expect-error a Map result
  @monitorMethod({ name: 'x' }) async returnsMap(): Promise<Map<string, string>> {
    return new Map();
  }
  // @ts-expect-error not async
  @monitorMethod notAsync(): number {
    return 1;
  }
}

// @ts-expect-error a monitor constructor parameter that is never shareable
@Monitor
class RefusedConstructor {
  constructor(readonly items: string[]) {}
  @monitorMethod async ok(): Promise<void> {}
}

// @ts-expect-error an unknown option
@Monitor({ reentrant: 'always' })
class RefusedOption {
  @monitorMethod async ok(): Promise<void> {}
}

export { WithPublicState, Accepted, WithOptions, Refused, RefusedConstructor, RefusedOption };
