// The caller's alerts with their live state (armed, last price, trailing peak and trigger level),
// pause / resume / acknowledge / edit / delete, and the latest firings. Reloaded on the stream's
// `alerts` topic, or polled without it. Editing opens the rule's chart with its backtest
// (components/AlertEditor.tsx) below the table.

import { useEffect, useState } from 'react';
import { api, errorText, money, when, type AlertEvent, type Rule } from '../api';
import { AlertEditor } from '../components/AlertEditor';
import { Link } from '../components/Link';
import { useInterval, useLoad } from '../hooks';
import { onStreamStatus, streamStatus, subscribe } from '../stream';

function condition(rule: Rule): string {
  const r = rule as Rule & Record<string, unknown>;
  const target = r.series ? `${r.series} ${r.other ?? r.value}` : r.price != null ? money(r.price) : '';
  const pct = r.percent != null ? `${r.percent} %` : r.amount != null ? money(r.amount as number) : '';
  const often = rule.frequency === 'every_time' ? `every time (${rule.cooldown ?? '—'} apart)` : rule.frequency === 'once_per_day' ? 'once a day' : 'once';
  return `${[rule.kind.replace(/_/g, ' '), target, pct].filter(Boolean).join(' ')}, ${often}`;
}

export function useLiveReload(topic: string, reload: () => void): void {
  const [polling, setPolling] = useState(streamStatus() !== 'live');
  useEffect(() => onStreamStatus((s) => setPolling(s !== 'live')), []);
  useEffect(() => subscribe([topic], () => reload()), [topic, reload]);
  useInterval(reload, polling ? 10_000 : null);
}

export function Alerts() {
  const rules = useLoad(() => api<{ alerts: Rule[] }>('/v1/alerts?limit=200'), 'alerts');
  const events = useLoad(() => api<{ events: AlertEvent[] }>('/v1/alerts/events?limit=50'), 'events');
  const [error, setError] = useState<string>();
  const [editing, setEditing] = useState<number>();
  const [updated, setUpdated] = useState<Rule>();
  const reloadAll = () => {
    rules.reload();
    events.reload();
  };
  useLiveReload('alerts', reloadAll);

  const act = async (path: string, method = 'POST') => {
    setError(undefined);
    try {
      await api(path, { method });
      reloadAll();
    } catch (err) {
      setError(errorText(err));
    }
  };

  const list = rules.data?.alerts ?? [];
  const edited = list.find((r) => r.id === editing);
  const closeEditor = (id: number) => {
    setEditing(undefined);
    // Back to the button that opened it, for keyboard users.
    window.setTimeout(() => document.querySelector<HTMLButtonElement>(`[data-edit="${id}"]`)?.focus());
  };
  return (
    <section aria-labelledby="alerts-title">
      <h1 id="alerts-title">Alerts</h1>
      <p className="muted small">Create an alert from a symbol's chart, where its backtest is drawn before you save it.</p>
      {(error || rules.error) && (
        <p className="error" role="alert">
          {error || rules.error}
        </p>
      )}
      {!rules.loading && list.length === 0 && <p className="muted">No alerts yet.</p>}
      {list.length > 0 && (
        <div className="table-wrap">
          <table data-testid="alerts-table">
            <caption className="sr-only">Your alert rules</caption>
            <thead>
              <tr>
                <th scope="col">Symbol</th>
                <th scope="col">Condition</th>
                <th scope="col">Status</th>
                <th scope="col">Last price</th>
                <th scope="col">Peak / trigger</th>
                <th scope="col">Fired</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {list.map((rule) => (
                <tr key={rule.id}>
                  <td>
                    <Link to={`/symbols/${rule.symbol}`}>{rule.symbol}</Link>
                  </td>
                  <td>{condition(rule)}</td>
                  <td>
                    <span className={`status ${rule.status}`}>{rule.status.replace('_', ' ')}</span>
                    {rule.state && !rule.state.armed && rule.status === 'active' ? ' (disarmed)' : ''}
                    {rule.error && <div className="small error">{rule.error}</div>}
                  </td>
                  <td>{money(rule.state?.last_price)}</td>
                  <td>
                    {money(rule.state?.extreme)} / {money(rule.state?.trigger_level)}
                  </td>
                  <td>
                    {rule.state?.fire_count ?? 0}
                    {rule.state?.last_fired_at ? <div className="small muted">{when(rule.state.last_fired_at)}</div> : null}
                  </td>
                  <td>
                    <div className="actions">
                    {rule.status === 'paused' ? (
                      <button type="button" onClick={() => act(`/v1/alerts/${rule.id}/resume`)} aria-label={`Resume alert ${rule.id}`}>
                        Resume
                      </button>
                    ) : (
                      <button type="button" onClick={() => act(`/v1/alerts/${rule.id}/pause`)} aria-label={`Pause alert ${rule.id}`}>
                        Pause
                      </button>
                    )}
                    <button
                      type="button"
                      data-edit={rule.id}
                      aria-expanded={editing === rule.id}
                      aria-label={`Edit alert ${rule.id}`}
                      onClick={() => {
                        setUpdated(undefined);
                        setEditing(editing === rule.id ? undefined : rule.id);
                      }}
                    >
                      Edit
                    </button>
                    <button type="button" onClick={() => act(`/v1/alerts/${rule.id}/acknowledge`)} aria-label={`Acknowledge alert ${rule.id}'s firings`}>
                      Acknowledge
                    </button>
                    <button
                      type="button"
                      className="danger"
                      onClick={() => window.confirm(`Delete alert ${rule.id} (${rule.symbol})?`) && act(`/v1/alerts/${rule.id}`, 'DELETE')}
                      aria-label={`Delete alert ${rule.id}`}
                    >
                      Delete
                    </button>
                    </div>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}

      {updated && (
        <p role="status" className="ok" data-testid="alert-updated">
          Alert {updated.id} saved: {condition(updated)}, {updated.status.replace('_', ' ')}.
        </p>
      )}
      {edited && (
        <AlertEditor
          key={edited.id}
          rule={edited}
          onClose={() => closeEditor(edited.id)}
          onSaved={(rule) => {
            setUpdated(rule);
            rules.reload();
            closeEditor(rule.id);
          }}
        />
      )}

      <h2>Latest firings</h2>
      {events.error && <p className="error">{events.error}</p>}
      {events.data && events.data.events.length === 0 && <p className="muted">No firings yet.</p>}
      <ul className="feed" data-testid="alert-events">
        {events.data?.events.map((e) => (
          <li key={e.id} className={e.acknowledged_at ? 'acknowledged' : ''}>
            <span>{e.message}</span>
            <span className="small muted">{when(e.created_at)}</span>
            {!e.acknowledged_at && (
              <button type="button" className="link" onClick={() => act(`/v1/alerts/events/${e.id}/acknowledge`)}>
                Acknowledge
              </button>
            )}
          </li>
        ))}
      </ul>
    </section>
  );
}
