import { thisThread } from '../runtime';
import { MessageKind, type Encoded, type MonitorMarker, type SpecialMarker } from '../threads/protocol';
import { transport } from '../threads/transport';
import { exportTable } from './export-table';

/**
 * Monitor markers that this thread sent and that no thread will ever read: the message that
 * carried them was taken back before its receiver read it (a pool child sent ahead, then moved to
 * another thread, which gets new markers). Each marker counts at its monitor's owner until a
 * thread revives it (see export-table.ts); one never revived would keep the monitor exported, and
 * a worker that owns it hosting, for good. So each is given back: a marker of this thread's own
 * monitor comes home, and one of another thread's monitor, which this thread said it passed on, is
 * taken by this thread as its own and let go of at once.
 */
export function giveBackUnread(values: readonly Encoded[]): void {
  for (const marker of monitorMarkersIn(values)) {
    if (marker.thread === thisThread().id) {
      exportTable().cameHome(marker.id);
      continue;
    }
    for (const change of ['revived', 'released'] as const) {
      transport().send(marker.thread, { kind: MessageKind.Release, to: marker.thread, from: thisThread().id, monitor: marker.id, change, markers: 1 });
    }
  }
}

/** The monitor markers in encoded values: references, and the cores of channels and locks, also inside `@shareable` instances. */
function monitorMarkersIn(values: readonly Encoded[]): MonitorMarker[] {
  const found: MonitorMarker[] = [];
  const pending = [...values];
  for (let value = pending.pop(); value !== undefined; value = pending.pop()) {
    if (!('specials' in value)) continue;
    for (const { marker } of value.specials) {
      const monitor = monitorOf(marker);
      if (monitor !== undefined) found.push(monitor);
      if (marker.kind === 'shareable') pending.push(marker.fields);
    }
  }
  return found;
}

function monitorOf(marker: SpecialMarker): MonitorMarker | undefined {
  switch (marker.kind) {
    case 'monitor':
      return marker;
    case 'channel':
    case 'lock':
      return marker.core;
    default:
      return undefined;
  }
}
