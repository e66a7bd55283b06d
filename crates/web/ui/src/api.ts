// The REST client: every call goes to the same origin (the CSP allows nothing else), with the
// session token as `Authorization: Bearer`. Errors are the API's problem+json, surfaced with
// their `detail` so the page can say what to fix.

const TOKEN_KEY = 'stockd.session';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail: string,
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
    const problem = (data ?? {}) as { title?: string; detail?: string };
    if (response.status === 401 && token) setSessionToken(null);
    throw new ApiError(response.status, problem.title ?? response.statusText, problem.detail ?? text);
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
  frequency?: string;
  channels?: string[];
  status: string;
  error?: string;
  created_at: string;
  state: RuleState | null;
}
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
