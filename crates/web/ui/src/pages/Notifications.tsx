// The notification feed: each delivery with its status and, on demand, every attempt. Live on
// the stream's `notifications` topic, polled without it.

import { useState } from 'react';
import { api, errorText, when, type Attempt, type Notification } from '../api';
import { useLoad } from '../hooks';
import { useLiveReload } from './Alerts';

export function Notifications() {
  const list = useLoad(() => api<{ notifications: Notification[] }>('/v1/notifications?limit=100'), 'notifications');
  useLiveReload('notifications', list.reload);
  const items = list.data?.notifications ?? [];
  return (
    <section aria-labelledby="notifications-title">
      <h1 id="notifications-title">Notifications</h1>
      {list.error && <p className="error">{list.error}</p>}
      {!list.loading && items.length === 0 && <p className="muted">No notifications yet: they appear here when an alert with a channel fires.</p>}
      <ul className="feed" data-testid="notifications" aria-live="polite">
        {items.map((n) => (
          <NotificationItem key={n.id} n={n} />
        ))}
      </ul>
    </section>
  );
}

function NotificationItem({ n }: { n: Notification }) {
  const [attempts, setAttempts] = useState<Attempt[]>();
  const [error, setError] = useState<string>();
  const toggle = async () => {
    if (attempts) return setAttempts(undefined);
    try {
      setAttempts((await api<{ attempts: Attempt[] }>(`/v1/notifications/${n.id}/attempts`)).attempts);
    } catch (err) {
      setError(errorText(err));
    }
  };
  return (
    <li>
      <div className="row wrap">
        <span className={`status ${n.status}`}>{n.status}</span>
        <span>
          event {n.event_id.slice(0, 8)} → channel {n.channel_id.slice(0, 8)}
        </span>
        <span className="small muted">{when(n.delivered_at ?? n.created_at)}</span>
        <button type="button" className="link" aria-expanded={!!attempts} onClick={toggle}>
          {n.attempts} attempt{n.attempts === 1 ? '' : 's'}
        </button>
      </div>
      {n.last_error && <div className="small error">{n.last_error}</div>}
      {error && <div className="small error">{error}</div>}
      {attempts && (
        <ol className="small">
          {attempts.map((a) => (
            <li key={a.attempt}>
              {when(a.attempted_at)}: {a.outcome}
              {a.error ? ` (${a.error})` : ''}
            </li>
          ))}
        </ol>
      )}
    </li>
  );
}
