// A tiny stand-in for `kilo serve` for `npm run dev` only (never built into the app, never
// used by the Python tests): the contract's and the studio extensions' shapes, in memory,
// with the example photos of ../examples/photos as every frame. POST /mock/scenario
// {projects: 'list'|'empty'|'error'|'slow', cull: 'ready'|'notready'|'empty'|'reset', signedIn}
// switches what it answers, for looking at each state.
import type { Plugin } from 'vite';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';

const PHOTOS = join(import.meta.dirname, '..', '..', 'examples', 'photos');

function jpegSize(buf: Buffer): [number, number] {
  let i = 2;
  while (i < buf.length) {
    if (buf[i] !== 0xff) return [3, 2];
    const marker = buf[i + 1];
    const len = buf.readUInt16BE(i + 2);
    if (marker >= 0xc0 && marker <= 0xcf && ![0xc4, 0xc8, 0xcc].includes(marker)) return [buf.readUInt16BE(i + 7), buf.readUInt16BE(i + 5)];
    i += 2 + len;
  }
  return [3, 2];
}

const photos = readdirSync(PHOTOS).filter((f) => f.endsWith('.jpg')).map((f) => {
  const [w, h] = jpegSize(readFileSync(join(PHOTOS, f)));
  return { f, w, h };
});

const scenario: Record<string, unknown> = { projects: 'list', cull: 'ready', signedIn: true };
const now = new Date().toISOString();
let projects = [
  { id: 'p-wedding', title: 'Anna & Ben — wedding', status: 'active', shootDate: '2026-06-14', stats: { assetCount: 3012, pickedCount: 412, rejectedCount: 1630, clustersReviewed: 220 }, createdAt: now, updatedAt: now },
  { id: 'p-portraits', title: 'Studio portraits', status: 'active', shootDate: '2026-09-02', stats: { assetCount: 184, pickedCount: 20, rejectedCount: 11, clustersReviewed: 6 }, createdAt: now, updatedAt: now },
  { id: 'p-empty', title: 'Card dump, unsorted', status: 'active', stats: { assetCount: 0 }, createdAt: now, updatedAt: now },
];

interface Member { assetId: string; fileName: string; frameIndex: number; frameCount: number; capturedAt: string; width: number; height: number; displayWidth: number; displayHeight: number; picked: boolean; rejected: boolean; rating: number | null; starred: boolean; sharpness: number; state: string; thumbUrl: string; previewUrl: string; loupeUrl: string; iso: number; shutterSpeed: string; aperture: number }
interface Stack { id: string; clusterId: string | null; kind: string; momentId: string; momentTitle: string; reviewed: boolean; winnerId: string | null; reasons: string[]; memberIds: string[]; members: Member[] }
function makeStacks(): Stack[] {
  const stacks: Stack[] = [];
  let n = 0;
  const titles = ['Getting ready', 'First look', 'Ceremony', 'Ring exchange', 'Family formals', 'Golden hour', 'Speeches', 'First dance'];
  for (let s = 0; s < 14; s++) {
    const size = s % 4 === 3 ? 1 : 2 + (s % 4);
    const members: Member[] = [];
    for (let k = 0; k < size; k++) {
      const p = photos[n++ % photos.length];
      const id = `a-${s}-${k}`;
      members.push({ assetId: id, fileName: p.f.replace('.jpg', `_${String(n).padStart(4, '0')}.jpg`), frameIndex: k, frameCount: size, capturedAt: new Date(Date.UTC(2026, 5, 14, 14, s * 7, k * 2)).toISOString(), width: p.w, height: p.h, displayWidth: p.w, displayHeight: p.h, picked: false, rejected: false, rating: null, starred: false, sharpness: ((n * 37) % 100) / 100, state: s > 11 ? (k % 2 ? 'embedding' : 'analyzing') : 'ready', thumbUrl: `/mock-img/${p.f}`, previewUrl: `/mock-img/${p.f}?p=${id}`, loupeUrl: `/mock-img/${p.f}?full=${id}`, iso: 400 * (1 + (n % 4)), shutterSpeed: `1/${125 * (1 + (n % 3))}`, aperture: 2.8 });
    }
    const kind = size === 1 ? 'singles' : s % 3 === 2 ? 'duplicate' : 'burst';
    stacks.push({ id: `c-${s}`, clusterId: size > 1 ? `c-${s}` : null, kind, momentId: `m-${Math.floor(s / 2)}`, momentTitle: titles[Math.floor(s / 2) % titles.length], reviewed: false, winnerId: size > 1 ? members[1 % size].assetId : null, reasons: size > 1 ? ['Sharpest frame', 'Eyes open', 'Cleaner background'] : [], memberIds: members.map((x) => x.assetId), members });
  }
  return stacks;
}
let stacks = makeStacks();
const decisions: unknown[] = [];

function send(res: ServerResponse, status: number, payload: unknown) {
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json');
  res.setHeader('Cache-Control', 'no-store');
  res.end(JSON.stringify(payload));
}
// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function body(req: IncomingMessage): Promise<any> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const t = Buffer.concat(chunks).toString();
  try {
    return t ? JSON.parse(t) : {};
  } catch {
    return {};
  }
}
const findMember = (id: string) => stacks.flatMap((s) => s.members).find((x) => x.assetId === id);

export function mockServer(): Plugin {
  return {
    name: 'kilo-mock-api',
    apply: 'serve',
    configureServer(server) {
      server.middlewares.use(async (req, res, next) => {
        const url = new URL(req.url ?? '/', 'http://x');
        const p = url.pathname;
        const m = req.method ?? 'GET';
        if (p.startsWith('/mock-img/')) {
          const f = decodeURIComponent(p.slice(10)).replace(/[\\/]/g, '');
          res.setHeader('Content-Type', 'image/jpeg');
          return res.end(readFileSync(join(PHOTOS, f)));
        }
        if (p === '/mock/scenario' && m === 'POST') {
          Object.assign(scenario, await body(req));
          if (scenario.cull === 'reset') {
            stacks = makeStacks();
            decisions.length = 0;
            scenario.cull = 'ready';
          }
          return send(res, 200, { scenario, decisions });
        }
        if (p === '/mock/decisions') return send(res, 200, decisions);
        if (!p.startsWith('/v1/')) return next();
        if (m !== 'GET' && req.headers['x-kilo-studio'] !== '1') return send(res, 403, { code: 'forbidden', message: 'studio header missing' });
        if (scenario.down) return send(res, 502, { code: 'down', message: 'down' });
        if (!scenario.signedIn && !p.startsWith('/v1/auth/')) return send(res, 401, { code: 'unauthorized', message: 'sign in' });
        const api = p.slice(3);
        let mm: RegExpExecArray | null;
        const key = req.headers['idempotency-key'];
        if (api === '/x-kilo/me') return send(res, 200, { user: { id: 'u1', email: 'me@studio.local', displayName: 'Local photographer' }, studioSession: true, local: true });
        if (api === '/auth/login') return send(res, 200, { challengeId: 'ch1' });
        if (api === '/auth/verify') {
          scenario.signedIn = true;
          return send(res, 200, { accessToken: 't', refreshToken: 'r', user: { id: 'u1', email: 'me@studio.local', displayName: 'Me', createdAt: now } });
        }
        if (api === '/projects' && m === 'GET') {
          if (scenario.projects === 'error') return send(res, 500, { code: 'internal', message: 'The catalog could not be read.' });
          if (scenario.projects === "slow") await new Promise((r) => setTimeout(r, 4000));
          return send(res, 200, { items: scenario.projects === 'empty' ? [] : projects, pageInfo: { nextCursor: null } });
        }
        if (api === '/projects' && m === 'POST') {
          const b = await body(req);
          const proj = { id: `p-${Date.now()}`, title: b.title, status: 'active', shootDate: b.shootDate, stats: { assetCount: 0 }, createdAt: now, updatedAt: now };
          projects = [proj, ...projects];
          scenario.projects = 'list';
          return send(res, 201, proj);
        }
        if ((mm = /^\/projects\/([^/]+)\/archive$/.exec(api))) {
          const id = mm[1];
          projects = projects.filter((x) => x.id !== id);
          return send(res, 200, {});
        }
        if (/^\/projects\/([^/]+)\/jobs$/.test(api))
          return send(res, 200, {
            items: [
              { id: 'j1', type: 'embed', status: 'running', progress: 0.42, createdAt: now, updatedAt: now },
              { id: 'j2', type: 'analyze', status: 'queued', createdAt: now, updatedAt: now },
              { id: 'j3', type: 'ingest', status: 'failed', error: 'IMG_0412.CR3: the file is truncated (corrupt)', createdAt: now, updatedAt: now },
              { id: 'j4', type: 'thumbnail', status: 'done', progress: 1, createdAt: now, updatedAt: now },
            ],
            pageInfo: { nextCursor: null },
          });
        if (api === '/realtime') {
          res.setHeader('Content-Type', 'text/event-stream');
          let i = 0;
          const t = setInterval(() => res.write(`event: job.progress\nid: ${++i}\ndata: ${JSON.stringify({ jobId: 'j1', progress: Math.min(1, 0.42 + i / 100), status: 'running', type: 'embed' })}\n\n`), 2000);
          req.on('close', () => clearInterval(t));
          return;
        }
        if (/^\/x-kilo\/projects\/([^/]+)\/progress$/.test(api))
          return send(res, 200, { total: 3012, processed: 2210, analyzed: 1460, embedded: 880, failed: 3, quarantined: 2, throughputPerMin: 412, quarantine: [{ fileName: 'IMG_0412.CR3', reason: 'corrupt: the file is truncated' }, { fileName: 'DSC_9981.NEF', reason: 'permission: the file cannot be read' }] });
        if ((mm = /^\/x-kilo\/projects\/([^/]+)\/cull$/.exec(api))) {
          if (mm[1] === 'missing') return send(res, 404, { code: 'not_found', message: 'no such project' });
          if (scenario.cull === 'empty') return send(res, 200, { projectId: mm[1], aiReady: false, dataVersion: 1, stacks: [] });
          if (scenario.cull === 'notready') {
            const all = stacks.flatMap((s) => s.members).map((x) => ({ ...x, state: 'analyzing' }));
            return send(res, 200, { projectId: mm[1], aiReady: false, dataVersion: 1, stacks: [{ id: 'filmstrip', kind: 'filmstrip', reviewed: false, reasons: [], memberIds: all.map((x) => x.assetId), members: all }] });
          }
          return send(res, 200, { projectId: mm[1], aiReady: true, dataVersion: decisions.length, stacks });
        }
        if ((mm = /^\/x-kilo\/clusters\/([^/]+)\/faces$/.exec(api))) {
          const id = mm[1];
          const s = stacks.find((x) => x.id === id);
          return send(res, 200, {
            clusterId: id,
            people: s
              ? [
                  { index: 0, frames: s.members.map((x, k) => ({ assetId: x.assetId, cropUrl: x.thumbUrl, eyes: k % 3 === 2 ? 'closed' : 'open' })) },
                  { index: 1, frames: s.members.map((x, k) => ({ assetId: x.assetId, cropUrl: x.thumbUrl, eyes: k === 0 ? 'unknown' : 'open' })) },
                ]
              : [],
          });
        }
        if (/^\/projects\/([^/]+)\/cull:applyAction$/.test(api)) {
          const b = await body(req);
          decisions.push({ key, ...b });
          for (const a of b.actions) {
            const x = findMember(a.assetId) as unknown as Record<string, unknown> | undefined;
            if (x) for (const k of ['picked', 'rejected', 'rating', 'starred']) if (k in a) x[k] = a[k];
          }
          return send(res, 200, { ok: true, updatedAssetIds: b.actions.map((a: { assetId: string }) => a.assetId) });
        }
        if ((mm = /^\/clusters\/([^/]+)\/winner$/.exec(api))) {
          const b = await body(req);
          const id = mm[1];
          decisions.push({ key, winner: b.winnerAssetId });
          const s = stacks.find((x) => x.id === id);
          if (s) {
            s.winnerId = b.winnerAssetId;
            s.reviewed = true;
            for (const x of s.members) x.picked = x.assetId === b.winnerAssetId;
          }
          return send(res, 200, s);
        }
        if ((mm = /^\/x-kilo\/clusters\/([^/]+):reject$/.exec(api))) {
          const id = mm[1];
          decisions.push({ key, rejectCluster: id });
          const s = stacks.find((x) => x.id === id);
          if (s) {
            s.reviewed = true;
            for (const x of s.members) {
              x.rejected = true;
              x.picked = false;
            }
          }
          return send(res, 200, { ok: true });
        }
        if (/:undo$|:redo$/.test(api)) {
          decisions.push({ key, op: api.endsWith('undo') ? 'undo' : 'redo' });
          return send(res, 200, { done: true, assetIds: [], clusterIds: [] });
        }
        if (/^\/projects\/([^/]+)\/assets:prepareUpload$/.test(api)) {
          const b = await body(req);
          return send(res, 200, { uploads: b.files.map((f: { clientFileId: string }, k: number) => ({ clientFileId: f.clientFileId, assetId: `up-${Date.now()}-${k}`, uploadUrl: `/v1/x-kilo/uploads/up-${k}?exp=1&sig=x` })) });
        }
        if (api.startsWith('/x-kilo/uploads/')) {
          await body(req);
          return send(res, 200, { ok: true });
        }
        if (/assets:finalizeUpload$/.test(api)) return send(res, 200, { queuedJobs: [] });
        if (/\/ingest-local$/.test(api)) return send(res, 202, { queued: 1 });
        return send(res, 404, { code: 'not_found', message: `mock: no ${m} ${api}` });
      });
    },
  };
}
