// Decoded images kept warm so an arrow key paints at once: the next and previous previews
// are fetched and decoded (Image.decode) ahead of the key; the newest 48 stay referenced.
const LIMIT = 48;
const cache = new Map<string, HTMLImageElement>();

export function warm(urls: (string | undefined | null)[]): void {
  for (const url of urls) {
    if (!url) continue;
    const hit = cache.get(url);
    if (hit) {
      cache.delete(url);
      cache.set(url, hit); // newest last
      continue;
    }
    const img = new Image();
    img.decoding = 'async';
    img.src = url;
    img.decode().catch(() => undefined);
    cache.set(url, img);
  }
  while (cache.size > LIMIT) {
    const oldest = cache.keys().next().value as string;
    cache.delete(oldest);
  }
}

export function isWarm(url: string): boolean {
  const img = cache.get(url);
  return !!img && img.complete && img.naturalWidth > 0;
}
