// The shell: the signed-in check, the navigation, the live-stream status and the page for the
// current path.

import { useEffect, useState } from 'react';
import { api, sessionToken, setSessionToken, type User } from './api';
import { Link } from './components/Link';
import { navigate, usePath } from './router';
import { onStreamStatus, streamStatus, type StreamStatus } from './stream';
import { SignIn } from './pages/SignIn';
import { Overview } from './pages/Overview';
import { SymbolPage } from './pages/Symbol';
import { Alerts } from './pages/Alerts';
import { Notifications } from './pages/Notifications';
import { Channels } from './pages/Channels';
import { System } from './pages/System';

const NAV: [string, string][] = [
  ['/', 'Overview'],
  ['/alerts', 'Alerts'],
  ['/notifications', 'Notifications'],
  ['/channels', 'Channels'],
  ['/system', 'System'],
];

function useSession(): [string | null, User | undefined] {
  const [token, setToken] = useState(sessionToken);
  const [user, setUser] = useState<User>();
  useEffect(() => {
    const update = () => setToken(sessionToken());
    window.addEventListener('stockd:session', update);
    window.addEventListener('storage', update);
    return () => {
      window.removeEventListener('stockd:session', update);
      window.removeEventListener('storage', update);
    };
  }, []);
  useEffect(() => {
    if (!token) {
      setUser(undefined);
      return;
    }
    api<User>('/v1/me').then(setUser, () => undefined);
  }, [token]);
  return [token, user];
}

function useStreamStatus(): StreamStatus {
  const [status, setStatus] = useState(streamStatus);
  useEffect(() => onStreamStatus(setStatus), []);
  return status;
}

const STATUS_TEXT: Record<StreamStatus, string> = {
  idle: '',
  connecting: 'connecting…',
  live: 'live',
  retrying: 'reconnecting…',
  unavailable: 'polling',
};

export function App() {
  const path = usePath();
  const [token, user] = useSession();
  const live = useStreamStatus();

  useEffect(() => {
    const title = path === '/' ? 'Overview' : path.split('/')[1] === 'symbols' ? decodeURIComponent(path.split('/')[2] ?? '') : path.slice(1);
    document.title = `${title || 'Sign in'} · stockd`;
  }, [path]);

  if (!token) return <SignIn />;

  const signOut = async () => {
    try {
      await api('/v1/auth/logout', { method: 'POST' });
    } catch {
      // the session is forgotten here either way
    }
    setSessionToken(null);
    navigate('/');
  };

  let page;
  const symbolMatch = /^\/symbols\/([^/]+)$/.exec(path);
  if (path === '/') page = <Overview />;
  else if (symbolMatch) page = <SymbolPage symbol={decodeURIComponent(symbolMatch[1]).toUpperCase()} />;
  else if (path === '/alerts') page = <Alerts />;
  else if (path === '/notifications') page = <Notifications />;
  else if (path === '/channels') page = <Channels />;
  else if (path === '/system') page = <System />;
  else
    page = (
      <section>
        <h1>Not found</h1>
        <p>
          No page here. <Link to="/">Back to the overview</Link>.
        </p>
      </section>
    );

  return (
    <>
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="top">
        <Link to="/" className="brand">
          stockd
        </Link>
        <nav aria-label="Main">
          <ul>
            {NAV.map(([to, label]) => (
              <li key={to}>
                <Link to={to} current={path === to}>
                  {label}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
        <div className="session">
          {live !== 'idle' && (
            <span className={`stream ${live}`} role="status" title="Live updates" data-testid="stream-status">
              {STATUS_TEXT[live]}
            </span>
          )}
          <span className="who">{user?.display_name || user?.email}</span>
          <button type="button" onClick={signOut}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        {page}
      </main>
      <footer className="foot">
        <a href="/docs">API reference</a> · Charts by{' '}
        <a href="https://www.tradingview.com/" rel="noopener noreferrer">
          TradingView Lightweight Charts™
        </a>{' '}
        (Apache-2.0), Copyright © TradingView, Inc.
      </footer>
    </>
  );
}
