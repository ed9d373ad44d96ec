import { DefinitionError } from '../errors/definition-error';

/**
 * Checks a decorator's options object once, at class definition: unknown keys and values of the
 * wrong kind are refused with the decorator, the option and what it accepts.
 */
export type OptionRules = Readonly<Record<string, { readonly expected: string; readonly accepts: (value: unknown) => boolean }>>;

export function validateOptions<T extends object>(decorator: string, options: unknown, rules: OptionRules): T {
  if (options === undefined) return {} as T;
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new DefinitionError('ERR_INVALID_OPTION', decorator, 'options', 'an object', describe(options));
  }
  for (const [key, value] of Object.entries(options)) {
    const rule = rules[key];
    if (rule === undefined) {
      throw new DefinitionError('ERR_INVALID_OPTION', decorator, key, `one of the known options (${Object.keys(rules).join(', ')})`, 'an unknown option');
    }
    if (value !== undefined && !rule.accepts(value)) throw new DefinitionError('ERR_INVALID_OPTION', decorator, key, rule.expected, describe(value));
  }
  return options as T;
}

/** The `name` option every decorator accepts. */
export const nameRule = {
  expected: 'a non-empty string',
  accepts: (value: unknown) => typeof value === 'string' && value.length > 0,
};

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'function') return 'a function';
  if (Array.isArray(value)) return 'an array';
  return String(value);
}
