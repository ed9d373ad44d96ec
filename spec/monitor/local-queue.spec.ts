import { CancellationSource, CancellationToken, CancelledError, dumpMonitors, Monitor, monitorMethod } from '../../lib';
import { runInContext } from '../../lib/cancellation/current-token';
import { deadlockDetector } from '../../lib/deadlock/wait-tracking';
import { latch, settle } from '../helpers/latch';

jest.setTimeout(30_000);

/** Opened by a test to end `Desk.hold`. */
let gate = latch();

@Monitor
class Desk {
  readonly #served: string[] = [];

  @monitorMethod async hold(): Promise<void> {
    await gate.promise;
  }

  @monitorMethod async serve(who: string): Promise<string> {
    this.#served.push(who);
    return who;
  }

  @monitorMethod async served(): Promise<readonly string[]> {
    return Object.freeze([...this.#served]);
  }
}

const labelOf = (reference: object) => String(reference).slice('[monitor '.length, -1);

/**
 * A token whose source is cancelled at the worst moment for a monitor's queue: after the call has
 * checked the token and decided to queue, just as it starts to watch the token. That is what a
 * cancel from another thread looks like when it lands between the two.
 */
function cancelledWhileQueueing(source: CancellationSource, reason: string): CancellationToken {
  const { token } = source;
  const onCancel = token.onCancel.bind(token);
  jest.spyOn(token, 'onCancel').mockImplementationOnce((callback) => {
    source.cancel(reason);
    return onCancel(callback);
  });
  return token;
}

describe('a local monitor queue', () => {
  it('drops a call whose token is cancelled as it queues: it never runs and leaves neither the queue nor the wait-for graph holding it', async () => {
    const desk = new Desk();
    gate = latch();
    const holding = desk.hold();
    const source = new CancellationSource();
    const token = cancelledWhileQueueing(source, 'gave up while queueing');

    const withdrawn = runInContext({ token }, () => desk.serve('cancelled caller'));
    const error = await withdrawn.catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(CancelledError);
    expect((error as CancelledError).reason).toBe('gave up while queueing');

    const state = (await dumpMonitors()).monitors.find((monitor) => monitor.monitor === labelOf(desk));
    expect(state?.queued).toEqual([]);
    expect([...deadlockDetector().calls.values()].filter((call) => call.monitor.label === labelOf(desk))).toEqual([]);

    // The monitor still serves the calls after it, in order.
    const next = desk.serve('next caller');
    gate.open();
    await holding;
    await expect(next).resolves.toBe('next caller');
    await settle();
    await expect(desk.served()).resolves.toEqual(['next caller']);
  });

  it('runs calls one at a time in arrival order, fast path and queue alike', async () => {
    const desk = new Desk();
    const first = desk.serve('a');
    const rest = ['b', 'c', 'd'].map((who) => desk.serve(who));
    await expect(Promise.all([first, ...rest])).resolves.toEqual(['a', 'b', 'c', 'd']);
    for (const who of ['e', 'f']) await desk.serve(who);
    await expect(desk.served()).resolves.toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
  });
});
