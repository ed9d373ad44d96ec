import type { TransferListItem } from 'node:worker_threads';
import type { ChildJob, ChildRunner } from './child-runner';
import { MessageKind, type ChildSettledMessage } from './protocol';
import { settleOutcome } from './outcome';
import { encode, encodeAll } from './serialize';
import { transport } from './transport';

/**
 * A worker's way to run branch children: it asks the main thread's pool, naming the child it is
 * running itself (if any) as the parent, so that the pool knows this thread only waits meanwhile
 * and may give it other work. That is what lets branches nest deeper than the pool has threads.
 */
export class PoolClient implements ChildRunner {
  readonly #jobs = new Map<number, ChildJob>();
  #nextId = 1;

  /** The main thread's pool starts its threads; a worker's branches find them running. */
  prepare(): void {}

  submit(job: ChildJob): number {
    const id = this.#nextId++;
    const transfer: TransferListItem[] = [];
    const args = encodeAll(job.args, transfer);
    const token = encode(job.token, transfer);
    this.#jobs.set(id, job);
    transport().send(0, { kind: MessageKind.RunChild, id, parent: job.parent, name: job.name, spec: job.spec, args, token }, transfer);
    return id;
  }

  terminate(id: number, why: string): void {
    if (this.#jobs.has(id)) transport().send(0, { kind: MessageKind.TerminateChild, id, why });
  }

  blocked(job: number, delta: 1 | -1): void {
    transport().send(0, { kind: MessageKind.JobBlocked, job, delta });
  }

  /** The main thread reports that a child finished. */
  settle(message: ChildSettledMessage): void {
    const job = this.#jobs.get(message.id);
    if (job === undefined) return;
    this.#jobs.delete(message.id);
    // The stack of where the child was added is costly to read: only a failure joins it to its own.
    settleOutcome(message, job, message.ok ? undefined : job.origin?.stack);
  }
}
