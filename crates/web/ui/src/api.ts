// The REST client: every call goes to the same origin (the CSP allows nothing else), with the
// session token as `Authorization: Bearer`. Errors are the API's problem+json, surfaced with
// their `detail` so the page can say what to fix.

const TOKEN_KEY = 'stockd.session';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail: string,
    /** The problem's kind: the last segment of its `type` (`urn:stockd:problem:news-off` → `news-off`). */
    readonly kind: string = '',
  ) {
    super(detail || title || `HTTP ${status}`);
  }
}

export function sessionToken(): string | null {
  return localStorage.getItem(TOKEN_KEY);
}

export function setSessionToken(token: string | null): void {
  if (token) localStorage.setItem(TOKEN_KEY, token);
  else localStorage.removeItem(TOKEN_KEY);
  window.dispatchEvent(new Event('stockd:session'));
}

export async function api<T>(path: string, init: RequestInit & { json?: unknown } = {}): Promise<T> {
  const headers = new Headers(init.headers);
  headers.set('accept', 'application/json');
  const token = sessionToken();
  if (token) headers.set('authorization', `Bearer ${token}`);
  let body = init.body;
  if (init.json !== undefined) {
    headers.set('content-type', 'application/json');
    body = JSON.stringify(init.json);
  }
  const response = await fetch(path, { ...init, headers, body });
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  const data = text ? safeJson(text) : undefined;
  if (!response.ok) {
    const problem = (data ?? {}) as { title?: string; detail?: string; type?: string };
    if (response.status === 401 && token) setSessionToken(null);
    const kind = typeof problem.type === 'string' ? (problem.type.split(':').pop() ?? '') : '';
    throw new ApiError(response.status, problem.title ?? response.statusText, problem.detail ?? text, kind);
  }
  return data as T;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export function errorText(err: unknown): string {
  if (err instanceof ApiError) return err.detail ? `${err.title}: ${err.detail}` : err.title;
  return err instanceof Error ? err.message : String(err);
}

/**
 * A 422's detail split by the rule fields it names (`price: must be greater than 0 …`,
 * `channels[0]: unknown channel …`, several joined by `; `), so a form can show each message
 * beside its field; what names no known field stays under `''`.
 */
export function fieldErrors(err: unknown, fields: readonly string[]): Record<string, string> {
  if (!(err instanceof ApiError) || !err.detail) return { '': errorText(err) };
  const names = fields.map((f) => f.replace(/[^a-z_]/g, '')).join('|');
  const at = new RegExp(`(?:^|; )(?:invalid rule: )?(${names})(?:\\[\\d+\\])?: `, 'g');
  const hits = [...err.detail.matchAll(at)];
  if (hits.length === 0) return { '': errorText(err) };
  const out: Record<string, string> = {};
  const lead = err.detail.slice(0, hits[0].index).trim();
  if (lead) out[''] = lead;
  hits.forEach((hit, i) => {
    const end = i + 1 < hits.length ? hits[i + 1].index : err.detail.length;
    const message = err.detail.slice(hit.index, end).replace(/^; /, '').replace(/^invalid rule: /, '');
    out[hit[1]] = out[hit[1]] ? `${out[hit[1]]}; ${message}` : message;
  });
  return out;
}

// ---- the shapes the pages read (see /openapi.json) ----

export interface User {
  id: string;
  email: string;
  display_name: string | null;
  is_admin: boolean;
  created_at: string;
}
export interface LoginResponse {
  access_token: string;
  token_type: string;
  expires_at: string | null;
  user: User;
}
export interface Bar {
  date: string;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
}
export interface Daily {
  symbol: string;
  source: string;
  stale: boolean;
  count: number;
  bars: Bar[];
}
export interface Quote {
  symbol: string;
  price: number;
  previous_close: number | null;
  change: number | null;
  change_percent: number | null;
  trading_day: string;
  as_of: string | null;
  source: string;
  stale: boolean;
}
export interface Delta {
  symbol: string;
  start_date: string | null;
  start_close: number | null;
  end_date: string | null;
  end_close: number | null;
  change: number | null;
  change_percent: number | null;
  high: number | null;
  low: number | null;
  max_drawdown_percent: number | null;
  trading_days: number;
  source: string;
  stale: boolean;
}
export interface SeriesColumn {
  name: string;
  indicator: string;
  output: string;
  warmup: number;
  values: (number | null)[];
}
export interface Indicators {
  symbol: string;
  dates: string[];
  series: SeriesColumn[];
}
export interface SignalComponent {
  name: string;
  score: number;
  weight: number;
  evidence: Record<string, unknown>;
}
export interface Signal {
  symbol: string;
  method: string;
  day: string;
  score: number;
  label: string;
  components: SignalComponent[];
  missing: string[];
  computed_at: string;
}
export interface WatchedSymbol {
  symbol: string;
  added_at: string;
}
export interface RuleState {
  armed: boolean;
  expired: boolean;
  last_price: number | null;
  last_at: string | null;
  last_fired_at: string | null;
  fire_count: number;
  activated: boolean;
  extreme: number | null;
  trigger_level: number | null;
}
export interface Rule {
  id: number;
  symbol: string;
  kind: string;
  price?: number;
  series?: string;
  value?: number;
  other?: string;
  percent?: number;
  window_days?: number;
  window?: string;
  vs_previous_close?: boolean;
  amount?: number;
  activation_price?: number;
  side?: string;
  frequency?: string;
  cooldown?: string;
  channels?: string[];
  expires_at?: string;
  status: string;
  error?: string;
  set_aside_at?: string;
  created_at: string;
  updated_at?: string;
  state: RuleState | null;
}
/** The fields of a rule's definition (`POST /v1/alerts`, `PUT /v1/alerts/{id}`). */
export const RULE_FIELDS = [
  'symbol',
  'kind',
  'price',
  'series',
  'value',
  'other',
  'percent',
  'window_days',
  'window',
  'vs_previous_close',
  'amount',
  'activation_price',
  'side',
  'frequency',
  'cooldown',
  'channels',
  'expires_at',
] as const;
export type RuleBody = Record<string, unknown> & { symbol: string; kind: string };
export interface Fire {
  date: string;
  at: string;
  price: number;
  message: string;
}
export interface Backtest {
  symbol: string;
  bars: number;
  from: string | null;
  to: string | null;
  fires: Fire[];
}
export interface AlertEvent {
  id: string;
  rule_id: number;
  symbol: string;
  price: number;
  quote_at: string;
  message: string;
  created_at: string;
  acknowledged_at: string | null;
}
export interface Article {
  id: number;
  title: string;
  summary: string;
  url: string;
  publisher: string | null;
  source: string;
  published_at: string;
  first_seen_at: string;
  simulated: boolean;
  symbols: string[];
}
export interface NewsList {
  count: number;
  articles: Article[];
  next_cursor: string | null;
}
export interface Citation {
  article: Article;
  score: number;
  label: string;
  weight: number;
  weight_source: string;
  scorer: { scorer: string; model: string; prompt_version: string };
  rationale: string | null;
  scored_at: string;
}
export interface SentimentDay {
  day: string;
  score: number | null;
  articles: number;
  pending: number;
  weight: number;
  bullish_share: number;
  bearish_share: number;
  neutral_share: number;
  citations: Citation[];
  pending_articles: { article: Article }[];
}
export interface Sentiment {
  symbol: string;
  from: string;
  to: string;
  method: string;
  days: SentimentDay[];
  truncated: boolean;
}
export interface Notification {
  id: string;
  event_id: string;
  channel_id: string;
  status: string;
  attempts: number;
  next_attempt_at: string;
  last_error: string | null;
  created_at: string;
  delivered_at: string | null;
}
export interface Attempt {
  attempt: number;
  attempted_at: string;
  outcome: string;
  error: string | null;
}
export interface Channel {
  id: string;
  kind: string;
  url?: string | null;
  format?: string | null;
  secret?: string | null;
  address?: string | null;
  phone?: string | null;
  error?: string | null;
  created_at: string;
}
/** What `POST /v1/me/channels/{id}/test` answers. */
export interface ChannelTest {
  channel_id: string;
  kind: string;
  delivered: boolean;
  status?: number | null;
  error?: string | null;
  permanent?: boolean | null;
  provider_message_id?: string | null;
  at: string;
  duration_ms: number;
}
export interface QuotaWindow {
  limit: number | null;
  used: number;
  remaining: number | null;
  resets_at: string;
}
export interface Provider {
  name: string;
  capabilities: { capability: string; position: number }[];
  breaker: string;
  calls: number;
  last_error: string | null;
  last_error_at: string | null;
  quota: { minute: QuotaWindow; day: QuotaWindow };
  paused: { limit: string; until: string; detail: string } | null;
}
export interface Job {
  id: number;
  kind: string;
  symbols: string[];
  status: string;
  attempts: number;
  max_attempts: number;
  run_at: string;
  last_error: string | null;
  bars_changed: number;
  finished_at: string | null;
}
export interface Jobs {
  counts: { queued: number; running: number; succeeded: number; failed: number };
  jobs: Job[];
}
export interface Feature {
  name: string;
  enabled: boolean;
  description: string;
}
export interface Instance {
  id: string;
  role?: string;
  roles?: string[] | string;
  version?: string;
  started_at?: string;
  last_seen_at?: string;
  [key: string]: unknown;
}

// ---- formatting ----

export function money(value: number | null | undefined): string {
  return value == null ? '—' : value.toLocaleString(undefined, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
}

export function percent(value: number | null | undefined): string {
  return value == null ? '—' : `${value > 0 ? '+' : ''}${value.toFixed(2)} %`;
}

export function when(value: string | null | undefined): string {
  return value ? new Date(value).toLocaleString() : '—';
}
