// The system page: health, the provider chain (breaker, quota, last error), ingest jobs, feature
// flags and the running instances. Refreshed every 15 seconds.

import { api, when, type Feature, type Instance, type Jobs, type Provider } from '../api';
import { useInterval, useLoad } from '../hooks';

interface Health {
  status: string;
  version: string;
  uptime_seconds: number;
  provider: string;
  store?: string | null;
}

function duration(seconds: number): string {
  const d = Math.floor(seconds / 86400);
  const h = Math.floor((seconds % 86400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  return d ? `${d}d ${h}h` : h ? `${h}h ${m}m` : `${m}m ${seconds % 60}s`;
}

export function System() {
  const health = useLoad(() => api<Health>('/health'), 'health');
  const providers = useLoad(() => api<{ providers: Provider[] }>('/v1/providers'), 'providers');
  const jobs = useLoad(() => api<Jobs>('/v1/ingest/jobs?limit=20'), 'jobs');
  const features = useLoad(() => api<{ features: Feature[] }>('/v1/features'), 'features');
  const instances = useLoad(() => api<{ instances: Instance[] }>('/v1/system/instances'), 'instances');
  useInterval(() => {
    health.reload();
    providers.reload();
    jobs.reload();
    instances.reload();
  }, 15_000);

  return (
    <section aria-labelledby="system-title">
      <h1 id="system-title">System</h1>
      {health.data && (
        <p data-testid="health">
          <span className={`status ${health.data.status}`}>{health.data.status}</span> version {health.data.version}, up{' '}
          {duration(health.data.uptime_seconds)}, provider {health.data.provider}
          {health.data.store ? `, store ${health.data.store}` : ''}
        </p>
      )}

      <h2>Instances</h2>
      {instances.error && <p className="muted">{instances.error.includes('no such route') ? 'This server does not list its instances.' : instances.error}</p>}
      {instances.data && (
        <div className="table-wrap">
          <table data-testid="instances">
            <caption className="sr-only">Running instances</caption>
            <thead>
              <tr>
                <th scope="col">Instance</th>
                <th scope="col">Role</th>
                <th scope="col">Version</th>
                <th scope="col">Started</th>
                <th scope="col">Last heartbeat</th>
              </tr>
            </thead>
            <tbody>
              {instances.data.instances.map((i) => (
                <tr key={i.id}>
                  <td>{i.id}</td>
                  <td>{Array.isArray(i.roles) ? i.roles.join(', ') : (i.role ?? i.roles ?? '—')}</td>
                  <td>{i.version ?? '—'}</td>
                  <td>{when(i.started_at)}</td>
                  <td>{when(i.last_seen_at ?? (i.last_seen as string | undefined))}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}

      <h2>Providers</h2>
      {providers.error && <p className="error">{providers.error}</p>}
      <div className="table-wrap">
        <table data-testid="providers">
          <caption className="sr-only">Data providers</caption>
          <thead>
            <tr>
              <th scope="col">Provider</th>
              <th scope="col">Serves</th>
              <th scope="col">Breaker</th>
              <th scope="col">Calls</th>
              <th scope="col">Quota (minute / day)</th>
              <th scope="col">Last error</th>
            </tr>
          </thead>
          <tbody>
            {providers.data?.providers.map((p) => (
              <tr key={p.name}>
                <th scope="row">{p.name}</th>
                <td>{p.capabilities.map((c) => `${c.capability} #${c.position}`).join(', ')}</td>
                <td>
                  <span className={`status ${p.breaker}`}>{p.breaker}</span>
                  {p.paused && <div className="small">paused until {when(p.paused.until)}</div>}
                </td>
                <td>{p.calls}</td>
                <td>
                  {p.quota.minute.used}/{p.quota.minute.limit ?? '∞'} · {p.quota.day.used}/{p.quota.day.limit ?? '∞'}
                </td>
                <td className="small">{p.last_error ? `${p.last_error} (${when(p.last_error_at)})` : '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>

      <h2>Ingest jobs</h2>
      {jobs.error && <p className="muted">{jobs.error}</p>}
      {jobs.data && (
        <>
          <p>
            {jobs.data.counts.queued} queued, {jobs.data.counts.running} running, {jobs.data.counts.succeeded} succeeded, {jobs.data.counts.failed} failed
          </p>
          <ul className="feed">
            {jobs.data.jobs.map((j) => (
              <li key={j.id}>
                <span className={`status ${j.status}`}>{j.status}</span> #{j.id} {j.kind} {j.symbols.join(', ')} · {j.bars_changed} bars ·{' '}
                {when(j.finished_at ?? j.run_at)}
                {j.last_error && <div className="small error">{j.last_error}</div>}
              </li>
            ))}
          </ul>
        </>
      )}

      <h2>Feature flags</h2>
      <ul className="flags">
        {features.data?.features.map((f) => (
          <li key={f.name}>
            <span className={`status ${f.enabled ? 'on' : 'off'}`}>{f.enabled ? 'on' : 'off'}</span> <code>{f.name}</code>{' '}
            <span className="small muted">{f.description}</span>
          </li>
        ))}
      </ul>
    </section>
  );
}
