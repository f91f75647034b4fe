// Performance marks around a key and the frame it paints (the benchmark reads them with
// performance.getEntriesByName('kilo:key-to-paint')). "Painted" is two animation frames
// after the image's decode(): the first runs before the frame with the image is drawn,
// the second after it.
let pending: { key: string; t: number } | null = null;
let firstDone = false;

export function markKey(key: string): void {
  // the measure starts at this very mark (a reader pairs them by time)
  pending = { key, t: performance.mark('kilo:key', { detail: key }).startTime };
}

function afterPaint(then: () => void): void {
  requestAnimationFrame(() => requestAnimationFrame(then));
}

/** Called once the stage's image for the current frame is loaded and decoded. */
export function markPainted(): void {
  if (!firstDone) {
    // the cull screen's first frame on screen (its key handler is already listening):
    // navigation start (time origin 0) to here is "interactive" for the benchmark
    firstDone = true;
    afterPaint(() => performance.mark('kilo:first-frame'));
  }
  if (!pending) return;
  const started = pending.t;
  pending = null;
  afterPaint(() => {
    performance.measure('kilo:key-to-paint', { start: started, end: performance.now() });
  });
}
