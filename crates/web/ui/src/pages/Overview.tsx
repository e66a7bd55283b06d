// The overview: the watchlist as cards (last price, change, a sparkline of recent closes, the
// signal label, the latest day's news sentiment when there is one), updated from the stream's
// `quotes:<SYMBOL>` and `signals:<SYMBOL>` topics, or polled without it.

import { useEffect, useState, type FormEvent } from 'react';
import { api, errorText, money, percent, type Daily, type Quote, type Signal, type WatchedSymbol } from '../api';
import { Link } from '../components/Link';
import { Sparkline } from '../components/Sparkline';
import { useInterval, useLoad } from '../hooks';
import { latestScored, polarity, signed, symbolSentiment } from '../news';
import { navigate } from '../router';
import { onStreamStatus, streamStatus, subscribe } from '../stream';

export function Overview() {
  const list = useLoad(() => api<{ symbols: WatchedSymbol[] }>('/v1/me/watchlist?limit=100'), 'watchlist');
  const [symbol, setSymbol] = useState('');
  const [error, setError] = useState<string>();

  const add = async (event: FormEvent) => {
    event.preventDefault();
    const s = symbol.trim().toUpperCase();
    if (!s) return;
    setError(undefined);
    try {
      await api(`/v1/me/watchlist/${encodeURIComponent(s)}`, { method: 'PUT' });
      setSymbol('');
      list.reload();
    } catch (err) {
      setError(errorText(err));
    }
  };

  const symbols = list.data?.symbols ?? [];
  return (
    <section aria-labelledby="overview-title">
      <h1 id="overview-title">Watchlist</h1>
      <form className="inline" onSubmit={add} aria-label="Watch a symbol">
        <label>
          Symbol
          <input value={symbol} onChange={(e) => setSymbol(e.target.value)} placeholder="MSFT" autoCapitalize="characters" maxLength={16} />
        </label>
        <button type="submit" className="primary">
          Watch
        </button>
        <button type="button" onClick={() => symbol.trim() && navigate(`/symbols/${encodeURIComponent(symbol.trim().toUpperCase())}`)}>
          Open chart
        </button>
      </form>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {list.error && <p className="error">{list.error}</p>}
      {!list.loading && symbols.length === 0 && <p className="muted">Nothing watched yet: add a symbol above (the sample data has MSFT, AAPL, …).</p>}
      <ul className="cards">
        {symbols.map((w) => (
          <WatchCard key={w.symbol} symbol={w.symbol} onRemoved={list.reload} />
        ))}
      </ul>
    </section>
  );
}

function WatchCard({ symbol, onRemoved }: { symbol: string; onRemoved: () => void }) {
  const [quote, setQuote] = useState<Quote>();
  const [error, setError] = useState<string>();
  const closes = useLoad(() => api<Daily>(`/v1/stocks/${symbol}/daily?days=30`), symbol);
  const signal = useLoad(() => api<Signal>(`/v1/stocks/${symbol}/signal`).catch(() => undefined), symbol);
  // Shown only when present: news off, or no scored article this week, leaves the card as is.
  const sentiment = useLoad(() => symbolSentiment(symbol, 7).catch(() => undefined), symbol);
  const mood = latestScored(sentiment.data);
  const [polling, setPolling] = useState(streamStatus() !== 'live');

  const refresh = () =>
    api<Quote>(`/v1/stocks/${symbol}/quote`).then(
      (q) => {
        setQuote(q);
        setError(undefined);
      },
      (err) => setError(errorText(err)),
    );
  useEffect(() => {
    void refresh();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [symbol]);
  useEffect(() => onStreamStatus((s) => setPolling(s !== 'live')), []);
  useEffect(
    () =>
      subscribe([`quotes:${symbol}`], (_topic, data) => {
        const q = data as Partial<Quote>;
        if (typeof q.price === 'number') setQuote((old) => ({ ...(old as Quote), ...q }));
      }),
    [symbol],
  );
  useEffect(() => subscribe([`signals:${symbol}`], () => signal.reload()), [symbol, signal.reload]);
  useInterval(() => void refresh(), polling ? 15_000 : null);
  useInterval(() => {
    sentiment.reload();
    if (polling) signal.reload();
  }, 300_000);

  const remove = async () => {
    try {
      await api(`/v1/me/watchlist/${symbol}`, { method: 'DELETE' });
      onRemoved();
    } catch (err) {
      setError(errorText(err));
    }
  };

  const change = quote?.change_percent ?? null;
  const values = closes.data?.bars.map((b) => b.close) ?? [];
  return (
    <li className="card watch" data-testid={`card-${symbol}`}>
      <div className="row">
        <h2>
          <Link to={`/symbols/${symbol}`}>{symbol}</Link>
        </h2>
        {signal.data && <span className={`label ${signal.data.label}`}>{signal.data.label.replace('_', ' ')}</span>}
      </div>
      <div className="row">
        <span className="price" data-testid="last-price">
          {money(quote?.price)}
        </span>
        <span className={change == null ? 'muted' : change >= 0 ? 'up' : 'down'}>{percent(change)}</span>
      </div>
      <Sparkline values={values} label={`${symbol}, last ${values.length} closes`} />
      {mood && mood.score != null && (
        <p className="small sentiment" data-testid="card-sentiment">
          News sentiment{' '}
          <span className={`label ${polarity(mood.score)}`}>
            {polarity(mood.score)} {signed(mood.score)}
          </span>{' '}
          <span className="muted">
            {mood.articles} article{mood.articles === 1 ? '' : 's'}, {mood.day}
          </span>
        </p>
      )}
      <div className="row small muted">
        <span>{quote ? `${quote.source}${quote.stale ? ' (stale)' : ''}` : ''}</span>
        <button type="button" className="link" onClick={remove} aria-label={`Stop watching ${symbol}`}>
          Remove
        </button>
      </div>
      {error && <p className="error small">{error}</p>}
    </li>
  );
}
