// Live updates from `GET /v1/stream?topics=…` (Server-Sent Events: `event:` is the kind, e.g.
// `quote`, `alert`, `notification`, `signal`, mapped by `topicOf` to the topics pages subscribe to,
// `quotes:MSFT`, `alerts`, `notifications`; `data:` is JSON; `id:` resumes via Last-Event-ID).
//
// The browser's EventSource cannot send an Authorization header, and stockd authenticates with
// bearer tokens only; so the stream is read with fetch() and a small SSE parser, which sends the
// session token like every other call and `Last-Event-ID` itself on reconnect. One connection
// serves every subscriber of the page; it is reopened when the set of topics changes.

import { sessionToken } from './api';

export type StreamStatus = 'idle' | 'connecting' | 'live' | 'unavailable' | 'retrying';
type Handler = (topic: string, data: unknown) => void;

interface Subscription {
  topics: string[];
  handler: Handler;
}

const subscriptions = new Set<Subscription>();
const statusListeners = new Set<(status: StreamStatus) => void>();
let status: StreamStatus = 'idle';
let controller: AbortController | null = null;
let connectedTopics = '';
let lastEventId: string | null = null;
let retryTimer: number | undefined;
let retryDelay = 1000;

function setStatus(next: StreamStatus): void {
  status = next;
  statusListeners.forEach((listener) => listener(next));
}

export function streamStatus(): StreamStatus {
  return status;
}

export function onStreamStatus(listener: (status: StreamStatus) => void): () => void {
  statusListeners.add(listener);
  return () => statusListeners.delete(listener);
}

/** Subscribes `handler` to `topics` (exact topics, or a prefix such as `quotes` for every `quotes:*`). */
export function subscribe(topics: string[], handler: Handler): () => void {
  const sub = { topics, handler };
  subscriptions.add(sub);
  schedule();
  return () => {
    subscriptions.delete(sub);
    schedule();
  };
}

let pending = false;
function schedule(): void {
  if (pending) return;
  pending = true;
  queueMicrotask(() => {
    pending = false;
    reconcile();
  });
}

function wantedTopics(): string {
  const topics = new Set<string>();
  subscriptions.forEach((sub) => sub.topics.forEach((t) => topics.add(t)));
  return [...topics].sort().join(',');
}

function reconcile(): void {
  const wanted = sessionToken() ? wantedTopics() : '';
  if (wanted === connectedTopics && (controller || status === 'unavailable' || retryTimer)) return;
  stop();
  connectedTopics = wanted;
  if (wanted) void connect(wanted);
  else setStatus('idle');
}

function stop(): void {
  controller?.abort();
  controller = null;
  window.clearTimeout(retryTimer);
  retryTimer = undefined;
}

/**
 * The topic an event belongs to: the server names events by kind (`quote`, `alert`,
 * `notification`, `signal`) and carries the symbol in the data, while pages subscribe by topic
 * (`quotes:MSFT`, `alerts`, `notifications`, `signals:MSFT`).
 */
export function topicOf(event: string, data: unknown): string {
  const symbol =
    typeof data === 'object' && data !== null && typeof (data as { symbol?: unknown }).symbol === 'string'
      ? (data as { symbol: string }).symbol
      : undefined;
  switch (event) {
    case 'quote':
      return symbol ? `quotes:${symbol}` : 'quotes';
    case 'signal':
      return symbol ? `signals:${symbol}` : 'signals';
    case 'alert':
      return 'alerts';
    case 'notification':
      return 'notifications';
    default:
      return event;
  }
}

function dispatch(event: string, data: string): void {
  let parsed: unknown = data;
  try {
    parsed = JSON.parse(data);
  } catch {
    // not JSON: handed over as text
  }
  const topic = topicOf(event, parsed);
  subscriptions.forEach((sub) => {
    if (sub.topics.some((t) => t === topic || topic.startsWith(`${t}:`))) sub.handler(topic, parsed);
  });
}

async function connect(topics: string): Promise<void> {
  const token = sessionToken();
  if (!token) return;
  const abort = new AbortController();
  controller = abort;
  setStatus('connecting');
  const headers: Record<string, string> = { accept: 'text/event-stream', authorization: `Bearer ${token}` };
  if (lastEventId) headers['last-event-id'] = lastEventId;
  try {
    const response = await fetch(`/v1/stream?topics=${encodeURIComponent(topics)}`, {
      headers,
      signal: abort.signal,
      cache: 'no-store',
    });
    if (response.status >= 400 && response.status < 500 && response.status !== 401 && response.status !== 429) {
      // This stockd has no stream (an older server answers 404, or 400 from its
      // `/{symbol}/{days}` route), or refuses these topics: the pages poll instead.
      controller = null;
      setStatus('unavailable');
      return;
    }
    if (!response.ok || !response.body) throw new Error(`stream answered ${response.status}`);
    setStatus('live');
    retryDelay = 1000;
    await read(response.body);
    throw new Error('stream ended');
  } catch (err) {
    if (abort.signal.aborted) return;
    controller = null;
    setStatus('retrying');
    retryTimer = window.setTimeout(() => {
      retryTimer = undefined;
      if (connectedTopics === topics) void connect(topics);
    }, retryDelay);
    retryDelay = Math.min(retryDelay * 2, 30_000);
    void err;
  }
}

/** The SSE wire format (https://html.spec.whatwg.org/multipage/server-sent-events.html). */
async function read(body: ReadableStream<Uint8Array>): Promise<void> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  let event = 'message';
  let data: string[] = [];
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true });
    let newline: number;
    while ((newline = buffer.search(/\r\n|\r|\n/)) >= 0) {
      const line = buffer.slice(0, newline);
      buffer = buffer.slice(newline + (buffer.startsWith('\r\n', newline) ? 2 : 1));
      if (line === '') {
        if (data.length) dispatch(event, data.join('\n'));
        event = 'message';
        data = [];
        continue;
      }
      if (line.startsWith(':')) continue; // heartbeat comment
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      let val = colon < 0 ? '' : line.slice(colon + 1);
      if (val.startsWith(' ')) val = val.slice(1);
      if (field === 'event') event = val;
      else if (field === 'data') data.push(val);
      else if (field === 'id' && !val.includes('\0')) lastEventId = val;
      else if (field === 'retry' && /^\d+$/.test(val)) retryDelay = Number(val);
    }
  }
}

window.addEventListener('stockd:session', schedule);
