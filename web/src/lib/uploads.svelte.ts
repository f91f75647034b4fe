// Browser uploads through the contract's signed uploads: prepareUpload, PUT the bytes to
// each returned URL, finalizeUpload with the SHA-256. What is pending is kept in IndexedDB,
// keyed by project + file name + size + lastModified: after a dropped connection or a
// closed tab, choosing the same files again re-prepares the unfinished ones and skips the
// finished ones.
import { api, studioHeaders, unwrap } from './api/client';

export type UploadStatus = 'waiting' | 'preparing' | 'uploading' | 'finalizing' | 'done' | 'failed' | 'interrupted' | 'skipped';
export interface UploadRow {
  key: string;
  projectId: string;
  name: string;
  size: number;
  lastModified: number;
  status: UploadStatus;
  progress: number;
  error?: string;
  assetId?: string;
  file?: File;
}

const DB = 'kilo-uploads';
function db(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB, 1);
    req.onupgradeneeded = () => req.result.createObjectStore('rows', { keyPath: 'key' });
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}
async function tx<T>(mode: IDBTransactionMode, fn: (s: IDBObjectStore) => IDBRequest<T>): Promise<T> {
  const d = await db();
  return new Promise((resolve, reject) => {
    const r = fn(d.transaction('rows', mode).objectStore('rows'));
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
}
function persist(row: UploadRow): void {
  const { file: _file, ...plain } = $state.snapshot(row) as UploadRow;
  void tx('readwrite', (s) => s.put(plain)).catch(() => undefined);
}
export function forget(row: UploadRow): void {
  void tx('readwrite', (s) => s.delete(row.key)).catch(() => undefined);
}

export const uploads = $state({ rows: [] as UploadRow[], running: false });

export function fileKey(projectId: string, f: { name: string; size: number; lastModified: number }): string {
  return `${projectId}|${f.name}|${f.size}|${f.lastModified}`;
}

/** The rows this browser kept for the project (after a reload: unfinished ones wait for
 * their files to be chosen again). */
export async function loadRows(projectId: string): Promise<void> {
  let kept: UploadRow[] = [];
  try {
    kept = (await tx('readonly', (s) => s.getAll())) as UploadRow[];
  } catch {
    kept = [];
  }
  uploads.rows = kept
    .filter((r) => r.projectId === projectId)
    .map((r) => (r.status === 'done' ? r : { ...r, status: 'interrupted' as const, progress: 0 }));
}

export function addFiles(projectId: string, files: File[]): number {
  let added = 0;
  for (const file of files) {
    if (!file.size && !file.type && !/\.[a-z0-9]+$/i.test(file.name)) continue; // a folder entry
    const key = fileKey(projectId, file);
    const known = uploads.rows.find((r) => r.key === key);
    if (known?.status === 'done') continue; // finished before: skipped
    if (known) {
      known.file = file;
      known.status = 'waiting';
      known.error = undefined;
      persist(known);
    } else {
      const row: UploadRow = { key, projectId, name: file.webkitRelativePath || file.name, size: file.size, lastModified: file.lastModified, status: 'waiting', progress: 0, file };
      uploads.rows.push(row);
      persist(uploads.rows[uploads.rows.length - 1]);
    }
    added++;
  }
  void runUploads();
  return added;
}

export function retry(row: UploadRow): void {
  if (!row.file) return;
  row.status = 'waiting';
  row.error = undefined;
  row.progress = 0;
  void runUploads();
}

function put(url: string, file: File, headers: Record<string, string>, onProgress: (p: number) => void): Promise<{ checksumSha256?: string }> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('PUT', url);
    const sameOrigin = new URL(url, window.location.href).origin === window.location.origin;
    if (sameOrigin) for (const [k, v] of Object.entries(studioHeaders())) if (k !== 'Authorization') xhr.setRequestHeader(k, v);
    for (const [k, v] of Object.entries(headers)) xhr.setRequestHeader(k, v);
    xhr.upload.onprogress = (e) => e.lengthComputable && onProgress(e.loaded / e.total);
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        try {
          resolve(JSON.parse(xhr.responseText || '{}'));
        } catch {
          resolve({});
        }
      } else reject(new Error(describeUploadError(xhr.status, xhr.responseText)));
    };
    xhr.onerror = () => reject(new Error('connection dropped'));
    xhr.send(file);
  });
}

function describeUploadError(status: number, text: string): string {
  let msg = '';
  try {
    msg = (JSON.parse(text) as { message?: string }).message ?? '';
  } catch {
    msg = text.slice(0, 120);
  }
  if (status === 413 || status === 507) return `storage quota: ${msg || 'too large'}`;
  if (status === 401 || status === 403) return `permission: ${msg || 'refused'}`;
  return msg || `HTTP ${status}`;
}

async function sha256(file: File): Promise<string | null> {
  if (!crypto.subtle) return null; // not a secure context: the server's own checksum is used
  const digest = await crypto.subtle.digest('SHA-256', await file.arrayBuffer());
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

async function uploadOne(row: UploadRow): Promise<void> {
  const file = row.file!;
  row.status = 'preparing';
  const prep = await unwrap(
    api.POST('/projects/{projectId}/assets:prepareUpload', {
      params: { path: { projectId: row.projectId } },
      body: { files: [{ clientFileId: row.key, filename: file.name, byteSize: file.size, contentType: file.type || null }] },
    }),
  );
  const ins = prep.uploads[0];
  row.assetId = ins.assetId;
  row.status = 'uploading';
  persist(row);
  const received = await put(ins.uploadUrl, file, (ins.headers ?? {}) as Record<string, string>, (p) => (row.progress = p));
  row.status = 'finalizing';
  const checksum = (await sha256(file)) ?? received.checksumSha256 ?? '';
  await unwrap(
    api.POST('/projects/{projectId}/assets:finalizeUpload', {
      params: { path: { projectId: row.projectId } },
      body: { assets: [{ assetId: ins.assetId, checksumSha256: checksum, contentType: file.type || null }] },
    }),
  );
  row.status = 'done';
  row.progress = 1;
  persist(row);
}

const PARALLEL = 3;
export async function runUploads(): Promise<void> {
  if (uploads.running) return;
  uploads.running = true;
  try {
    const worker = async () => {
      for (;;) {
        const row = uploads.rows.find((r) => r.status === 'waiting' && r.file);
        if (!row) return;
        row.status = 'preparing';
        try {
          await uploadOne(row);
        } catch (e) {
          row.status = 'failed';
          row.error = e instanceof Error ? e.message : String(e);
          persist(row);
        }
      }
    };
    await Promise.all(Array.from({ length: PARALLEL }, worker));
  } finally {
    uploads.running = false;
  }
}
