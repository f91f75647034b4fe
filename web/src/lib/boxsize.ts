// An element's box in device pixels, read without forcing a layout: a ResizeObserver
// reports it once the browser has laid the page out anyway. Reading clientWidth instead,
// in each of the filmstrip's thumbnails as a key re-renders the strip, made the browser lay
// the page out again and again inside the key's work (~25 ms a key on a 3,000-frame shoot).
const waiting = new Map<Element, (size: { w: number; h: number }) => void>();
let observer: ResizeObserver | null = null;

function seen(entries: ResizeObserverEntry[]): void {
  const dpr = window.devicePixelRatio || 1;
  for (const e of entries) {
    const done = waiting.get(e.target);
    if (!done) continue;
    waiting.delete(e.target);
    observer?.unobserve(e.target);
    const exact = e.devicePixelContentBoxSize?.[0];
    const w = exact ? exact.inlineSize : e.contentRect.width * dpr;
    const h = exact ? exact.blockSize : e.contentRect.height * dpr;
    done({ w: Math.max(1, Math.round(w)), h: Math.max(1, Math.round(h)) });
  }
}

/** ``el``'s content box in device pixels, at the browser's next layout. */
export function boxSize(el: Element): Promise<{ w: number; h: number }> {
  observer ??= new ResizeObserver(seen);
  return new Promise((resolve) => {
    waiting.set(el, resolve);
    observer!.observe(el, { box: 'device-pixel-content-box' });
  });
}

/** Stop waiting for ``el`` (it left the page). */
export function forget(el: Element): void {
  if (waiting.delete(el)) observer?.unobserve(el);
}
