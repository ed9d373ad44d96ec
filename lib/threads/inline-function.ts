/**
 * Self-contained functions shipped to another thread as source text.
 *
 * A function that is not registered with `task(fn)` reaches a worker as its source and is
 * rebuilt there. Whatever it used from around it (module variables, closures, imports) does
 * not exist on that thread, so such a function would fail there with a ReferenceError far from
 * the call, or quietly read a global of the same name. We therefore read the source once, on
 * the sending side, and refuse any free variable by name before anything runs.
 */
import type { AnyNode, Expression, Pattern } from 'acorn';
import { DefinitionError } from '../errors/definition-error';

/** A function node of the parsed source: the shipped function or one nested in it. */
type FunctionNode = Extract<
  AnyNode,
  { type: 'FunctionDeclaration' | 'FunctionExpression' | 'ArrowFunctionExpression' }
>;

/**
 * The names a rebuilt function may use without declaring them: what a fresh Node thread has
 * on `globalThis`, plus names the language or the worker supply without a global property.
 * `arguments` is not among them: it is declared by each non-arrow function, and an arrow's
 * `arguments` belongs to the function around it, which stays behind.
 */
const standardGlobals: ReadonlySet<string> = new Set([
  ...Object.getOwnPropertyNames(globalThis),
  'undefined',
  'NaN',
  'Infinity',
  'globalThis',
  'require',
  // esbuild's keepNames helper, which tsx wraps around named inner functions and classes;
  // compileInline supplies it on the receiving thread.
  '__name',
]);

/**
 * Returns source text that, evaluated as an expression, yields a function equivalent to `fn`,
 * for {@link compileInline} to rebuild on another thread.
 *
 * Accepts arrow functions, function expressions and declarations (named or not, async,
 * generators) and method shorthand (`{ m(x) {} }.m`), which becomes a function expression.
 *
 * @param fn - the function to ship; it must not use variables from outside itself.
 * @param what - how error messages name the function, e.g. `'children.add(scale)'`.
 * @throws DefinitionError `ERR_NOT_PORTABLE_FUNCTION` for built-in or bound functions, classes,
 *   getters and setters; `ERR_FREE_VARIABLE` naming the first variable `fn` uses from outside.
 *
 * @example
 * ```ts
 * inlineSource((x: number) => x * 2, 'children.add(double)'); // '(x) => x * 2'
 * const factor = 2;
 * inlineSource((x: number) => x * factor, 'children.add(scale)'); // throws ERR_FREE_VARIABLE
 * ```
 */
export function inlineSource(fn: Function, what: string): string {
  const text = Function.prototype.toString.call(fn);
  if (/\{\s*\[native code\]\s*\}$/.test(text)) {
    const why = 'it is a built-in or bound function, whose source is not available';
    throw new DefinitionError('ERR_NOT_PORTABLE_FUNCTION', what, why);
  }
  const source = asFunctionExpression(text, what);
  checkFunction(parseFunction(source, what), standardGlobals, what);
  return source;
}

/**
 * Rebuilds on the receiving thread a function from the source {@link inlineSource} returned.
 * Inside it, `require` loads modules as from safethread's own files (use package names or
 * `node:` modules, not relative paths).
 *
 * @throws DefinitionError `ERR_NOT_PORTABLE_FUNCTION` if the source is not a function.
 *
 * @example
 * ```ts
 * const double = compileInline('(x) => x * 2');
 * double(21); // 42
 * ```
 */
export function compileInline(source: string): (...args: unknown[]) => unknown {
  const made: unknown = new Function('require', '__name', `return (${source}\n);`)(require, keepName);
  if (typeof made !== 'function') {
    throw new DefinitionError('ERR_NOT_PORTABLE_FUNCTION', 'inline source', `it evaluates to ${typeof made}, not a function`);
  }
  return made as (...args: unknown[]) => unknown;
}

/** What esbuild's `__name(target, name)` does: gives a function or class its name. */
function keepName<T extends object>(target: T, name: string): T {
  return Object.defineProperty(target, 'name', { value: name, configurable: true });
}

/** Turns a function's source text into a function expression, or says why it cannot. */
function asFunctionExpression(text: string, what: string): string {
  const expression = tryParseExpression(`(${text})`);
  if (expression?.type === 'ClassExpression') {
    throw new DefinitionError('ERR_NOT_PORTABLE_FUNCTION', what, 'it is a class');
  }
  if (expression !== undefined) return text;

  // Method shorthand (`m(x) {}`, `async m() {}`, `['m']() {}`) parses only inside an object.
  const prefix = '({ ';
  const object = tryParseExpression(`${prefix}${text} })`);
  const property = object?.type === 'ObjectExpression' && object.properties.length === 1 ? object.properties[0] : undefined;
  if (property?.type === 'Property' && (property.kind === 'get' || property.kind === 'set')) {
    throw new DefinitionError('ERR_NOT_PORTABLE_FUNCTION', what, `it is a ${property.kind}ter`);
  }
  if (property?.type === 'Property' && property.method && property.value.type === 'FunctionExpression') {
    const method = property.value;
    // acorn starts a method's function node at its parameter list.
    const paramsAndBody = text.slice(method.start - prefix.length, method.end - prefix.length);
    return `${method.async ? 'async ' : ''}function${method.generator ? '*' : ''} ${paramsAndBody}`;
  }
  return text; // parseFunction reports why it is not a function
}

/** Parses `code` as one expression statement; undefined if it is valid but something else. */
function parseExpression(code: string): Expression | undefined {
  // Loaded on first use: a worker only rebuilds functions (compileInline) and never parses one.
  const { parse } = require('acorn') as typeof import('acorn');
  const program = parse(code, { ecmaVersion: 'latest' });
  const statement = program.body.length === 1 ? program.body[0] : undefined;
  return statement?.type === 'ExpressionStatement' ? statement.expression : undefined;
}

/** Like {@link parseExpression}, but undefined if `code` is not valid JavaScript either. */
function tryParseExpression(code: string): Expression | undefined {
  try {
    return parseExpression(code);
  } catch {
    return undefined;
  }
}

/** Parses a function expression's source, refusing anything else. */
function parseFunction(source: string, what: string): FunctionNode {
  let expression: Expression | undefined;
  try {
    expression = parseExpression(`(${source})`);
  } catch (error) {
    const why = `its source cannot be rebuilt as a function (${(error as Error).message})`;
    throw new DefinitionError('ERR_NOT_PORTABLE_FUNCTION', what, why);
  }
  if (expression?.type === 'FunctionExpression' || expression?.type === 'ArrowFunctionExpression') {
    return expression;
  }
  throw new DefinitionError('ERR_NOT_PORTABLE_FUNCTION', what, 'its source is not a function expression');
}

/**
 * Checks that every identifier `fn` reads is declared in it, in a function around it, or is a
 * standard global. Why approximate: each function is one scope, so a `let` in a block counts
 * for the whole function. That can only miss a free variable used outside the block that
 * declares its name, never refuse a correct function.
 */
function checkFunction(fn: FunctionNode, outer: ReadonlySet<string>, what: string): void {
  const scope = new Set(outer);
  if (fn.type !== 'ArrowFunctionExpression') {
    scope.add('arguments');
    if (fn.id) scope.add(fn.id.name);
  }
  for (const param of fn.params) declarePattern(param, scope);
  declareHoisted(fn.body, scope);
  for (const param of fn.params) checkUses(param, scope, what);
  checkUses(fn.body, scope, what);
}

/** Adds the names a parameter or declaration binds (`a`, `{ b: [c] = [] }`, `...d`). */
function declarePattern(pattern: Pattern, scope: Set<string>): void {
  switch (pattern.type) {
    case 'Identifier':
      scope.add(pattern.name);
      return;
    case 'ObjectPattern':
      for (const property of pattern.properties) {
        declarePattern(property.type === 'RestElement' ? property.argument : property.value, scope);
      }
      return;
    case 'ArrayPattern':
      for (const element of pattern.elements) if (element) declarePattern(element, scope);
      return;
    case 'RestElement':
      declarePattern(pattern.argument, scope);
      return;
    case 'AssignmentPattern':
      declarePattern(pattern.left, scope);
      return;
    case 'MemberExpression':
      return; // an assignment target, never a declaration
  }
}

/** Adds the names declared in one function's body, without entering nested functions. */
function declareHoisted(node: AnyNode, scope: Set<string>): void {
  switch (node.type) {
    case 'VariableDeclaration':
      for (const declarator of node.declarations) declarePattern(declarator.id, scope);
      break;
    case 'FunctionDeclaration':
      if (node.id) scope.add(node.id.name);
      return;
    case 'FunctionExpression':
    case 'ArrowFunctionExpression':
      return;
    case 'ClassDeclaration':
    case 'ClassExpression':
      if (node.id) scope.add(node.id.name);
      break;
    case 'CatchClause':
      if (node.param) declarePattern(node.param, scope);
      break;
  }
  for (const child of childNodes(node)) declareHoisted(child, scope);
}

/** Throws on the first identifier read that `scope` does not declare. */
function checkUses(node: AnyNode, scope: ReadonlySet<string>, what: string): void {
  switch (node.type) {
    case 'Identifier':
      if (!scope.has(node.name)) throw new DefinitionError('ERR_FREE_VARIABLE', what, node.name);
      return;
    case 'FunctionDeclaration':
    case 'FunctionExpression':
    case 'ArrowFunctionExpression':
      checkFunction(node, scope, what);
      return;
    // Names that are not variables: `a.b`, `{ b: 1 }`, `class { b() {} }`, labels, `new.target`.
    case 'MemberExpression':
      checkUses(node.object, scope, what);
      if (node.computed) checkUses(node.property, scope, what);
      return;
    case 'Property':
    case 'MethodDefinition':
    case 'PropertyDefinition':
      if (node.computed) checkUses(node.key, scope, what);
      if (node.value) checkUses(node.value, scope, what);
      return;
    case 'LabeledStatement':
      checkUses(node.body, scope, what);
      return;
    case 'BreakStatement':
    case 'ContinueStatement':
    case 'MetaProperty':
      return;
  }
  for (const child of childNodes(node)) checkUses(child, scope, what);
}

/** The nodes directly under `node`, in source order. */
function childNodes(node: AnyNode): AnyNode[] {
  const children: AnyNode[] = [];
  for (const value of Object.values(node)) {
    if (Array.isArray(value)) {
      for (const item of value) if (isNode(item)) children.push(item);
    } else if (isNode(value)) {
      children.push(value);
    }
  }
  return children;
}

function isNode(value: unknown): value is AnyNode {
  return typeof value === 'object' && value !== null && typeof (value as { type?: unknown }).type === 'string';
}
