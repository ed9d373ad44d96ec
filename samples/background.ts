/**
 * Background children: work that outlives the function that starts it, but not the program.
 *
 * An upload handler stores a photo, answers at once, and leaves the thumbnail to a background
 * child on a pool thread: the handler has long returned when the thumbnail is ready. A failed
 * thumbnail reaches the handler's own `.catch` (a failure nobody handles would be reported, naming
 * the child). A heartbeat runs on this thread as a local background child until it is cancelled:
 * here by `background.cancelAll()`; in a server, by Ctrl-C or SIGTERM, after which the process
 * ends as the signal asks.
 *
 * Run alone: npx ts-node samples/background.ts
 */
import { background, currentToken, sleep, task, type Child } from '../lib';

/** Stands in for image work on a pool thread. */
export const makeThumbnail = task(async function makeThumbnail(photo: string, size: number): Promise<string> {
  if (photo.endsWith('.raw')) throw new TypeError(`${photo} is not an image format we read`);
  await sleep(20 * photo.length);
  return `${photo.replace(/\.\w+$/, '')}-${size}px.webp`;
});

/** A request handler: returns at once; the thumbnail follows in the background. */
function upload(photo: string): Child<string> {
  const thumbnail = background(makeThumbnail, photo, 128);
  thumbnail.result.then(
    (file) => console.log(`  thumbnail ${file} ready`),
    (error: Error) => console.log(`  no thumbnail for ${photo}: ${error.message}`),
  );
  console.log(`  upload(${photo}) returned`);
  return thumbnail;
}

export async function main(): Promise<void> {
  console.log('background: upload handlers return at once; their thumbnails are background children');
  background.local(async function heartbeat() {
    let beats = 0;
    currentToken().onCancel((reason) => console.log(`  heartbeat stopped after ${beats} beats: ${String((reason as Error).message)}`));
    while (!currentToken().cancelled) {
      await sleep(50).catch(() => undefined);
      beats++;
    }
  });
  const thumbnails = ['cat.jpg', 'harbour.png', 'scan.raw'].map(upload);
  // A server would not wait for them; the sample does, to end in order.
  await Promise.allSettled(thumbnails.map((thumbnail) => thumbnail.result));
  await background.cancelAll('the sample is over');
}

if (require.main === module) void main();
