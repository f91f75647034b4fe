// The cull screen's state and every decision of its key map. Each keydown is applied at
// once, in order, to this state (nothing waits for a render or a response): a held arrow
// key moves one frame per key event and the screen paints the latest. Decisions change the
// state optimistically and leave through the outbox (in order, each with an
// Idempotency-Key); the view is read again from the server when the outbox is empty.
import { ApiError } from '../../lib/api/client';
import { decisionPaths, ext, type CullMember, type CullStack, type CullView } from '../../lib/api/ext';
import { enqueue, onDecisionDone, outbox } from '../../lib/outbox.svelte';
import { plan } from '../../lib/prefetch';
import { setQuery } from '../../lib/router.svelte';
import { describeError, toast } from '../../lib/ui.svelte';

export type CompareMode = 0 | 2 | 4;
/** A frame's display width / height (upright). */
export function ratioOf(m: CullMember): number {
  return (m.displayWidth || 3) / (m.displayHeight || 2);
}
/** How often a visible cull screen asks whether its view changed elsewhere. */
const POLL_MS = 4000;
/** A RAW frame looked at this long has its 100% loupe made ahead (its first render is a
 * demosaic, ~0.3 s): a key held or tapped through frames never asks for one. */
const LOUPE_DWELL_MS = 250;
const RAW_NAME = /\.(dng|cr2|cr3|nef|nrw|arw|srf|sr2|raf|orf|rw2|pef|srw|x3f|3fr|iiq|erf|kdc|mef|mos|mrw|raw|rwl)$/i;

export class CullStore {
  view = $state<CullView | null>(null);
  loading = $state(true);
  error = $state<string>('');
  errorStatus = $state(0);
  stack = $state(0);
  frame = $state(0);
  zoom = $state(false);
  compare = $state<CompareMode>(0);
  hints = $state(false);
  drawer = $state(false);
  lastAction = $state('');
  /** the direction of travel (1: onwards, -1: back), what is prefetched first */
  private dir: 1 | -1 = 1;

  readonly projectId: string;
  private refetchTimer: ReturnType<typeof setTimeout> | null = null;
  private urlTimer: ReturnType<typeof setTimeout> | null = null;
  private dwellTimer: ReturnType<typeof setTimeout> | null = null;
  private abort: AbortController | null = null;
  private expiryTimer: ReturnType<typeof setTimeout> | null = null;
  private offDone: () => void;
  private pollTimer: ReturnType<typeof setInterval> | null = null;
  private offPoll: () => void = () => undefined;

  constructor(projectId: string, initial: { stack?: string; frame?: string; zoom?: string }) {
    this.projectId = projectId;
    this.zoom = initial.zoom === '1';
    void this.load(initial.stack, initial.frame);
    this.offDone = onDecisionDone((d, _r, err) => {
      if (d.projectId !== this.projectId) return;
      const step = d.path.endsWith(':undo') || d.path.endsWith(':redo');
      if (step && !err && (_r as { done?: boolean } | undefined)?.done === false) toast(`Nothing to ${d.path.endsWith(':undo') ? 'undo' : 'redo'}.`, 'info');
      if (err || step) this.refetchSoon(0);
      else this.refetchSoon();
    });
    this.startPolling();
  }

  /** The safety net under the realtime stream (down, or behind a proxy that buffers it):
   * while the page is in view, the view's version is polled and the view read again when
   * it changed; a tab coming back into view checks at once. */
  private startPolling(): void {
    const check = () => {
      if (document.visibilityState !== 'visible' || !this.view || this.loading) return;
      ext
        .cullVersion(this.projectId)
        .then((v) => {
          if (this.view && v.dataVersion !== this.view.dataVersion) this.refetchSoon(0);
        })
        .catch(() => undefined); // the outbox and the banner tell about a lost server
    };
    this.pollTimer = setInterval(check, POLL_MS);
    document.addEventListener('visibilitychange', check);
    this.offPoll = () => document.removeEventListener('visibilitychange', check);
  }

  destroy(): void {
    if (this.pollTimer) clearInterval(this.pollTimer);
    this.offPoll();
    this.offDone();
    this.abort?.abort();
    if (this.refetchTimer) clearTimeout(this.refetchTimer);
    if (this.urlTimer) clearTimeout(this.urlTimer);
    if (this.dwellTimer) clearTimeout(this.dwellTimer);
    if (this.expiryTimer) clearTimeout(this.expiryTimer);
  }

  get stacks(): CullStack[] {
    return this.view?.stacks ?? [];
  }
  get current(): CullStack | undefined {
    return this.stacks[this.stack];
  }
  get member(): CullMember | undefined {
    return this.current?.members[this.frame];
  }
  isCluster(s: CullStack | undefined): s is CullStack & { clusterId: string } {
    return !!s?.clusterId;
  }

  async load(stackId?: string, assetId?: string): Promise<void> {
    this.abort?.abort();
    const ctrl = new AbortController();
    this.abort = ctrl;
    try {
      const view = await ext.cullView(this.projectId, ctrl.signal);
      const keepStack = stackId ?? this.current?.id;
      const keepAsset = assetId ?? this.member?.assetId;
      this.view = view;
      this.error = '';
      this.place(keepStack, keepAsset);
      this.renewBeforeExpiry(view.urlsExpireAt);
    } catch (e) {
      if (e instanceof DOMException && e.name === 'AbortError') return;
      this.error = describeError(e);
      this.errorStatus = e instanceof ApiError ? e.status : -1;
    } finally {
      if (this.abort === ctrl) this.loading = false;
    }
  }

  /** The image links are signed for a while: read the view again a minute before. */
  private renewBeforeExpiry(at?: string | null): void {
    if (this.expiryTimer) clearTimeout(this.expiryTimer);
    if (!at) return;
    const ms = Math.max(10_000, new Date(at).getTime() - Date.now() - 60_000);
    this.expiryTimer = setTimeout(() => this.refetchSoon(0), ms);
  }

  /** Read the view again (new frames from a running ingest, decisions from elsewhere),
   * once the outbox has nothing of ours in flight. */
  refetchSoon(ms = 400): void {
    if (this.refetchTimer) clearTimeout(this.refetchTimer);
    this.refetchTimer = setTimeout(() => {
      this.refetchTimer = null;
      if (outbox.pending.some((d) => d.projectId === this.projectId)) return this.refetchSoon(ms || 400);
      void this.load();
    }, ms);
  }

  private place(stackId?: string, assetId?: string): void {
    const stacks = this.stacks;
    let si = stackId ? stacks.findIndex((s) => s.id === stackId) : -1;
    if (si < 0 && assetId) si = stacks.findIndex((s) => s.memberIds.includes(assetId));
    if (si < 0) si = Math.min(this.stack, Math.max(0, stacks.length - 1));
    const s = stacks[si];
    let fi = s && assetId ? s.members.findIndex((m) => m.assetId === assetId) : -1;
    if (fi < 0) fi = s ? this.startFrame(s) : 0;
    this.stack = si;
    this.frame = fi;
    this.moved();
  }

  private startFrame(s: CullStack): number {
    const w = s.winnerId ? s.members.findIndex((m) => m.assetId === s.winnerId) : -1;
    return w >= 0 ? w : 0;
  }

  /** After any move: the URL keeps the place (debounced), and the frames the next keys
   * reach are prefetched, nearest first in the direction of travel (see prefetch.ts). */
  moved(): void {
    const s = this.current;
    const m = this.member;
    if (this.urlTimer) clearTimeout(this.urlTimer);
    this.urlTimer = setTimeout(() => setQuery({ stack: s?.id, frame: m?.assetId, zoom: this.zoom ? 1 : null }), 150);
    if (!s) return;
    const d = this.dir;
    const at = (k: number) => s.members[this.frame + k * d];
    const ahead = this.stacks[this.stack + d];
    const behind = this.stacks[this.stack - d];
    const start = (x: CullStack | undefined) => x?.members[this.startFrame(x)];
    // an arrow past the stack's end lands on the next stack's first (or the last) frame
    const across = ahead?.members[d > 0 ? 0 : ahead.members.length - 1];
    const near = [at(1), start(ahead), at(2), across, at(-1), start(behind)];
    const loupes = this.zoom ? [at(1)?.loupeUrl] : [];
    const frames = near.map((x) => x && { url: x.previewUrl, ratio: ratioOf(x) });
    plan(m?.previewUrl, frames, loupes);
    if (this.dwellTimer) clearTimeout(this.dwellTimer);
    if (m && !this.zoom && RAW_NAME.test(m.fileName)) {
      const id = m.assetId;
      this.dwellTimer = setTimeout(() => {
        if (this.member?.assetId === id && !this.zoom) plan(m.previewUrl, frames, [m.loupeUrl]);
      }, LOUPE_DWELL_MS);
    }
  }

  // navigation -----------------------------------------------------------------------
  go(stack: number, frame?: number): void {
    const stacks = this.stacks;
    if (!stacks.length) return;
    const was = [this.stack, this.frame];
    this.stack = Math.max(0, Math.min(stack, stacks.length - 1));
    const s = stacks[this.stack];
    this.frame = frame === undefined ? this.startFrame(s) : Math.max(0, Math.min(frame, s.members.length - 1));
    const step = this.stack - was[0] || this.frame - was[1];
    if (step) this.dir = step > 0 ? 1 : -1;
    this.moved();
  }
  nextFrame(): void {
    const s = this.current;
    if (!s) return;
    if (this.frame < s.members.length - 1) this.go(this.stack, this.frame + 1);
    else if (this.stack < this.stacks.length - 1) this.go(this.stack + 1, 0);
  }
  prevFrame(): void {
    if (this.frame > 0) this.go(this.stack, this.frame - 1);
    else if (this.stack > 0) this.go(this.stack - 1, this.stacks[this.stack - 1].members.length - 1);
  }
  nextStack(): void {
    this.go(this.stack + 1);
  }
  prevStack(): void {
    this.go(this.stack - 1);
  }
  /** The next stack not yet reviewed (after a winner pick), else simply the next one. */
  advanceStack(): void {
    const stacks = this.stacks;
    for (let i = this.stack + 1; i < stacks.length; i++) {
      if (!stacks[i].reviewed) return this.go(i);
    }
    if (this.stack < stacks.length - 1) this.go(this.stack + 1);
    else toast('That was the last stack.', 'success');
  }

  // decisions ------------------------------------------------------------------------
  private act(m: CullMember, change: Partial<Pick<CullMember, 'picked' | 'rejected' | 'rating' | 'starred'>>, label: string): void {
    Object.assign(m, change);
    enqueue(decisionPaths.applyAction(this.projectId), { actions: [{ assetId: m.assetId, ...change }] }, label, this.projectId);
    this.lastAction = label;
  }

  pickWinner(): void {
    const s = this.current;
    const m = this.member;
    if (!s || !m) return;
    if (this.isCluster(s)) {
      for (const o of s.members) if (o !== m && o.picked) o.picked = false;
      m.picked = true;
      m.rejected = false;
      s.winnerId = m.assetId;
      s.reviewed = true;
      enqueue(decisionPaths.winner(s.clusterId), { winnerAssetId: m.assetId }, `winner ${m.fileName}`, this.projectId);
      this.lastAction = `Winner: ${m.fileName}`;
      this.advanceStack();
    } else {
      this.act(m, { picked: true, rejected: false }, `Picked ${m.fileName}`);
      this.nextFrame();
    }
  }
  toggleReject(): void {
    const m = this.member;
    if (!m) return;
    const rejected = !m.rejected;
    this.act(m, rejected ? { rejected, picked: false } : { rejected }, `${rejected ? 'Rejected' : 'Unrejected'} ${m.fileName}`);
  }
  rejectStack(): void {
    const s = this.current;
    if (!s || !this.isCluster(s)) {
      toast('Shift+D rejects a whole burst or duplicate group; this frame is not in one.', 'info');
      return;
    }
    for (const o of s.members) {
      o.rejected = true;
      o.picked = false;
    }
    s.reviewed = true;
    enqueue(decisionPaths.rejectCluster(s.clusterId), {}, `reject stack of ${s.members.length}`, this.projectId);
    this.lastAction = `Rejected the stack (${s.members.length} frames)`;
    this.advanceStack();
  }
  rate(n: number): void {
    const m = this.member;
    if (m) this.act(m, { rating: n }, `Rated ${m.fileName} ${n}`);
  }
  toggleStar(): void {
    const m = this.member;
    if (m) this.act(m, { starred: !m.starred }, `${m.starred ? 'Unstarred' : 'Starred'} ${m.fileName}`);
  }
  undo(): void {
    enqueue(decisionPaths.undo(this.projectId), {}, 'undo', this.projectId);
    this.lastAction = 'Undo';
  }
  redo(): void {
    enqueue(decisionPaths.redo(this.projectId), {}, 'redo', this.projectId);
    this.lastAction = 'Redo';
  }
  cycleCompare(): void {
    this.compare = this.compare === 0 ? 2 : this.compare === 2 ? 4 : 0;
    if (this.compare) this.zoom = false;
  }
  toggleZoom(): void {
    this.zoom = !this.zoom;
    if (this.zoom) this.compare = 0;
    this.moved();
  }

  /** The key map of the design document (and a few view keys). True when handled. */
  handleKey(e: KeyboardEvent): boolean {
    const k = e.key;
    const mod = e.ctrlKey || e.metaKey;
    if (mod && !e.altKey && (k === 'z' || k === 'Z')) {
      if (e.shiftKey) this.redo();
      else this.undo();
      return true;
    }
    if (mod || e.altKey) return false;
    switch (k) {
      case 'ArrowRight': this.nextFrame(); return true;
      case 'ArrowLeft': this.prevFrame(); return true;
      case 'ArrowDown': this.nextStack(); return true;
      case 'ArrowUp': this.prevStack(); return true;
      case 'f': case 'F': this.pickWinner(); return true;
      case 'd': this.toggleReject(); return true;
      case 'D': if (e.shiftKey) this.rejectStack(); else this.toggleReject(); return true;
      case '1': case '2': case '3': case '4': case '5': this.rate(Number(k)); return true;
      case 's': case 'S': this.toggleStar(); return true;
      case 'c': case 'C': this.cycleCompare(); return true;
      case 'z': this.undo(); return true;
      case 'Z': if (e.shiftKey) this.redo(); else this.undo(); return true;
      case ' ': this.toggleZoom(); return true;
      case '?': this.hints = !this.hints; return true;
      case 'Escape':
        if (this.zoom || this.compare || this.hints || this.drawer) {
          this.zoom = false; this.compare = 0; this.hints = false; this.drawer = false;
          this.moved();
          return true;
        }
        return false;
      default: return false;
    }
  }
}
