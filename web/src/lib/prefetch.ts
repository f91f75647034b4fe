// The stage's images and the frames fetched ahead of the keys.
//
// Every image is a fetch() (abortable with an AbortController) decoded off the main thread
// by createImageBitmap; the stage draws the bitmap into its canvas.
//
// The frame on screen always wins: the stage asks for it at priority "high" and at once
// (show). Prefetches (plan) go out at priority "low", at most MAX_ACTIVE on the wire at a
// time (Chromium opens 6 connections per host over HTTP/1.1, so the frame on screen and the
// thumbnails always find one free), taken from the planned list nearest first (the store
// plans in the direction of travel), and aborted the moment a move makes them stale: a
// burst of keys never leaves a queue of old frames in front of the new one. A prefetched
// frame paints without a second fetch or decode.
//
// What is kept is bounded: the frame on screen and the first KEEP - 1 planned neighbours;
// any other bitmap is closed at once (its pixels freed). Decoded <img>s would instead land
// in Chromium's own decoded-image cache (discardable shared memory, freed only under memory
// pressure: ~12 MB a 2048 px preview, 500 MB after a few hundred frames).
export const MAX_ACTIVE = 2;
export const KEEP = 6;

type Entry = {
  url: string;
  /** false for a bytes-only warm-up (a loupe: the server makes it, the HTTP cache keeps it) */
  image: boolean;
  /** the decoded frame, once there */
  bitmap: ImageBitmap | null;
  /** settles with the bitmap (null: it failed, or is bytes only) */
  done: Promise<ImageBitmap | null>;
  /** still on the wire */
  ctrl: AbortController | null;
  /** let go: a bitmap that arrives now is closed at once */
  gone: boolean;
  /** could not be read (asked again when the stage shows it again) */
  broken: boolean;
};

const entries = new Map<string, Entry>();
const failed = new Set<string>();
let shown: string | null = null;
/** the frame the stage is about to show (planned with its neighbours, asked for by show) */
let coming: string | null = null;
let planned: { url: string; image: boolean; ratio?: number }[] = [];
/** the stage's room for a frame, in device pixels: bitmaps are decoded to fit it */
let room: { w: number; h: number } | null = null;

/** The stage's room for a frame (device pixels): frames are decoded at the size they are
 * shown at (a 2048 px preview in a 1,000 px box: a quarter of the memory). */
export function setRoom(w: number, h: number): void {
  room = w > 0 && h > 0 ? { w: Math.round(w), h: Math.round(h) } : null;
}

/** The canvas size (device pixels) of a frame of ``ratio`` contained in the room, as the
 * stage's CSS lays it out; null before the room is known. Read from here, not from the
 * canvas's clientWidth, which would make the browser lay the page out in the key's work. */
export function fittedSize(ratio: number): { w: number; h: number } | null {
  if (!room || !(ratio > 0)) return null;
  const w = Math.min(room.w, room.h * ratio);
  return { w: Math.max(1, Math.round(w)), h: Math.max(1, Math.round(w / ratio)) };
}

/** What the page holds (the benchmark and tests read it as window.kiloPrefetch). */
export const counts = { started: 0, aborted: 0, closed: 0 };
export function state(): { active: number; kept: number; bitmaps: number } {
  let active = 0;
  let bitmaps = 0;
  for (const e of entries.values()) {
    if (e.ctrl) active++;
    if (e.bitmap) bitmaps++;
  }
  return { active, kept: entries.size, bitmaps };
}

/** The decoded frame of ``url`` if it is ready now. */
export function ready(url: string): ImageBitmap | null {
  return entries.get(url)?.bitmap ?? null;
}

/** The stage's frame ``url``: the prefetched bitmap (ready, or still arriving), else one
 * fetched at once at high priority. Settles with null when it cannot be read. */
export function show(url: string, ratio?: number): Promise<ImageBitmap | null> {
  let e = entries.get(url);
  if (!e?.image || e.broken) {
    if (e) drop(e);
    e = start(url, true, 'high', ratio);
  }
  shown = url;
  coming = null;
  trim();
  pump();
  return e.done;
}

/** After a move: ``current`` is the frame the stage shows next (it asks for it itself, at
 * high priority), ``urls`` the frames to have ready after it, nearest first, and ``bytes``
 * URLs whose bytes only are wanted early. Stale prefetches are aborted, new ones started. */
export function plan(
  current: string | null | undefined,
  frames: ({ url: string; ratio?: number } | null | undefined)[],
  bytes: (string | null | undefined)[] = [],
): void {
  coming = current ?? null;
  const seen = new Set<string>(coming ? [coming] : []);
  planned = [];
  for (const f of frames) {
    if (!f?.url || seen.has(f.url)) continue;
    seen.add(f.url);
    planned.push({ url: f.url, image: true, ratio: f.ratio });
  }
  // KEEP bounds the decoded frames; bytes-only warm-ups hold no bitmap and come after them
  // (cut with the frames, they were never asked for: the list is six frames long)
  planned = planned.slice(0, KEEP - 1);
  for (const url of bytes) {
    if (!url || seen.has(url)) continue;
    seen.add(url);
    planned.push({ url, image: false });
  }
  trim();
  pump();
}

function trim(): void {
  const keep = new Set(planned.map((p) => p.url));
  if (shown) keep.add(shown);
  if (coming) keep.add(coming);
  for (const e of [...entries.values()]) if (!keep.has(e.url)) drop(e);
}

function drop(e: Entry): void {
  entries.delete(e.url);
  e.gone = true;
  if (e.ctrl) {
    e.ctrl.abort();
    e.ctrl = null;
    counts.aborted++;
  }
  if (e.bitmap) {
    e.bitmap.close();
    e.bitmap = null;
    counts.closed++;
  }
}

/** Decode options that contain a frame of ``ratio`` (width / height) in the room. */
function fitted(ratio?: number): ImageBitmapOptions {
  const opts: ImageBitmapOptions = { imageOrientation: 'from-image' };
  const size = ratio ? fittedSize(ratio) : null;
  if (size) {
    opts.resizeWidth = size.w;
    opts.resizeQuality = 'high'; // the height follows the image's own proportions
  }
  return opts;
}

function active(): number {
  let n = 0;
  for (const e of entries.values()) if (e.ctrl) n++; // the frame on screen included
  return n;
}

function pump(): void {
  let free = MAX_ACTIVE - active();
  for (const p of planned) {
    if (free <= 0) return;
    if (entries.has(p.url) || failed.has(p.url)) continue;
    start(p.url, p.image, 'low', p.ratio);
    free--;
  }
}

function start(url: string, image: boolean, priority: RequestPriority, ratio?: number): Entry {
  const ctrl = new AbortController();
  const e: Entry = { url, image, bitmap: null, done: Promise.resolve(null), ctrl, gone: false, broken: false };
  entries.set(url, e);
  counts.started++;
  const settle = () => {
    if (e.ctrl === ctrl) {
      e.ctrl = null;
      pump();
    }
  };
  e.done = fetch(url, { signal: ctrl.signal, priority })
    .then((r) => {
      if (!r.ok) throw new Error(`${r.status}`);
      return r.blob();
    })
    .then(async (blob) => {
      settle(); // off the wire: the next prefetch may start while this one decodes
      if (!image || e.gone) return null;
      const bitmap = await createImageBitmap(blob, fitted(ratio));
      if (e.gone) {
        bitmap.close();
        return null;
      }
      e.bitmap = bitmap;
      return bitmap;
    })
    .catch(() => {
      settle();
      if (e.gone) return null;
      e.broken = true;
      if (failed.size > 500) failed.clear();
      failed.add(url); // not fetched ahead again; the stage still asks when it comes to it
      if (url !== shown && url !== coming) entries.delete(url);
      return null;
    });
  return e;
}

/** Let every frame go (the page went into the back/forward cache: see pagelife). */
export function releaseAll(): void {
  planned = [];
  shown = null;
  coming = null;
  for (const e of [...entries.values()]) drop(e);
}

if (typeof window !== 'undefined') (window as unknown as { kiloPrefetch: unknown }).kiloPrefetch = { counts, state, MAX_ACTIVE, KEEP };
