// Decoded images kept warm so an arrow key paints at once: the next and previous previews
// are fetched and decoded (Image.decode) ahead of the key; the newest 48 stay referenced.
const LIMIT = 48;
const cache = new Map<string, HTMLImageElement>();

export function warm(urls: (string | undefined | null)[]): void {
  for (const url of urls) if (url) take(url);
}

/** The decoded (or decoding) image of ``url``: the stage shows this very element, so a
 * prefetched frame paints without a second fetch or decode. */
export function take(url: string): HTMLImageElement {
  let img = cache.get(url);
  if (img) {
    cache.delete(url);
  } else {
    img = new Image();
    img.decoding = 'async';
    img.src = url;
    img.decode().catch(() => undefined);
  }
  cache.set(url, img); // newest last
  while (cache.size > LIMIT) {
    const oldest = cache.keys().next().value as string;
    const gone = cache.get(oldest);
    if (gone?.isConnected) {
      cache.delete(oldest);
      cache.set(oldest, gone); // on screen: kept
      if ([...cache.values()].every((i) => i.isConnected)) break;
      continue;
    }
    cache.delete(oldest);
  }
  return img;
}

export function isWarm(url: string): boolean {
  const img = cache.get(url);
  return !!img && img.complete && img.naturalWidth > 0;
}
