// Where notifications go: webhooks, email, SMS. A webhook's signing secret is shown once.

import { useState, type FormEvent } from 'react';
import { api, errorText, when, type Channel } from '../api';
import { useLoad } from '../hooks';

export function Channels() {
  const list = useLoad(() => api<{ channels: Channel[] }>('/v1/me/channels?limit=100'), 'channels');
  const [kind, setKind] = useState('webhook');
  const [target, setTarget] = useState('');
  const [format, setFormat] = useState('generic');
  const [error, setError] = useState<string>();
  const [created, setCreated] = useState<Channel>();

  const add = async (event: FormEvent) => {
    event.preventDefault();
    setError(undefined);
    const body =
      kind === 'webhook' ? { kind, url: target, format } : kind === 'email' ? { kind, address: target } : { kind, phone: target };
    try {
      setCreated(await api<Channel>('/v1/me/channels', { method: 'POST', json: body }));
      setTarget('');
      list.reload();
    } catch (err) {
      setError(errorText(err));
    }
  };
  const remove = async (id: string) => {
    try {
      await api(`/v1/me/channels/${id}`, { method: 'DELETE' });
      list.reload();
    } catch (err) {
      setError(errorText(err));
    }
  };

  return (
    <section aria-labelledby="channels-title">
      <h1 id="channels-title">Channels</h1>
      <form className="card stack" onSubmit={add} aria-label="Add a channel">
        <label>
          Kind
          <select value={kind} onChange={(e) => setKind(e.target.value)}>
            <option value="webhook">Webhook</option>
            <option value="email">Email</option>
            <option value="sms">SMS</option>
          </select>
        </label>
        <label>
          {kind === 'webhook' ? 'URL' : kind === 'email' ? 'Address' : 'Phone (E.164, e.g. +15551234567)'}
          <input
            required
            type={kind === 'webhook' ? 'url' : kind === 'email' ? 'email' : 'tel'}
            value={target}
            onChange={(e) => setTarget(e.target.value)}
          />
        </label>
        {kind === 'webhook' && (
          <label>
            Format
            <select value={format} onChange={(e) => setFormat(e.target.value)}>
              <option value="generic">Generic JSON</option>
              <option value="slack">Slack</option>
              <option value="discord">Discord</option>
            </select>
          </label>
        )}
        <button type="submit" className="primary">
          Add channel
        </button>
      </form>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {created?.secret && (
        <p role="status" className="ok">
          Channel added. Its signing secret, shown only now: <code>{created.secret}</code>
        </p>
      )}
      {list.error && <p className="error">{list.error}</p>}
      <ul className="feed">
        {list.data?.channels.map((c) => (
          <li key={c.id}>
            <div className="row wrap">
              <strong>{c.kind}</strong>
              <span>{c.url ?? c.address ?? c.phone}</span>
              {c.format && <span className="small muted">{c.format}</span>}
              <span className="small muted">added {when(c.created_at)}</span>
              <button type="button" className="link danger" onClick={() => remove(c.id)} aria-label={`Delete channel ${c.url ?? c.address ?? c.phone}`}>
                Delete
              </button>
            </div>
            {c.error && <div className="small error">{c.error}</div>}
          </li>
        ))}
      </ul>
      {list.data && list.data.channels.length === 0 && <p className="muted">No channels yet.</p>}
    </section>
  );
}
