// Where notifications go: webhooks, email, SMS. A webhook's signing secret is shown once.
// "Send a test" sends one test notification through a channel and shows what came of it.

import { useState, type FormEvent } from 'react';
import { api, errorText, when, type Channel, type ChannelTest } from '../api';
import { useLoad } from '../hooks';

export function Channels() {
  const list = useLoad(() => api<{ channels: Channel[] }>('/v1/me/channels?limit=100'), 'channels');
  const [kind, setKind] = useState('webhook');
  const [target, setTarget] = useState('');
  const [format, setFormat] = useState('generic');
  const [error, setError] = useState<string>();
  const [created, setCreated] = useState<Channel>();
  // Per channel: the last test's outcome, or the reason it could not be sent (404, 429).
  const [tests, setTests] = useState<Record<string, { sending: boolean; outcome?: ChannelTest; refused?: string }>>({});

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

  const sendTest = async (id: string) => {
    setTests((all) => ({ ...all, [id]: { sending: true } }));
    try {
      const outcome = await api<ChannelTest>(`/v1/me/channels/${id}/test`, { method: 'POST' });
      setTests((all) => ({ ...all, [id]: { sending: false, outcome } }));
    } catch (err) {
      setTests((all) => ({ ...all, [id]: { sending: false, refused: errorText(err) } }));
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
              <button
                type="button"
                className="link"
                onClick={() => sendTest(c.id)}
                disabled={tests[c.id]?.sending || Boolean(c.error)}
                aria-label={`Send a test to channel ${c.url ?? c.address ?? c.phone ?? c.kind}`}
                aria-describedby={`test-${c.id}`}
              >
                {tests[c.id]?.sending ? 'Sending…' : 'Send a test'}
              </button>
              <button type="button" className="link danger" onClick={() => remove(c.id)} aria-label={`Delete channel ${c.url ?? c.address ?? c.phone}`}>
                Delete
              </button>
            </div>
            {c.error && <div className="small error">{c.error}</div>}
            <TestResult id={`test-${c.id}`} test={tests[c.id]} />
          </li>
        ))}
      </ul>
      {list.data && list.data.channels.length === 0 && <p className="muted">No channels yet.</p>}
    </section>
  );
}

/** The last test of one channel, announced to screen readers as it changes. */
function TestResult({ id, test }: { id: string; test?: { sending: boolean; outcome?: ChannelTest; refused?: string } }) {
  const outcome = test?.outcome;
  let text = '';
  let tone = 'muted';
  if (test?.refused) {
    text = `Test not sent: ${test.refused}`;
    tone = 'error';
  } else if (outcome?.delivered) {
    text = `Test delivered in ${outcome.duration_ms} ms.`;
    tone = 'ok';
  } else if (outcome) {
    const status = outcome.status ? ` (HTTP ${outcome.status})` : '';
    const hint = outcome.permanent ? ' Fix the channel, then test again.' : ' It may be temporary: try again shortly.';
    text = `Test not delivered${status}: ${outcome.error ?? 'no reason given'}.${hint}`;
    tone = 'error';
  }
  return (
    <div id={id} role="status" aria-live="polite" className={`small ${tone}`} data-testid="channel-test-result">
      {text}
    </div>
  );
}
