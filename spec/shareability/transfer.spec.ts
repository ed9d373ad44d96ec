import { types } from 'node:util';
import { assertShareable, freeze, isShareable, Monitor, monitorMethod, ShareabilityError, transfer } from '../../lib';
import { latch } from '../helpers/latch';

const bytesOf = (buffer: ArrayBuffer): number[] => [...new Uint8Array(buffer)];

/** A monitor that receives, keeps and hands back buffers. */
@Monitor
class Vault {
  #kept: ArrayBuffer | undefined;

  /** Keeps the buffer and says what arrived. */
  @monitorMethod async store(buffer: ArrayBuffer): Promise<readonly number[]> {
    this.#kept = buffer;
    return freeze(bytesOf(buffer));
  }

  @monitorMethod async storeTwo(first: ArrayBuffer, _second: unknown): Promise<void> {
    this.#kept = first;
  }

  @monitorMethod async keep(_value: unknown): Promise<void> {}

  /** Moves the kept buffer out to the caller. */
  @monitorMethod async hand(): Promise<ArrayBuffer> {
    return transfer(this.#kept as ArrayBuffer);
  }

  @monitorMethod async handNested(): Promise<{ readonly buffer: ArrayBuffer }> {
    return Object.freeze({ buffer: transfer(this.#kept as ArrayBuffer) });
  }

  @monitorMethod async keptLength(): Promise<number> {
    return (this.#kept as ArrayBuffer).byteLength;
  }
}

/** The error a call rejects with; fails the test when the call resolves. */
async function rejectionOf(call: Promise<unknown>): Promise<ShareabilityError> {
  const error = await call.then(
    () => {
      throw new Error('expected the call to reject with a ShareabilityError');
    },
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(ShareabilityError);
  return error as ShareabilityError;
}

/** The error `transfer(value)` throws; fails the test when it does not throw. */
function transferRefusal(value: unknown): ShareabilityError {
  try {
    transfer(value as ArrayBuffer);
  } catch (error) {
    expect(error).toBeInstanceOf(ShareabilityError);
    return error as ShareabilityError;
  }
  throw new Error('expected transfer to throw a ShareabilityError');
}

describe('transfer', () => {
  describe('moving a buffer into a monitor call', () => {
    it('delivers the same bytes to the method and detaches the sender\'s buffer', async () => {
      const vault = new Vault();
      const buffer = new Uint8Array([1, 2, 3, 4]).buffer;
      const view = new Uint8Array(buffer);
      await expect(vault.store(transfer(buffer))).resolves.toEqual([1, 2, 3, 4]);
      expect(buffer.byteLength).toBe(0);
      expect(view.length).toBe(0);
      await expect(vault.keptLength()).resolves.toBe(4);
    });

    it('delivers an ArrayBuffer, not the marker', async () => {
      let arrived: unknown;
      @Monitor
      class Inspector {
        @monitorMethod async take(buffer: ArrayBuffer): Promise<void> {
          arrived = buffer;
        }
      }
      const buffer = new ArrayBuffer(3);
      const marker = transfer(buffer);
      await new Inspector().take(marker);
      expect(types.isArrayBuffer(arrived)).toBe(true);
      expect(arrived).not.toBe(marker);
      expect(arrived).not.toBe(buffer);
      expect((arrived as ArrayBuffer).byteLength).toBe(3);
    });

    it('detaches the sender\'s buffer at the call, while the call still waits its turn', async () => {
      const gate = latch();
      @Monitor
      class Busy {
        @monitorMethod async hold(): Promise<void> {
          await gate.promise;
        }
        @monitorMethod async read(buffer: ArrayBuffer): Promise<readonly number[]> {
          return freeze(bytesOf(buffer));
        }
      }
      const busy = new Busy();
      const held = busy.hold();
      const buffer = new Uint8Array([7, 7]).buffer;
      const read = busy.read(transfer(buffer));
      expect(buffer.byteLength).toBe(0);
      gate.open();
      await held;
      await expect(read).resolves.toEqual([7, 7]);
    });

    it('moves an empty buffer', async () => {
      const vault = new Vault();
      await expect(vault.store(transfer(new ArrayBuffer(0)))).resolves.toEqual([]);
    });
  });

  describe('moving a buffer out of a monitor method', () => {
    it('delivers the returned buffer to the caller and detaches the method\'s copy', async () => {
      const vault = new Vault();
      await vault.store(transfer(new Uint8Array([9, 8, 7]).buffer));
      const received = await vault.hand();
      expect(types.isArrayBuffer(received)).toBe(true);
      expect(bytesOf(received)).toEqual([9, 8, 7]);
      await expect(vault.keptLength()).resolves.toBe(0);
    });
  });

  describe('refusing', () => {
    const NESTED = 'is a transfer() marker inside another value; pass transfer(buffer) as a whole argument or result';

    it('refuses a marker inside a frozen object or array, naming it, and moves nothing', async () => {
      const vault = new Vault();
      const buffer = new ArrayBuffer(8);
      const inObject = await rejectionOf(vault.keep(Object.freeze({ buffer: transfer(buffer) })));
      expect(inObject.code).toBe('ERR_NOT_SHAREABLE');
      expect(inObject.message).toBe(`Vault.keep: argument 0 .buffer ${NESTED}`);
      expect((await rejectionOf(vault.keep(Object.freeze([1, transfer(buffer)])))).message).toBe(`Vault.keep: argument 0 [1] ${NESTED}`);
      expect(buffer.byteLength).toBe(8);
    });

    it('refuses a marker inside a returned value, naming it', async () => {
      const vault = new Vault();
      await vault.store(transfer(new ArrayBuffer(2)));
      expect((await rejectionOf(vault.handNested())).message).toBe(`Vault.handNested: return value .buffer ${NESTED}`);
    });

    it('is not shareable inside other values, and freeze refuses it there', () => {
      const nested = Object.freeze({ buffer: transfer(new ArrayBuffer(1)) });
      expect(isShareable(nested)).toBe(false);
      expect(() => assertShareable(nested)).toThrow(`value .buffer ${NESTED}`);
      expect(() => freeze({ buffer: transfer(new ArrayBuffer(1)) })).toThrow(`freeze(value): value .buffer ${NESTED}`);
    });

    it('refuses a marker used a second time with ERR_TRANSFER_USED', async () => {
      const vault = new Vault();
      const marker = transfer(new ArrayBuffer(4));
      await vault.store(marker);
      const again = await rejectionOf(vault.store(marker));
      expect(again.code).toBe('ERR_TRANSFER_USED');
      expect(again.message).toBe(
        'Vault.store: argument 0 is a transfer() whose ArrayBuffer was already moved; call transfer(buffer) once per send, with a buffer you still own',
      );
    });

    it('refuses the same marker twice in one call', async () => {
      const vault = new Vault();
      const marker = transfer(new ArrayBuffer(4));
      const error = await rejectionOf(vault.storeTwo(marker, marker));
      expect(error.code).toBe('ERR_TRANSFER_USED');
      expect(error.message).toMatch(/^Vault\.storeTwo: argument 1 is a transfer\(\) whose ArrayBuffer was already moved;/);
    });

    // Library bug: receiveTransfer (transfer.ts) only checks its own marker; transferring a buffer
    // that an earlier marker already moved silently delivers an empty ArrayBuffer.
    it('refuses a buffer that another marker already moved, with ERR_TRANSFER_USED', async () => {
      const vault = new Vault();
      const buffer = new ArrayBuffer(4);
      await vault.store(transfer(buffer));
      expect((await rejectionOf(vault.store(transfer(buffer)))).code).toBe('ERR_TRANSFER_USED');
      await expect(vault.keptLength()).resolves.toBe(4);
    });

    // Library bug: passArguments (boundary.ts) moves argument 0's buffer before it checks argument 1,
    // so a refused call still detaches the sender's buffer and the bytes are lost.
    it('moves nothing when the call is refused for another argument', async () => {
      const vault = new Vault();
      const buffer = new Uint8Array([1, 2]).buffer;
      const error = await rejectionOf(vault.storeTwo(transfer(buffer), [1]));
      expect(error.message).toBe('Vault.storeTwo: argument 1 is a mutable Array; pass freeze(value) or a frozen copy');
      expect(buffer.byteLength).toBe(2);
    });
  });

  describe('transfer() of something else than an ArrayBuffer', () => {
    it('refuses a SharedArrayBuffer, saying to pass it as it is', () => {
      const error = transferRefusal(new SharedArrayBuffer(4));
      expect(error.code).toBe('ERR_NOT_SHAREABLE');
      expect(error.message).toBe('transfer(buffer): buffer is a SharedArrayBuffer, not an ArrayBuffer; a SharedArrayBuffer is shared as it is; pass it without transfer()');
    });

    it('refuses a typed array, saying to pass its buffer', () => {
      expect(transferRefusal(new Uint8Array(4)).message).toBe('transfer(buffer): buffer is a Uint8Array, not an ArrayBuffer; pass an ArrayBuffer, e.g. view.buffer');
    });

    it('refuses a string or null, saying what to pass', () => {
      expect(transferRefusal('bytes').message).toBe('transfer(buffer): buffer is a string, not an ArrayBuffer; pass an ArrayBuffer, e.g. view.buffer');
      expect(transferRefusal(null).message).toBe('transfer(buffer): buffer is null, not an ArrayBuffer; pass an ArrayBuffer, e.g. view.buffer');
    });

    // Library bug: describe() in transfer.ts writes `a ${typeof value}` and `a ${constructor.name}`.
    it('refuses undefined and an Int32Array with the right article in the message', () => {
      expect(transferRefusal(undefined).message).toBe('transfer(buffer): buffer is undefined, not an ArrayBuffer; pass an ArrayBuffer, e.g. view.buffer');
      expect(transferRefusal(new Int32Array(1)).message).toBe('transfer(buffer): buffer is an Int32Array, not an ArrayBuffer; pass an ArrayBuffer, e.g. view.buffer');
    });
  });
});
