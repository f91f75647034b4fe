// The /v1/x-kilo/ extensions the studio uses (docs/api.md), typed by hand until the
// server's description (web/openapi.json) carries them.
import { xcall } from './client';

export type StackKind = 'burst' | 'duplicate' | 'singles' | 'filmstrip';
export type MemberState = 'processing' | 'ready' | 'analyzing' | 'embedding' | 'failed';

export interface CullMember {
  assetId: string;
  fileName: string;
  frameIndex?: number | null;
  frameCount?: number | null;
  capturedAt?: string | null;
  width: number;
  height: number;
  displayWidth: number;
  displayHeight: number;
  picked: boolean;
  rejected: boolean;
  rating?: number | null;
  starred: boolean;
  sharpness?: number | null;
  state: MemberState;
  thumbUrl: string;
  previewUrl: string;
  loupeUrl: string;
  iso?: number | null;
  shutterSpeed?: string | null;
  aperture?: number | null;
  focalLengthMm?: number | null;
}

export interface CullStack {
  id: string;
  /** The catalog's cluster behind the stack (bursts, duplicate groups); null for singles
   * and the pre-AI filmstrip. */
  clusterId?: string | null;
  kind: StackKind;
  title?: string | null;
  confidence?: number | null;
  momentId?: string | null;
  momentTitle?: string | null;
  reviewed: boolean;
  winnerId?: string | null;
  reasons: string[];
  memberIds: string[];
  members: CullMember[];
}

export interface CullView {
  projectId: string;
  aiReady: boolean;
  dataVersion: number | string;
  frameCount?: number;
  /** when the signed image links of this view stop working */
  urlsExpireAt?: string | null;
  stacks: CullStack[];
}

export interface FaceFrame {
  assetId: string;
  cropUrl?: string | null;
  eyes?: 'open' | 'closed' | 'unknown' | null;
  openness?: number | null;
}
export interface FacePerson {
  index: number;
  frames: FaceFrame[];
}
export interface ClusterFaces {
  clusterId: string;
  people: FacePerson[];
}

export interface Progress {
  total: number;
  processed: number;
  analyzed: number;
  embedded: number;
  failed: number;
  quarantined: number;
  throughputPerMin?: number | null;
  queuedJobs?: number;
  runningJobs?: number;
  quarantine?: { fileName: string; reason: string }[];
}

export interface Me {
  id: string;
  email: string;
  displayName: string;
  /** the photographer at this machine (kilo open): may import a local folder */
  local?: boolean;
}
interface MeResponse {
  user: { id: string; email: string; displayName: string };
  studioSession?: boolean;
  local?: boolean;
}

export interface CullStep {
  done: boolean;
  action?: string | null;
  assetIds: string[];
  clusterIds: string[];
}

const enc = encodeURIComponent;
export const ext = {
  me: async (): Promise<Me> => {
    const r = await xcall<MeResponse>('GET', '/x-kilo/me');
    return { ...r.user, local: r.local };
  },
  cullView: (projectId: string, signal?: AbortSignal) =>
    xcall<CullView>('GET', `/x-kilo/projects/${enc(projectId)}/cull`, undefined, {}, signal),
  progress: (projectId: string) => xcall<Progress>('GET', `/x-kilo/projects/${enc(projectId)}/progress`),
  faces: (clusterId: string) => xcall<ClusterFaces>('GET', `/x-kilo/clusters/${enc(clusterId)}/faces`),
  ingestLocal: (projectId: string, path: string) =>
    xcall<Record<string, unknown>>('POST', `/x-kilo/projects/${enc(projectId)}/ingest-local`, { path }),
  split: (clusterId: string, assetIds: string[]) => xcall('POST', `/x-kilo/clusters/${enc(clusterId)}:split`, { assetIds }),
  merge: (clusterId: string, other: string) => xcall('POST', `/x-kilo/clusters/${enc(clusterId)}:merge`, { clusterIds: [other] }),
};

/** The decision calls, by path (the outbox sends them in order, each with its key). */
export const decisionPaths = {
  applyAction: (projectId: string) => `/projects/${enc(projectId)}/cull:applyAction`,
  winner: (clusterId: string) => `/clusters/${enc(clusterId)}/winner`,
  rejectCluster: (clusterId: string) => `/x-kilo/clusters/${enc(clusterId)}:reject`,
  undo: (projectId: string) => `/x-kilo/projects/${enc(projectId)}/cull:undo`,
  redo: (projectId: string) => `/x-kilo/projects/${enc(projectId)}/cull:redo`,
};
