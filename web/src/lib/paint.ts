// Performance marks around a key and the frame it paints (the benchmark reads them with
// performance.getEntriesByName('kilo:key-to-paint')).
let pending: { key: string; t: number } | null = null;

export function markKey(key: string): void {
  pending = { key, t: performance.now() };
  performance.mark('kilo:key', { detail: key });
}

/** Called once the stage's image for the current frame is loaded and decoded. */
export function markPainted(): void {
  if (!pending) return;
  const started = pending.t;
  pending = null;
  requestAnimationFrame(() => {
    performance.measure('kilo:key-to-paint', { start: started, end: performance.now() });
  });
}
