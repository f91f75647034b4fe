// Who is signed in: the studio cookie (set by /v1/x-kilo/auth/open, which `kilo open`
// opens) is checked with GET /v1/x-kilo/me; without it, email sign-in through the
// contract's /auth/login + /auth/verify, the access token kept in memory only.
import { api, ApiError, setAccessToken, unwrap } from './api/client';
import { ext, type Me } from './api/ext';
import { connection } from './ui.svelte';

export const session = $state({ checked: false, user: null as Me | null });

export async function checkSession(): Promise<void> {
  try {
    session.user = await ext.me();
    connection.signedOut = false;
    connection.offline = false;
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) {
      session.user = null;
      connection.signedOut = true;
    } else if (e instanceof ApiError && e.offline) {
      connection.offline = true;
    } else if (e instanceof ApiError && e.status === 404) {
      // a server without the studio extension: sign in by email
      session.user = null;
      connection.signedOut = true;
    }
  } finally {
    session.checked = true;
  }
}

export async function startLogin(email: string): Promise<string> {
  const r = await unwrap(api.POST('/auth/login', { body: { email } }));
  return r.challengeId;
}

export async function verifyLogin(challengeId: string, code: string): Promise<void> {
  const r = await unwrap(api.POST('/auth/verify', { body: { challengeId, code } }));
  setAccessToken(r.accessToken);
  session.user = { id: r.user.id, email: r.user.email, displayName: r.user.displayName };
  connection.signedOut = false;
}
