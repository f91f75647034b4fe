// Virtual scrolling for the cull screen's long lists (a 3,000-frame filmstrip, hundreds of
// stacks): the scroller has the full list's size, and only the items in view (plus a few
// either side) are in the DOM, placed at their offsets.

/** Start offsets of items of ``sizes`` laid out with ``gap`` between them, and the total. */
export function offsetsOf(sizes: number[], gap: number): { at: number[]; total: number } {
  const at: number[] = [];
  let x = 0;
  for (const size of sizes) {
    at.push(x);
    x += size + gap;
  }
  return { at, total: Math.max(0, x - gap) };
}

/** The items [lo, hi) that show in a viewport of ``size`` scrolled to ``scroll``, with
 * ``over`` more on each side (``at``: ascending start offsets, ``sizes``: their sizes). */
export function inView(at: number[], sizes: number[], scroll: number, size: number, over = 4): [number, number] {
  const n = at.length;
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    // the first item that ends after the viewport's start
    const mid = (lo + hi) >> 1;
    if (at[mid] + sizes[mid] <= scroll) lo = mid + 1;
    else hi = mid;
  }
  let end = lo;
  while (end < n && at[end] < scroll + size) end++;
  return [Math.max(0, lo - over), Math.min(n, end + over)];
}

/** The scroll position that shows [start, start + length) in a viewport of ``size`` at
 * ``scroll``: unchanged when it is in view, else the nearest one (``center``: centred). */
export function scrollTo(start: number, length: number, scroll: number, size: number, center = false): number {
  if (center) return Math.max(0, start + length / 2 - size / 2);
  if (start < scroll) return start;
  if (start + length > scroll + size) return start + length - size;
  return scroll;
}
