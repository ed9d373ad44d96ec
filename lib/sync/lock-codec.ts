import { exportReference } from '../monitor/exported-monitors';
import type { MonitorEndpoint } from '../monitor/monitor-endpoint';
import { endpointOf } from '../monitor/reference';
import { reviveReference } from '../monitor/remote-monitor';
import { codecs } from '../threads/codec-registry';
import { adoptCore, findHandle } from './lock-handles';
import { Lock } from './lock';
import { Semaphore } from './semaphore';

// A lock or semaphore crosses threads as its core, a monitor on the thread that made it, and
// arrives as a handle of the same class. Only the start-up files import this module (a worker's when
// the first lock arrives), so it never loads while the decorators that define the core do.
codecs().register({
  kind: 'lock',
  encode(value) {
    const handle = findHandle(value);
    if (handle === undefined) return undefined;
    const core = exportReference(endpointOf(handle.core) as MonitorEndpoint);
    return { kind: 'lock', core, permits: handle.permits, shape: handle.shape };
  },
  decode(marker) {
    const handle = Object.create(marker.shape === 'lock' ? Lock.prototype : Semaphore.prototype) as object;
    adoptCore(handle, reviveReference(marker.core), marker.permits, marker.shape);
    return handle;
  },
});
