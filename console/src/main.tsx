// The Ferry web console: token entry, the task list, the create form and a task's details page.
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import 'uplot/dist/uPlot.min.css';
import './styles.css';
import { setUnauthorizedHandler, tokenStore } from './api.ts';
import { CreateTask } from './pages/create-task.tsx';
import { TaskDetails } from './pages/task-details.tsx';
import { TaskList } from './pages/task-list.tsx';
import { TokenEntry } from './pages/token-entry.tsx';
import { onLinkClick, usePath } from './router.ts';

function App() {
  const [token, setToken] = useState(tokenStore.get());
  const [notice, setNotice] = useState<string | null>(null);
  const path = usePath();
  useEffect(
    () =>
      setUnauthorizedHandler((message) => {
        setNotice(message);
        setToken(null);
      }),
    [],
  );
  if (!token) {
    return (
      <TokenEntry
        notice={notice}
        onToken={(t) => {
          tokenStore.set(t);
          setNotice(null);
          setToken(t);
        }}
      />
    );
  }
  return (
    <>
      <header class="top">
        <a class="brand" href="/" onClick={onLinkClick}>
          Ferry
        </a>
        <nav>
          <a href="/" onClick={onLinkClick}>
            Tasks
          </a>
          <a href="/tasks/new" onClick={onLinkClick}>
            New task
          </a>
          <button
            type="button"
            class="link"
            onClick={() => {
              tokenStore.clear();
              setToken(null);
            }}
          >
            Sign out
          </button>
        </nav>
      </header>
      <main>
        <Page path={path} />
      </main>
    </>
  );
}

function Page({ path }: { path: string }) {
  if (path === '/' || path === '/tasks') return <TaskList />;
  if (path === '/tasks/new') return <CreateTask />;
  const m = /^\/tasks\/([A-Za-z0-9_-]{1,64})$/.exec(path);
  if (m) return <TaskDetails key={m[1]} id={m[1]!} />;
  return (
    <section class="page">
      <h1>Page not found</h1>
      <a href="/" onClick={onLinkClick}>
        Back to tasks
      </a>
    </section>
  );
}

render(<App />, document.getElementById('app')!);
