// Token entry: the token is checked against the API and kept in sessionStorage only (never in
// localStorage or a cookie), so it goes away with the browser tab.
import { useState } from 'preact/hooks';
import { ApiError, apiClient } from '../api.ts';

export function TokenEntry(props: { notice: string | null; onToken: (token: string) => void }) {
  const [token, setToken] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    const t = token.trim();
    if (!t) return setProblem('Enter an API token');
    setBusy(true);
    try {
      await apiClient(t).listTasks({ limit: 1 });
      props.onToken(t);
    } catch (err) {
      setProblem(
        err instanceof ApiError && err.status === 401
          ? `This token was not accepted: ${err.message}`
          : err instanceof Error
            ? err.message
            : String(err),
      );
    } finally {
      setBusy(false);
    }
  };
  return (
    <main class="token-entry">
      <form onSubmit={submit} aria-label="Sign in" noValidate>
        <h1>Ferry</h1>
        <p class="muted">Cross-cluster replication for Apache RocketMQ</p>
        {props.notice && (
          <p class="banner" role="alert">
            Signed out: {props.notice}
          </p>
        )}
        <label for="token">API token</label>
        <input
          id="token"
          name="token"
          type="password"
          autocomplete="off"
          value={token}
          onInput={(e) => {
            setToken(e.currentTarget.value);
            setProblem(null);
          }}
        />
        <p class="hint">Printed by the first `npm start`, or minted with `npm run tokens`. Kept for this browser tab only.</p>
        {problem && (
          <p class="field-error" role="alert">
            {problem}
          </p>
        )}
        <button type="submit" class="primary" disabled={busy}>
          Continue
        </button>
      </form>
    </main>
  );
}
