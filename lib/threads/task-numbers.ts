import { slot, thisThread } from '../runtime';
import type { RunTaskMessage, TaskSpec } from './protocol';
import type { TaskLocation } from './wire-types';

/**
 * Tasks by number: a pool thread is sent a task in full once, numbered, and after that its
 * number alone.
 *
 * For a trivial child, reading its message is much of what the child costs its thread, and a
 * task's location (a file path and names, in nested objects) was a good part of every message,
 * though a thread runs the same few tasks over and over.
 *
 * A number always names a task the thread already has: messages on one port arrive in the order
 * they were sent, and a thread reads every child's message as it arrives, before it knows whether
 * it will run the child (one sent ahead may be taken back before it starts). Only tasks found by
 * location are numbered; an inline task (its source) goes in full each time.
 */

/** On the main thread, per pool thread: the tasks that thread was sent, by location. */
export class SentTasks {
  readonly #numbers = new Map<string, number>();
  /** Every child of a task brings the same location object: found by it, its key need not be built each time. */
  readonly #byLocation = new WeakMap<TaskLocation, number>();

  /** The fields of a RunTask message that name `spec`: its number if this thread has it, else the task in full and the number to keep it under. */
  describe(spec: TaskSpec): Pick<RunTaskMessage, 'spec' | 'specNumber'> {
    if (spec.kind !== 'task') return { spec };
    const seen = this.#byLocation.get(spec.location);
    if (seen !== undefined) return { spec: seen };
    const key = `${spec.location.file}\0${spec.location.key}`;
    const known = this.#numbers.get(key);
    if (known !== undefined) {
      this.#byLocation.set(spec.location, known);
      return { spec: known };
    }
    const number = this.#numbers.size;
    this.#numbers.set(key, number);
    this.#byLocation.set(spec.location, number);
    return { spec, specNumber: number };
  }
}

/** On a pool thread: the tasks the main thread sent in full, by number. */
class ReceivedTasks {
  readonly #byNumber = new Map<number, TaskSpec>();

  /** Keeps the task a child's message brings in full: called as each message arrives, whether or not its child will run. */
  learn(message: RunTaskMessage): void {
    if (message.specNumber !== undefined && typeof message.spec !== 'number') this.#byNumber.set(message.specNumber, message.spec);
  }

  /** The task a child's message names. */
  spec(message: RunTaskMessage): TaskSpec {
    if (typeof message.spec !== 'number') return message.spec;
    const spec = this.#byNumber.get(message.spec);
    // Only a message lost on its way could leave a number unknown: the child fails, saying so.
    if (spec === undefined) throw new Error(`safethread: ${thisThread().name} was never sent the task numbered ${message.spec}; a message from the main thread was lost`);
    return spec;
  }
}

export const receivedTasks = slot('tasks the main thread sent', () => new ReceivedTasks());
