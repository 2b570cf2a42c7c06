// The console's API client: the shared one (shared/api/client.ts) with the token from sessionStorage
// only (gone with the tab), read on every call; a 401 for the stored token sends the user back to
// token entry. The wire types are the API contract's (shared/api/contract.ts), imported as types.
import { ApiClient } from '../../shared/api/client.ts';

export { ApiError } from '../../shared/api/client.ts';

const TOKEN_KEY = 'ferry.token';

export const tokenStore = {
  get: (): string | null => sessionStorage.getItem(TOKEN_KEY),
  set: (token: string): void => sessionStorage.setItem(TOKEN_KEY, token),
  clear: (): void => sessionStorage.removeItem(TOKEN_KEY),
};

let onUnauthorized: (message: string) => void = () => {};
export function setUnauthorizedHandler(handler: (message: string) => void): void {
  onUnauthorized = handler;
}

/** A client of the page's own origin sending `token` (default: the stored one, read on every call). */
export function apiClient(token: string | (() => string | null) = tokenStore.get): ApiClient {
  return new ApiClient({
    baseUrl: location.origin,
    token,
    onUnauthorized: (err, sent) => {
      // Only if the refused token is still the stored one: a late answer to an older token must
      // not sign out a newer one.
      if ((sent ?? null) === tokenStore.get()) {
        tokenStore.clear();
        onUnauthorized(err.message);
      }
    },
  });
}

/** The client the pages use. */
export const tasksApi = apiClient();
