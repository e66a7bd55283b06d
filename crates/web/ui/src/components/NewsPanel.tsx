// A symbol's news: its daily sentiment as a bar per day (above the line bullish, below bearish)
// whose days open their citations (the scored articles behind each number, with the scorer's
// rationale), and the latest articles with their score and a link to the publisher. Links open
// in a new tab with `noopener noreferrer`; nothing is loaded from the publisher's host (no
// images, no previews), so the page's CSP stays 'self'-only. With news off, stockd's hint is
// shown as a quiet note.

import { useEffect, useMemo, useState } from 'react';
import { when, type Article, type Citation, type NewsList, type Sentiment, type SentimentDay } from '../api';
import { useInterval, useLoad } from '../hooks';
import { NewsOff, polarity, signed, symbolNews, symbolSentiment } from '../news';

const SPANS: [string, number][] = [
  ['7D', 7],
  ['30D', 30],
  ['90D', 90],
];

function offAsValue(err: unknown): NewsOff {
  if (err instanceof NewsOff) return err;
  throw err;
}

export function NewsPanel({ symbol }: { symbol: string }) {
  const [days, setDays] = useState(30);
  const news = useLoad<NewsList | NewsOff>(() => symbolNews(symbol, 10).catch(offAsValue), symbol);
  const sentiment = useLoad<Sentiment | NewsOff>(() => symbolSentiment(symbol, days).catch(offAsValue), `${symbol}/${days}`);
  // News arrives on a schedule (and is scored after): a slow refresh is enough.
  useInterval(() => {
    news.reload();
    sentiment.reload();
  }, 300_000);

  const off = news.data instanceof NewsOff ? news.data : sentiment.data instanceof NewsOff ? sentiment.data : undefined;
  const list = news.data instanceof NewsOff ? undefined : news.data;
  const sent = sentiment.data instanceof NewsOff ? undefined : sentiment.data;

  // Each article's score, from the citations of the days shown.
  const scores = useMemo(() => {
    const map = new Map<number, Citation | 'pending'>();
    for (const day of sent?.days ?? []) {
      day.citations.forEach((c) => map.set(c.article.id, c));
      day.pending_articles.forEach((p) => map.set(p.article.id, 'pending'));
    }
    return map;
  }, [sent]);

  return (
    <section className="card wide" aria-labelledby="news-title" data-testid="news">
      <h2 id="news-title">News and sentiment</h2>
      {off ? (
        <p className="muted small" data-testid="news-off">
          {off.message}
        </p>
      ) : (
        <>
          {(news.error || sentiment.error) && <p className="error small">{news.error || sentiment.error}</p>}
          <div className="row wrap">
            <div role="group" aria-label="Sentiment range" className="segmented">
              {SPANS.map(([name, n]) => (
                <button key={name} type="button" aria-pressed={days === n} onClick={() => setDays(n)}>
                  {name}
                </button>
              ))}
            </div>
            {sent && <span className="small muted">{sent.method.split(';')[0]}</span>}
          </div>
          {sent && <SentimentPlot sentiment={sent} />}
          <h3>Latest articles</h3>
          {list && list.articles.length === 0 && <p className="muted small">No articles about {symbol} yet.</p>}
          <ul className="feed news" data-testid="news-list">
            {list?.articles.map((a) => (
              <ArticleItem key={a.id} article={a} score={scores.get(a.id)} />
            ))}
          </ul>
        </>
      )}
    </section>
  );
}

function ScoreBadge({ score, label }: { score: number; label?: string }) {
  const name = label ?? polarity(score);
  return (
    <span className={`label ${name}`} data-testid="sentiment-score">
      {name} {signed(score)}
    </span>
  );
}

function ArticleLink({ article }: { article: Article }) {
  return (
    <a href={article.url} target="_blank" rel="noopener noreferrer" className="headline">
      {article.title}
      <span className="sr-only"> (opens {hostOf(article.url)} in a new tab)</span>
    </a>
  );
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return 'the publisher';
  }
}

function ArticleItem({ article, score }: { article: Article; score: Citation | 'pending' | undefined }) {
  return (
    <li data-testid="news-article">
      <div className="row top-aligned">
        <ArticleLink article={article} />
        {score === 'pending' ? (
          <span className="small muted">not scored yet</span>
        ) : score ? (
          <ScoreBadge score={score.score} label={score.label} />
        ) : null}
      </div>
      <span className="small muted">
        {article.publisher ?? article.source} · {when(article.published_at)}
        {article.simulated ? ' · simulated' : ''}
      </span>
      {article.summary && <span className="small summary">{article.summary}</span>}
    </li>
  );
}

/** Daily sentiment bars; a day's bar (click, or Tab and Enter) shows its citations below. */
function SentimentPlot({ sentiment }: { sentiment: Sentiment }) {
  const latest = useMemo(() => [...sentiment.days].reverse().find((d) => d.articles > 0 || d.pending > 0)?.day, [sentiment]);
  const [chosen, setChosen] = useState<string | undefined>(latest);
  useEffect(() => setChosen((c) => (c && sentiment.days.some((d) => d.day === c) ? c : latest)), [sentiment, latest]);
  const day = sentiment.days.find((d) => d.day === chosen);

  const n = sentiment.days.length;
  const width = 600;
  const height = 120;
  const mid = height / 2;
  const slot = width / Math.max(n, 1);
  const barWidth = Math.max(2, slot * 0.7);
  const scored = sentiment.days.filter((d) => d.score != null);
  const summary = scored.length
    ? `${scored.length} of ${n} days with scored news; latest ${scored[scored.length - 1].day} at ${signed(scored[scored.length - 1].score as number)}`
    : `no scored news in the last ${n} days`;

  const pick = (d: SentimentDay) => setChosen(d.day);
  return (
    <>
      <div role="group" aria-label={`Daily news sentiment, -1 bearish to +1 bullish: ${summary}. Choose a day to see its articles.`}>
        <svg className="sentiment-plot" viewBox={`0 0 ${width} ${height}`} preserveAspectRatio="none" data-testid="sentiment-plot" data-days={scored.length}>
          <line x1={0} x2={width} y1={mid} y2={mid} className="axis" />
          {sentiment.days.map((d, i) => {
            const x = i * slot + (slot - barWidth) / 2;
            const value = d.score ?? 0;
            const h = Math.max(1, Math.abs(value) * (mid - 4));
            const active = d.articles > 0 || d.pending > 0;
            const label = `${d.day}: ${d.score == null ? 'no score' : signed(d.score)}, ${d.articles} scored article${d.articles === 1 ? '' : 's'}${d.pending ? `, ${d.pending} pending` : ''}`;
            return (
              <g
                key={d.day}
                className={`day${d.day === chosen ? ' chosen' : ''}`}
                role={active ? 'button' : undefined}
                tabIndex={active ? 0 : undefined}
                aria-label={active ? label : undefined}
                aria-pressed={active ? d.day === chosen : undefined}
                onClick={active ? () => pick(d) : undefined}
                onKeyDown={
                  active
                    ? (e) => {
                        if (e.key === 'Enter' || e.key === ' ') {
                          e.preventDefault();
                          pick(d);
                        }
                      }
                    : undefined
                }
              >
                <title>{label}</title>
                <rect className="hit" x={i * slot} y={0} width={slot} height={height} />
                {d.score != null && (
                  <rect className={`bar ${value >= 0 ? 'up' : 'down'}`} x={x} width={barWidth} y={value >= 0 ? mid - h : mid} height={h} />
                )}
                {d.score == null && d.pending > 0 && <circle className="pending" cx={x + barWidth / 2} cy={mid} r={2} />}
              </g>
            );
          })}
        </svg>
        <div className="row small muted">
          <span>{sentiment.from}</span>
          <span>{sentiment.to}</span>
        </div>
      </div>
      {day && <DayCitations day={day} />}
    </>
  );
}

function DayCitations({ day }: { day: SentimentDay }) {
  return (
    <div aria-live="polite" data-testid="sentiment-day">
      <h3>
        {day.day}: {day.score == null ? 'no score' : <ScoreBadge score={day.score} />}
      </h3>
      <p className="small muted">
        {day.articles} scored article{day.articles === 1 ? '' : 's'}
        {day.articles > 0 &&
          ` (${Math.round(day.bullish_share * 100)} % bullish, ${Math.round(day.bearish_share * 100)} % bearish, ${Math.round(day.neutral_share * 100)} % neutral)`}
        {day.pending > 0 && `; ${day.pending} not scored yet`}
      </p>
      <ul className="feed citations">
        {day.citations.map((c) => (
          <li key={c.article.id}>
            <div className="row top-aligned">
              <ArticleLink article={c.article} />
              <ScoreBadge score={c.score} label={c.label} />
            </div>
            <span className="small muted">
              weight {c.weight.toFixed(2)} ({c.weight_source}) · {c.scorer.scorer} {c.scorer.model}
              {c.article.simulated ? ' · simulated' : ''}
            </span>
            {c.rationale && <span className="small">{c.rationale}</span>}
          </li>
        ))}
        {day.pending_articles.map((p) => (
          <li key={p.article.id}>
            <ArticleLink article={p.article} />
            <span className="small muted">not scored yet</span>
          </li>
        ))}
      </ul>
    </div>
  );
}
