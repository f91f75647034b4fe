// A page left for another (a new URL, the back button) stays in Chromium's back/forward
// cache: its JS, DOM and canvases are kept in the renderer for instant back-navigation.
// The cull screen's pixels are most of that (the stage's canvas, the kept bitmaps, the
// thumbnails' canvases): a page going into that cache lets them go, and draws them again
// when it is shown from there. The JS and the DOM stay, so back is still instant.
//
// ``page.shown`` counts the returns from the cache: an effect that reads it runs again on
// each (and repaints); ``page.hidden`` is true while the page is in the cache.
export const page = $state({ shown: 0, hidden: false });

const releases = new Set<() => void>();

/** Run ``release`` when the page goes into the back/forward cache; returns the undo. */
export function onLeave(release: () => void): () => void {
  releases.add(release);
  return () => releases.delete(release);
}

if (typeof window !== 'undefined') {
  addEventListener('pagehide', (e: PageTransitionEvent) => {
    if (!e.persisted) return; // unloaded for good: the renderer frees it all anyway
    page.hidden = true;
    for (const release of releases) release();
  });
  addEventListener('pageshow', (e: PageTransitionEvent) => {
    if (!e.persisted) return;
    page.hidden = false;
    page.shown++;
  });
}
