import { CancellationSource, CancellationToken, CancelledError, Channel, Monitor, monitorMethod } from '../../lib';
import { runInContext } from '../../lib/cancellation/current-token';

/**
 * A token cancelled on another thread can be seen as live by a `cancelled` check and as cancelled
 * a moment later by `onCancel`, which then calls back at once. Waits must reject with a
 * CancelledError then too. The moment is staged by hiding the cancel from every `cancelled` read
 * outside `onCancel`.
 */
function cancelSeenOnlyByOnCancel(): jest.SpyInstance {
  const read = (Object.getOwnPropertyDescriptor(CancellationToken.prototype, 'cancelled') as PropertyDescriptor).get as () => boolean;
  return jest.spyOn(CancellationToken.prototype, 'cancelled', 'get').mockImplementation(function (this: CancellationToken) {
    return (new Error().stack ?? '').includes('onCancel') ? read.call(this) : false;
  });
}

@Monitor
class Gate {
  @monitorMethod async hold(ms: number): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, ms));
  }
  @monitorMethod async pass(): Promise<string> {
    return 'passed';
  }
}

describe('a cancel that lands between a check and onCancel', () => {
  afterEach(() => jest.restoreAllMocks());

  it('rejects a queued monitor call with CancelledError', async () => {
    const gate = new Gate();
    const held = gate.hold(30);
    const source = new CancellationSource();
    source.cancel('stop');
    const spy = cancelSeenOnlyByOnCancel();
    const call = runInContext({ token: source.token }, () => gate.pass());
    spy.mockRestore();
    await expect(call).rejects.toBeInstanceOf(CancelledError);
    await held;
    await expect(gate.pass()).resolves.toBe('passed');
  });

  it('rejects a channel wait with CancelledError', async () => {
    const channel = new Channel<number>(1);
    const source = new CancellationSource();
    source.cancel('stop');
    const spy = cancelSeenOnlyByOnCancel();
    const get = channel.get({ token: source.token });
    spy.mockRestore();
    await expect(get).rejects.toBeInstanceOf(CancelledError);
    await channel.put(1);
    await expect(channel.get()).resolves.toBe(1);
  });
});
