/**
 * The one table of error codes and messages.
 *
 * Every error safethread throws has a stable `code` from this table, and its message is made
 * here and nowhere else, so that wording stays consistent and a reader can see every message
 * the library can print in one place. Messages say where, what was found and what to do.
 */
export const errorMessages = {
  // Shareability: a value that may not cross between threads.
  ERR_NOT_SHAREABLE: (where: string, path: string, what: string, fix: string) =>
    `${where}${path === '' ? '' : ` ${path}`} is ${what}; ${fix}`,
  ERR_UNSHAREABLE_DECLARED_TYPE: (where: string, declared: string, fix: string) =>
    `${where} is declared as ${declared}; ${fix}`,
  ERR_TRANSFER_USED: (where: string) =>
    `${where} is a transfer() whose ArrayBuffer was already moved; call transfer(buffer) once per send, with a buffer you still own`,

  // Shared dictionaries: what one can hold, and how much.
  ERR_SHARED_DICT_FULL: (where: string, limit: 'maxEntries' | 'maxBytes', holds: string) =>
    `${where}: the SharedDict is full: ${holds}. Raise ${limit} where it is made (new SharedDict({ ${limit} })), or delete entries first`,
  ERR_SHARED_DICT_KEY: (where: string, received: string) =>
    `${where}: a SharedDict key must be a string or a number (not NaN), got ${received}; convert it with String(key) or Number(key) (1 and '1' are different keys)`,
  ERR_SHARED_DICT_VALUE: (where: string, path: string, what: string, why: string) =>
    `${where}${path === '' ? '' : ` ${path}`} is ${what}, which a SharedDict cannot hold (${why}). Keep it in a @Monitor, or pass it to the children that need it, and store plain data or @shareable instances in the dict`,

  // Definition: a decorator or option used the wrong way, caught as early as possible.
  ERR_DECORATOR_MISUSE: (decorator: string, target: string, fix: string) =>
    `${decorator} cannot decorate ${target}; ${fix}`,
  ERR_INVALID_OPTION: (where: string, option: string, expected: string, received: string) =>
    `${where}: option \`${option}\` must be ${expected}, got ${received}`,
  ERR_MONITOR_METHOD_OUTSIDE_MONITOR: (method: string, className: string) =>
    `${method} is a @monitorMethod but class ${className} is not a @Monitor; add @Monitor to the class, or remove @monitorMethod`,
  ERR_MONITOR_WITHOUT_METHODS: (className: string) =>
    `@Monitor class ${className} has no @monitorMethod methods, so nothing could ever call it; mark the methods callers use with @monitorMethod`,
  ERR_MONITOR_METHOD_NOT_ASYNC: (method: string, received: string) =>
    `${method} returns ${received}, not a Promise or an Observable; declare the monitor method async`,
  ERR_STREAM_METHOD_NOT_OBSERVABLE: (method: string, received: string) =>
    `${method} is a stream method (declared without async), but it returned ${received}, not an Observable; return an Observable, or declare the method async to return a promise`,
  ERR_STREAM_METHOD_AWAITED: (method: string) =>
    `${method} is declared without async, so it is a stream method and its call returns an Observable, which cannot be awaited; declare the method async to return a Promise, or subscribe to the Observable (lastValueFrom() waits for its last value)`,
  ERR_SUBCLASS_NOT_MONITOR: (subclass: string, base: string) =>
    `class ${subclass} extends @Monitor class ${base} but is not itself a @Monitor; add @Monitor to ${subclass}`,
  ERR_RXJS_MISSING: (feature: string) => `${feature} needs rxjs, which is not installed; npm install rxjs`,

  // Work shipped to another thread: it must be found or rebuilt there.
  ERR_FREE_VARIABLE: (what: string, variable: string) =>
    `${what} uses the variable \`${variable}\` from outside itself, which does not exist on the thread that runs it; pass it as an argument, or register a module-level function with task(fn)`,
  ERR_NOT_PORTABLE_FUNCTION: (what: string, why: string) =>
    `${what} cannot be sent to another thread: ${why}; register a module-level function with task(fn), or pass a self-contained function`,
  ERR_MODULE_NOT_LOADABLE: (who: string, file: string, why: string, fix: string) =>
    `${who} could not load ${file}: ${why}; ${fix}`,
  ERR_TASK_NOT_FOUND: (task: string, file: string) =>
    `task ${task} was not registered when ${file} was loaded on the worker thread; call task(fn) at the top level of that module, not inside a function`,

  ERR_NOT_A_MONITOR: (what: string, expected: 'class' | 'reference', received: string) =>
    `${what} takes a @Monitor ${expected}, got ${received}; ${expected === 'class' ? 'decorate the class with @Monitor' : 'pass what new or spawn() returned for a @Monitor class'}`,

  // Monitor references: only monitor methods are reachable.
  ERR_MONITOR_ACCESS_READ: (monitor: string, property: string) =>
    `cannot read ${monitor}.${property}: only @monitorMethod methods are reachable through a monitor reference; read state through an async @monitorMethod such as \`get${capitalize(property)}()\``,
  ERR_MONITOR_ACCESS_WRITE: (monitor: string, property: string) =>
    `cannot change ${monitor}.${property} from outside: a monitor's state changes only inside its own @monitorMethod calls; add one that makes the change`,
  ERR_MONITOR_CLOSED: (monitor: string, why: string) =>
    `${monitor} is closed (${why}); its calls can no longer run. Create or spawn a new monitor`,

  // Cancellation.
  ERR_CANCELLED: (what: string) => `${what} was cancelled`,
  ERR_TIMEOUT: (what: string, ms: number) => `${what} timed out after ${ms} ms`,

  // Deadlock.
  ERR_CHANNEL_CLOSED: (channel: string) =>
    `${channel} is closed: no value can be put in it any more. Stop producing when it is closed (catch ChannelClosedError), or close it only once every producer is done`,
  ERR_CHANNEL_DRAINED: (channel: string) =>
    `${channel} is closed and every value in it was taken: get() has nothing more to give. Iterate with for await, which ends here quietly`,
  // Locks and semaphores.
  ERR_LOCK_RELEASED: (permit: string) =>
    `${permit} was already released; release each permit once: \`using\` and run() release it when their block ends, so do not also call release() there`,
  ERR_DEADLOCK: (cycle: string, call: string) =>
    `deadlock: ${cycle}. The call ${call} was rejected to break the cycle. Take monitors in one fixed order, or declare the monitor @Monitor({ reentrant: 'chain' }) if a call chain must come back into it`,

  // Structured concurrency and threads.
  ERR_BRANCH_CLOSED: (what: string) =>
    `${what} was called after its branch finished; a child may not outlive its branch, so add children inside the body or while the branch still runs`,
  ERR_BRANCH_FAILED: (count: number) => `${count} children of the branch failed; see .errors`,
  ERR_THREAD_CRASH: (what: string, how: string) => `${what} crashed its thread: ${how}`,
  ERR_BACKGROUND_OFF_MAIN_THREAD: (what: string, thread: string) =>
    `${what} was called on ${thread}, but background children belong to the main thread, which cancels them when the process is told to stop; start them from the main thread, or start a branch here and await it`,
  ERR_BACKGROUND_FAILED: (child: string, message: string) =>
    `background child ${child} failed, and nothing handled its result: ${message}. Handle its failure where it is started (background(fn).result.catch(...)), or await its result`,
} as const;

/**
 * The warnings safethread emits with `process.emitWarning(message, { code })`: code that works
 * but almost certainly does not do what was meant. Same style as the errors: where, what, the fix.
 */
export const warningMessages = {
  SAFETHREAD_STRAY_MESSAGE: (receiver: string, sender: string, what: string) =>
    `${receiver} ignored ${what} that ${sender} posted on safethread's port: it is not a message of safethread's, or not that thread's to send. Code on a worker must not post to parentPort (it is safethread's); pass results back by returning them, or through a Channel or a monitor. Later ones are ignored without a warning`,
  SAFETHREAD_TOP_LEVEL_START: (file: string, started: string, thread: string, guard: string) =>
    `${file} starts ${started} at its top level, and ${thread} loaded it to find a task or class it defines: every thread that loads the module starts it again. Start work only when the module runs as the program: ${guard}; or move the tasks and classes into a module of their own`,
  SAFETHREAD_CHANNEL_WAIT: (wait: string, seconds: string, why: string) =>
    `${wait} has waited ${seconds} s and the process is about to exit, so it will never end and the code awaiting it never resumes: nothing left in the process could end it (${why}). Close the channel once every producer is done (a waiting get() then fails with ChannelClosedError, and for await ends), or keep what fills it running until the consumer is done`,
  SAFETHREAD_LOCK_WAIT: (wait: string, seconds: string, why: string) =>
    `${wait} has waited ${seconds} s and the process is about to exit, so it will never end and the code awaiting it never resumes: nothing left in the process could release the lock (${why}). Release every permit once done with it (\`using _held = await lock.acquire()\` releases it when the block ends, run(fn) when fn settles)`,
  SAFETHREAD_PERMIT_DROPPED: (permit: string) =>
    `${permit} was dropped without being released (the code that acquired it ended, or let go of it, without release()), so it was released when it was garbage-collected, which may be long after; until then nobody else could take it. Release every permit once done with it: \`using _held = await lock.acquire()\` releases it when the block ends, run(fn) when fn settles`,
  SAFETHREAD_LOCAL_CHILD_ABANDONED: (child: string, cancelled: string, graceMs: number) =>
    `local child ${child} of a branch ran on for graceMs (${graceMs} ms) after ${cancelled}, so the branch settled without it; it runs on this thread, where it cannot be ended, so it runs on (and may keep the process alive) until it returns. Make it stop when currentToken() is cancelled: pass currentToken().signal to its I/O, or check currentToken().cancelled in its loops`,
} as const;

/** A stable identifier of one kind of warning, e.g. `'SAFETHREAD_TOP_LEVEL_START'`. */
export type WarningCode = keyof typeof warningMessages;

/** A stable identifier of one kind of failure, e.g. `'ERR_NOT_SHAREABLE'`. */
export type ErrorCode = keyof typeof errorMessages;

/** The details a given code's message is made from. */
export type MessageDetails<C extends ErrorCode> = Parameters<(typeof errorMessages)[C]>;

/** Makes the message of `code` from its details. */
export function formatMessage<C extends ErrorCode>(code: C, ...details: MessageDetails<C>): string {
  const make = errorMessages[code] as (...args: MessageDetails<C>) => string;
  return make(...details);
}

function capitalize(word: string): string {
  return word.charAt(0).toUpperCase() + word.slice(1);
}
