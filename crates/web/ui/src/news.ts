// News and sentiment reads shared by the overview cards and the symbol page. When no news source
// is configured stockd answers 404 `news-off` (with how to turn it on): that is a state to show
// quietly, not an error, and after the first such answer this page asks no more (a page of
// watchlist cards would otherwise send one doomed request per card). The `news` feature switched
// off here (404 `feature-disabled`) is shown the same way.

import { api, ApiError, type NewsList, type Sentiment, type SentimentDay } from './api';

/** Thrown instead of the API's `news-off` problem; `message` is its hint. */
export class NewsOff extends Error {}

let first: Promise<unknown> | null = null;
let off: string | null = null;

async function newsRead<T>(path: string): Promise<T> {
  // The first read tells whether news is on; the others wait for its answer.
  if (first) await first.catch(() => undefined);
  if (off != null) throw new NewsOff(off);
  const read = api<T>(path);
  first ??= read;
  try {
    const value = await read;
    off = null;
    return value;
  } catch (err) {
    if (err instanceof ApiError && err.status === 404 && (err.kind === 'news-off' || err.kind === 'feature-disabled')) {
      off = err.detail;
      throw new NewsOff(err.detail);
    }
    throw err;
  }
}

export function symbolNews(symbol: string, limit: number): Promise<NewsList> {
  return newsRead(`/v1/stocks/${encodeURIComponent(symbol)}/news?limit=${limit}`);
}

export function symbolSentiment(symbol: string, days: number): Promise<Sentiment> {
  return newsRead(`/v1/stocks/${encodeURIComponent(symbol)}/sentiment?days=${days}`);
}

/** The newest day with a score. */
export function latestScored(sentiment: Sentiment | undefined): SentimentDay | undefined {
  return sentiment?.days.filter((d) => d.score != null).pop();
}

/** `bullish`, `bearish` or `neutral` for a score in [-1, 1] (the scorers' neutral band, ±0.05). */
export function polarity(score: number): string {
  return score > 0.05 ? 'bullish' : score < -0.05 ? 'bearish' : 'neutral';
}

export function signed(score: number): string {
  return `${score > 0 ? '+' : ''}${score.toFixed(2)}`;
}
