import { slot } from '../runtime';

/**
 * Which of the user's modules this thread is loading for a task or class. A branch or spawn that
 * starts meanwhile is a top-level side effect of that module, which every worker would repeat.
 */
export function whileLoadingModule<T>(file: string, load: () => T): T {
  const leave = loading().enter(file);
  try {
    return load();
  } finally {
    leave();
  }
}

/** The same for a module loaded by `import()`: it runs after `import()` returns, so the file stays named until it settles. */
export async function whileImportingModule<T>(file: string, load: () => Promise<T>): Promise<T> {
  const leave = loading().enter(file);
  try {
    return await load();
  } finally {
    leave();
  }
}

/** The user's module this thread is loading now, if any. */
export function loadingModule(): string | undefined {
  return loading().file;
}

/** The module being loaded; modules load inside one another, so each load puts back the one it interrupted. */
class ModuleLoading {
  #file: string | undefined = undefined;

  get file(): string | undefined {
    return this.#file;
  }

  /** Names `file` as the module loading; returns what names the one before it again. */
  enter(file: string): () => void {
    const outer = this.#file;
    this.#file = file;
    return () => {
      this.#file = outer;
    };
  }
}

const loading = slot('loading module', () => new ModuleLoading());
