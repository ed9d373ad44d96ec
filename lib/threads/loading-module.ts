import { runtime } from '../runtime';

/**
 * Which of the user's modules this thread is loading for a task or class. A branch or spawn that
 * starts meanwhile is a top-level side effect of that module, which every worker would repeat.
 */
export function whileLoadingModule<T>(file: string, load: () => T): T {
  const outer = runtime.loadingModule;
  runtime.loadingModule = file;
  try {
    return load();
  } finally {
    runtime.loadingModule = outer;
  }
}

/** The same for a module loaded by `import()`: it runs after `import()` returns, so the file stays named until it settles. */
export async function whileImportingModule<T>(file: string, load: () => Promise<T>): Promise<T> {
  const outer = runtime.loadingModule;
  runtime.loadingModule = file;
  try {
    return await load();
  } finally {
    runtime.loadingModule = outer;
  }
}
