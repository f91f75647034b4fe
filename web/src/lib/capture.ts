// A photo's capture time as every kilo front end prints it (kilo.clock.format_capture):
// its own wall-clock time, "2018-06-06 22:20:11", read from the ISO text the server sends
// (with the photo's offset, or none for a floating local time) without converting it to
// the browser's zone; "undated" when the capture time is unknown (capturedAt null: only the
// file's time is known, which says when it was copied, not shot).
export const UNDATED = 'undated';

const WALL = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})/;

export function captureText(capturedAt?: string | null): string {
  if (!capturedAt) return UNDATED;
  const wall = WALL.exec(capturedAt);
  return wall ? `${wall[1]} ${wall[2]}` : UNDATED;
}
