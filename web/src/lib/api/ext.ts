// The /v1/x-kilo/ extensions the studio uses (docs/api.md).
import { xcall } from './client';
import type { components } from './schema';

// The shapes come from the server's own description (web/openapi.json -> schema.d.ts).
type S = components['schemas'];
export type CullMember = S['CullFrame'] & {
  // metadata a later server may add to a frame (shown in Mono when present)
  iso?: number | null;
  shutterSpeed?: string | null;
  aperture?: number | null;
  focalLengthMm?: number | null;
};
export type CullStack = Omit<S['CullStack'], 'members'> & { members: CullMember[] };
export type CullView = Omit<S['CullView'], 'stacks'> & { stacks: CullStack[] };
export type StackKind = CullStack['kind'];
export type MemberState = CullMember['state'];
export type FaceFrame = S['FaceCell'];
export type FacePerson = S['FacePerson'];
export type ClusterFaces = S['FaceStripResponse'];

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
  cullVersion: (projectId: string) =>
    xcall<{ projectId: string; dataVersion: string }>('GET', `/x-kilo/projects/${enc(projectId)}/cull/version`),
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
