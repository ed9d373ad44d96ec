/** A promise with its resolve outside: lets a test hold a turn open exactly as long as it needs. */
export interface Latch<T = void> {
  readonly promise: Promise<T>;
  open(value: T): void;
}

export function latch<T = void>(): Latch<T> {
  let open!: (value: T) => void;
  const promise = new Promise<T>((resolve) => (open = resolve));
  return { promise, open };
}

/** Lets every queued microtask and the next macrotask run. */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
