import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { BranchError, CancelledError, close, configure, shutdown, spawn, TimeoutError, branch } from '../../lib';
import { deserializeError, serializeError, type SerializedError } from '../../lib/threads/serialize-error';
import {
  declinePayment,
  expireCard,
  failHidden,
  PaymentError,
  PaymentTimeout,
  paymentErrorsConstructed,
  payThrough,
  Till,
  timeOutPayment,
} from '../fixtures/error-classes';
import { decoratorMode } from '../helpers/decorator-mode';

/**
 * README: "Errors keep their class, `code` and `cause` when they cross threads." A user's error
 * class exported by a module arrives on the receiving thread as that very class (the one the
 * receiver imported), with its message, code, cause, own properties and prototype methods; a
 * class that no module exports still arrives as an Error named after it.
 */

// Workers load TypeScript themselves under jest; the first start of each thread takes a moment.
jest.setTimeout(60_000);

beforeAll(() => configure({ threads: 2 }));
afterAll(() => shutdown());

async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection, got a result');
}

function expectDeclinedPayment(error: unknown, amount: number): void {
  expect(error).toBeInstanceOf(PaymentError);
  const payment = error as PaymentError;
  expect(payment.constructor).toBe(PaymentError);
  expect(payment.name).toBe('PaymentError');
  expect(payment.message).toBe('card declined');
  expect(payment.code).toBe('E_PAY');
  expect(payment.amount).toBe(amount);
  expect(payment.cause).toBeInstanceOf(RangeError);
  expect((payment.cause as Error).message).toBe('over the limit');
  expect(payment.describe()).toBe(`card declined (${amount} EUR)`);
  expect(payment.stack).toMatch(/^PaymentError: card declined\n[^]*\n {4}at <thread boundary: thrown on (actor Till \()?thread \d+\)?>/);
}

describe('a user error class thrown on another thread', () => {
  it('arrives from a task child as that class, with message, code, cause and own properties', async () => {
    const constructedBefore = paymentErrorsConstructed();
    const error = await rejectionOf(branch((children) => void children.add(declinePayment, 120)));
    expectDeclinedPayment(error, 120);
    // Revived from its prototype: its constructor (which may need arguments) did not run here.
    expect(paymentErrorsConstructed()).toBe(constructedBefore);
  });

  it('arrives from a monitor method on an actor as that class', async () => {
    const till = await spawn(Till);
    try {
      expectDeclinedPayment(await rejectionOf(till.pay(75)), 75);
    } finally {
      await close(till);
    }
  });

  it('arrives on a worker as that class when a monitor on the main thread throws it', async () => {
    const till = new Till();
    const [seen] = await branch((children) => void children.add(payThrough, till, 30));
    expect(seen).toEqual({ isPaymentError: true, code: 'E_PAY', description: 'card declined (30 EUR)', causeIsRangeError: true });
  });

  it("keeps a subclass of safethread's TimeoutError as itself, still a TimeoutError", async () => {
    const error = await rejectionOf(branch((children) => void children.add(timeOutPayment, 250)));
    expect(error).toBeInstanceOf(PaymentTimeout);
    expect(error).toBeInstanceOf(TimeoutError);
    expect(error).toBeInstanceOf(CancelledError);
    expect((error as PaymentTimeout).timeoutMs).toBe(250);
    expect((error as PaymentTimeout).code).toBe('ERR_TIMEOUT');
    expect((error as PaymentTimeout).name).toBe('PaymentTimeout');
  });

  it('arrives as that class when this thread had not loaded its module, loading it as the spec itself would', async () => {
    const file = require.resolve('../fixtures/refund-error');
    // A self-contained function: the main thread never imports the class's module before the error arrives.
    const error = await rejectionOf(
      branch((children) => {
        children.add((module: string) => {
          const { RefundError } = require(module) as typeof import('../fixtures/refund-error');
          throw new RefundError('already refunded');
        }, file);
      }),
    );
    const { RefundError } = require('../fixtures/refund-error') as typeof import('../fixtures/refund-error');
    expect(error).toBeInstanceOf(RefundError);
    expect((error as InstanceType<typeof RefundError>).code).toBe('E_REFUND');
    expect((error as Error).message).toBe('already refunded');
  });

  it('arrives as the nearest exported class it extends when its own class is not exported, named after its own', async () => {
    const error = await rejectionOf(branch((children) => void children.add(expireCard, 9)));
    expect(error).toBeInstanceOf(PaymentError);
    expect((error as PaymentError).name).toBe('CardExpired');
    expect((error as PaymentError).amount).toBe(9);
    expect((error as PaymentError).describe()).toBe('card expired (9 EUR)');
  });

  it('arrives as an Error named after its class when no module exports the class', async () => {
    const error = await rejectionOf(branch((children) => void children.add(failHidden)));
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).constructor).toBe(Error);
    expect((error as Error).name).toBe('HiddenError');
    expect((error as Error).message).toBe('not exported');
    expect((error as { code?: unknown }).code).toBe('E_HIDDEN');
  });
});

describe('finding the class on the receiving thread', () => {
  const fixture = require.resolve('../fixtures/error-classes');
  /** A PaymentError as a worker would send it, pointing at `location`. */
  function sentWith(location: unknown, type = 'Error'): SerializedError {
    return { ...serializeError(new PaymentError('card declined', 5), 'thread 9'), type, location } as SerializedError;
  }

  it('sends where the class is exported, and revives the very class on this thread', () => {
    const data = structuredClone(serializeError(new PaymentError('card declined', 5), 'thread 9'));
    expect(data.location).toEqual({ file: fixture, exportName: 'PaymentError' });
    expect(deserializeError(data)).toBeInstanceOf(PaymentError);
  });

  it('revives the errors of a BranchError, and causes, as their class', () => {
    const cause = new PaymentError('first attempt', 1);
    const sent = new BranchError([new PaymentError('card declined', 2, { cause }), new RangeError('other')]);
    const revived = deserializeError(structuredClone(serializeError(sent, 'thread 9'))) as BranchError;
    expect(revived).toBeInstanceOf(BranchError);
    const [payment, other] = revived.errors as [PaymentError, RangeError];
    expect(payment).toBeInstanceOf(PaymentError);
    expect(payment.amount).toBe(2);
    expect(payment.cause).toBeInstanceOf(PaymentError);
    expect((payment.cause as PaymentError).message).toBe('first attempt');
    expect(other).toBeInstanceOf(RangeError);
  });

  it.each([
    ['a module that does not exist', { file: `${fixture}.missing.ts`, exportName: 'PaymentError' }],
    ['a relative path', { file: './error-classes', exportName: 'PaymentError' }],
    ['an export that is a function, not an error class', { file: fixture, exportName: 'declinePayment' }],
    ['an export that is a class, not an error class', { file: fixture, exportName: 'Till' }],
    ['an export that does not exist', { file: fixture, exportName: 'Nothing' }],
    ['a malformed location', { file: 42 }],
  ])('falls back to the class named by type for %s, without throwing', (_, location) => {
    const revived = deserializeError(sentWith(location, 'RangeError'));
    expect(revived).toBeInstanceOf(RangeError);
    expect((revived as Error).name).toBe('PaymentError');
    expect((revived as PaymentError).code).toBe('E_PAY');
  });

  it('never revives as a class that is not a subclass of the one named by type', () => {
    const revived = deserializeError(sentWith({ file: fixture, exportName: 'PaymentError' }, 'TypeError'));
    expect(revived).toBeInstanceOf(TypeError);
    expect(revived).not.toBeInstanceOf(PaymentError);
  });
});

// The subprocesses do not see this jest project's decorator set-up, so they run in the standard
// project only (as in module-loader.spec.ts).
const describeSubprocesses = decoratorMode === 'standard' ? describe : describe.skip;

describeSubprocesses('a user error class in a program run outside jest', () => {
  const root = resolve(__dirname, '../..');
  const program = join(root, 'spec/fixtures/error-class-program.ts');

  it.each([
    // tsc's CommonJS output: `exports.PaymentError = PaymentError`, a data property.
    ['under ts-node', ['-r', 'ts-node/register/transpile-only', program]],
    // esbuild's CommonJS output: `export class` becomes a getter on `exports`.
    ['under tsx', [join(root, 'node_modules/tsx/dist/cli.mjs'), program]],
  ])('arrives from a task as that class %s', (_, args) => {
    const run = spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8', timeout: 50_000 });
    const outcome = { isPaymentError: true, name: 'PaymentError', code: 'E_PAY', amount: 42, causeIsRangeError: true };
    expect({ status: run.status, stderr: run.stderr, stdout: run.stdout }).toEqual({ status: 0, stderr: '', stdout: `${JSON.stringify(outcome)}\n` });
  });
});
