// A symbol: the chart over a chosen range with overlays and indicator panes, the move over the
// range, the signal with its evidence, the alert builder (pick a level or click the chart, see
// the backtest's fires drawn on the chart, then save), and the news with its daily sentiment.

import { useEffect, useMemo, useState, type FormEvent } from 'react';
import {
  api,
  errorText,
  money,
  percent,
  type Backtest,
  type Channel,
  type Daily,
  type Delta,
  type Indicators,
  type Quote,
  type Rule,
  type Signal,
  type WatchedSymbol,
} from '../api';
import { Link } from '../components/Link';
import { NewsPanel } from '../components/NewsPanel';
import { PriceChart, type PriceLine } from '../components/PriceChart';
import { useLoad } from '../hooks';
import { subscribe } from '../stream';

const RANGES: [string, number][] = [
  ['1M', 21],
  ['3M', 63],
  ['6M', 126],
  ['1Y', 252],
  ['5Y', 1260],
];

const OVERLAYS: [string, string][] = [
  ['sma:20', 'SMA 20'],
  ['ema:50', 'EMA 50'],
  ['bbands:20:2', 'Bollinger 20, 2'],
  ['rsi:14', 'RSI 14'],
  ['macd:12:26:9', 'MACD 12, 26, 9'],
];

const KINDS = ['crosses_up', 'crosses_down', 'above', 'below'];

export function SymbolPage({ symbol }: { symbol: string }) {
  const [days, setDays] = useState(126);
  const [overlays, setOverlays] = useState<string[]>(['sma:20', 'rsi:14']);
  const daily = useLoad(() => api<Daily>(`/v1/stocks/${symbol}/daily?days=${days}`), `${symbol}/${days}`);
  const series = overlays.join(',');
  const indicators = useLoad(
    () => (series ? api<Indicators>(`/v1/stocks/${symbol}/indicators?series=${encodeURIComponent(series)}&days=${days}`) : Promise.resolve(undefined)),
    `${symbol}/${days}/${series}`,
  );
  const delta = useLoad(() => api<Delta>(`/v1/stocks/${symbol}/delta?days=${days}`), `${symbol}/${days}`);
  const signal = useLoad(() => api<Signal>(`/v1/stocks/${symbol}/signal`), symbol);
  const [quote, setQuote] = useState<Quote>();
  useEffect(() => {
    api<Quote>(`/v1/stocks/${symbol}/quote`).then(setQuote, () => undefined);
    return subscribe([`quotes:${symbol}`], (_t, data) => {
      const q = data as Partial<Quote>;
      if (typeof q.price === 'number') setQuote((old) => ({ ...(old as Quote), ...q }));
    });
  }, [symbol]);

  // The alert being built, and its backtest.
  const [kind, setKind] = useState('crosses_up');
  const [frequency, setFrequency] = useState('once');
  const [level, setLevel] = useState('');
  const [backtest, setBacktest] = useState<Backtest>();
  const [alertError, setAlertError] = useState<string>();
  const [saved, setSaved] = useState<Rule>();
  const [busy, setBusy] = useState(false);
  const channels = useLoad(() => api<{ channels: Channel[] }>('/v1/me/channels'), 'channels');
  const [chosen, setChosen] = useState<string[]>([]);
  const bars = daily.data?.bars;
  const firstDate = bars?.[0]?.date;

  const body = () => {
    const price = Number(level);
    const rule: Record<string, unknown> = { symbol, kind, price, frequency, channels: chosen };
    if (frequency === 'every_time') rule.cooldown = '1d';
    return rule as { symbol: string; kind: string };
  };
  const preview = async (event?: FormEvent) => {
    event?.preventDefault();
    setAlertError(undefined);
    setSaved(undefined);
    setBusy(true);
    try {
      const query = firstDate ? `?from=${firstDate}` : '';
      setBacktest(await api<Backtest>(`/v1/alerts/backtest${query}`, { method: 'POST', json: body() }));
    } catch (err) {
      setBacktest(undefined);
      setAlertError(errorText(err));
    } finally {
      setBusy(false);
    }
  };
  const save = async () => {
    setAlertError(undefined);
    setBusy(true);
    try {
      setSaved(await api<Rule>('/v1/alerts', { method: 'POST', json: body() }));
    } catch (err) {
      setAlertError(errorText(err));
    } finally {
      setBusy(false);
    }
  };
  // A new level or kind makes the shown backtest stale.
  useEffect(() => setBacktest(undefined), [kind, level, frequency, symbol]);

  const lines = useMemo<PriceLine[]>(() => {
    const price = Number(level);
    return level && price > 0 ? [{ price, title: `alert ${kind.replace('_', ' ')}` }] : [];
  }, [level, kind]);

  const watch = async () => {
    try {
      await api(`/v1/me/watchlist/${symbol}`, { method: 'PUT' });
      setWatched(true);
    } catch (err) {
      setAlertError(errorText(err));
    }
  };
  const [watched, setWatched] = useState(false);
  useEffect(() => {
    api<{ symbols: WatchedSymbol[] }>('/v1/me/watchlist?limit=1000').then(
      (w) => setWatched(w.symbols.some((s) => s.symbol === symbol)),
      () => undefined,
    );
  }, [symbol]);

  const d = delta.data;
  return (
    <section aria-labelledby="symbol-title">
      <div className="row wrap">
        <h1 id="symbol-title">{symbol}</h1>
        <span className="price big" data-testid="symbol-price">
          {money(quote?.price)}
        </span>
        <span className={(quote?.change_percent ?? 0) >= 0 ? 'up' : 'down'}>{percent(quote?.change_percent)}</span>
        {watched ? (
          <span className="muted">On your watchlist</span>
        ) : (
          <button type="button" className="primary" onClick={watch}>
            Watch {symbol}
          </button>
        )}
      </div>

      <div className="toolbar">
        <div role="group" aria-label="Range" className="segmented">
          {RANGES.map(([name, n]) => (
            <button key={name} type="button" aria-pressed={days === n} onClick={() => setDays(n)}>
              {name}
            </button>
          ))}
        </div>
        <fieldset className="overlays">
          <legend>Indicators</legend>
          {OVERLAYS.map(([id, name]) => (
            <label key={id} className="check">
              <input
                type="checkbox"
                checked={overlays.includes(id)}
                onChange={(e) => setOverlays((o) => (e.target.checked ? [...o, id] : o.filter((x) => x !== id)))}
              />
              {name}
            </label>
          ))}
        </fieldset>
      </div>

      {daily.error && <p className="error">{daily.error}</p>}
      {indicators.error && <p className="error">{indicators.error}</p>}
      {bars && bars.length > 0 && (
        <PriceChart
          bars={bars}
          indicators={indicators.data}
          fires={backtest?.fires}
          lines={lines}
          label={`${symbol} daily candles and volume, ${bars.length} trading days`}
          onPick={(price) => setLevel(String(price))}
        />
      )}

      <div className="grid">
        <section className="card" aria-labelledby="delta-title">
          <h2 id="delta-title">Over the range</h2>
          {delta.error && <p className="error">{delta.error}</p>}
          {d && (
            <dl className="stats">
              <dt>Change</dt>
              <dd className={(d.change_percent ?? 0) >= 0 ? 'up' : 'down'}>
                {money(d.change)} ({percent(d.change_percent)})
              </dd>
              <dt>From</dt>
              <dd>
                {money(d.start_close)} on {d.start_date ?? '—'}
              </dd>
              <dt>To</dt>
              <dd>
                {money(d.end_close)} on {d.end_date ?? '—'}
              </dd>
              <dt>High / low</dt>
              <dd>
                {money(d.high)} / {money(d.low)}
              </dd>
              <dt>Max drawdown</dt>
              <dd>{d.max_drawdown_percent == null ? '—' : `${d.max_drawdown_percent.toFixed(2)} %`}</dd>
              <dt>Trading days</dt>
              <dd>{d.trading_days}</dd>
            </dl>
          )}
        </section>

        <section className="card" aria-labelledby="signal-title">
          <h2 id="signal-title">Signal</h2>
          {signal.error && <p className="muted">{signal.error}</p>}
          {signal.data && (
            <>
              <p>
                <span className={`label ${signal.data.label}`}>{signal.data.label.replace('_', ' ')}</span> score {signal.data.score.toFixed(2)} on{' '}
                {signal.data.day}
              </p>
              <div className="table-wrap">
              <table>
                <caption className="sr-only">Signal components</caption>
                <thead>
                  <tr>
                    <th scope="col">Component</th>
                    <th scope="col">Score</th>
                    <th scope="col">Weight</th>
                    <th scope="col">Evidence</th>
                  </tr>
                </thead>
                <tbody>
                  {signal.data.components.map((c) => (
                    <tr key={c.name}>
                      <th scope="row">{c.name.replace('_', ' ')}</th>
                      <td className={c.score >= 0 ? 'up' : 'down'}>{c.score.toFixed(2)}</td>
                      <td>{c.weight.toFixed(2)}</td>
                      <td className="small evidence">
                        <Evidence evidence={c.evidence ?? {}} />
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
              </div>
              {signal.data.missing.length > 0 && <p className="small muted">Left out (no data): {signal.data.missing.join(', ')}</p>}
            </>
          )}
        </section>

        <section className="card" aria-labelledby="alert-title">
          <h2 id="alert-title">New alert</h2>
          <p className="small muted">Click the chart to pick a level, preview when it would have fired, then save.</p>
          <form onSubmit={preview} className="stack" aria-label="New alert">
            <label>
              Condition
              <select value={kind} onChange={(e) => setKind(e.target.value)}>
                {KINDS.map((k) => (
                  <option key={k} value={k}>
                    {k.replace('_', ' ')}
                  </option>
                ))}
              </select>
            </label>
            <label>
              How often
              <select value={frequency} onChange={(e) => setFrequency(e.target.value)}>
                <option value="once">Once, then disarm</option>
                <option value="once_per_day">At most once a trading day</option>
                <option value="every_time">Every time, 1 day apart</option>
              </select>
            </label>
            <label>
              Price
              <input type="number" inputMode="decimal" step="0.01" min="0.01" required value={level} onChange={(e) => setLevel(e.target.value)} />
            </label>
            {(channels.data?.channels.length ?? 0) > 0 && (
              <fieldset>
                <legend>Notify</legend>
                {channels.data?.channels.map((c) => (
                  <label key={c.id} className="check">
                    <input
                      type="checkbox"
                      checked={chosen.includes(c.id)}
                      onChange={(e) => setChosen((x) => (e.target.checked ? [...x, c.id] : x.filter((id) => id !== c.id)))}
                    />
                    {c.kind}: {c.url ?? c.address ?? c.phone}
                  </label>
                ))}
              </fieldset>
            )}
            <div className="row">
              <button type="submit" disabled={busy || !level}>
                Preview backtest
              </button>
              <button type="button" className="primary" disabled={busy || !backtest} onClick={save}>
                Save alert
              </button>
            </div>
          </form>
          {alertError && (
            <p className="error" role="alert">
              {alertError}
            </p>
          )}
          {backtest && (
            <div role="status" data-testid="backtest-result">
              <p>
                Would have fired <strong>{backtest.fires.length}</strong> time{backtest.fires.length === 1 ? '' : 's'} over {backtest.bars} bars
                {backtest.from ? ` (${backtest.from} to ${backtest.to})` : ''}; marked ▼ on the chart.
              </p>
              <ul className="small">
                {backtest.fires.slice(-5).map((f) => (
                  <li key={f.at}>{f.message}</li>
                ))}
              </ul>
            </div>
          )}
          {saved && (
            <p role="status" className="ok" data-testid="alert-saved">
              Alert {saved.id} saved and armed. <Link to="/alerts">See your alerts</Link>.
            </p>
          )}
        </section>

        <NewsPanel symbol={symbol} />
      </div>
    </section>
  );
}

/** A component's evidence: its `reading` in words, the figures behind it on request. */
function Evidence({ evidence }: { evidence: Record<string, unknown> }) {
  const { reading, ...figures } = evidence;
  const entries = Object.entries(figures);
  return (
    <>
      {typeof reading === 'string' && <span>{reading}</span>}
      {entries.length > 0 && (
        <details>
          <summary>Figures</summary>
          <dl className="figures">
            {entries.map(([k, v]) => (
              <div key={k}>
                <dt>{k.replace(/_/g, ' ')}</dt>
                <dd>{typeof v === 'number' ? Number(v.toFixed(4)) : JSON.stringify(v)}</dd>
              </div>
            ))}
          </dl>
        </details>
      )}
    </>
  );
}
