/** Compile-time checks of Immutable<T>, freeze and the Shareable type. */
import { freeze, isShareable, type Immutable, type Shareable } from '../../lib';

const order = freeze({ id: 7, lines: [{ sku: 'A1', quantity: 2 }] });
// @ts-expect-error frozen arrays have no push
order.lines.push({ sku: 'B2', quantity: 1 });
// @ts-expect-error frozen records are readonly
order.lines[0].quantity = 3;
const id: number = order.id;

const tuple: Immutable<[number, string]> = freeze([1, 'a'] as [number, string]);
// @ts-expect-error a frozen tuple is readonly
tuple[0] = 2;

const value: unknown = JSON.parse('{"a":1}');
if (isShareable(value)) {
  const narrowed: Shareable = value;
  void narrowed;
}
const record: Shareable = { a: [1, 'b', null, { c: true }] };

export { id, record };
