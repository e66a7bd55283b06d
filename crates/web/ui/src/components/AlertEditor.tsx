// Editing a stored alert (`PUT /v1/alerts/{id}`, the same body and checks as creating one):
// its threshold and the other parameters of its kind, how often it fires (with the cooldown),
// its channels and expiry. As when creating one, the backtest of the edited rule is drawn on the
// symbol's chart before it is saved (the stored rule's on opening). The API's 422 names the
// field at fault (`price: must be …`): each message is shown beside its field.

import { useEffect, useMemo, useRef, useState, type FormEvent, type ReactNode } from 'react';
import { api, fieldErrors, money, RULE_FIELDS, type Backtest, type Channel, type Daily, type Rule } from '../api';
import { useLoad } from '../hooks';
import { PriceChart, type PriceLine } from './PriceChart';

const LEVEL_KINDS = ['above', 'below', 'crosses_up', 'crosses_down', 'crosses'];
const MOVE_KINDS = ['moves_up_pct', 'moves_down_pct'];
const DAYS = 126;

type Draft = Record<string, string>;

/** `2026-12-03T14:30` in local time, as `<input type="datetime-local">` takes it. */
function localInput(iso: string | undefined): string {
  if (!iso) return '';
  const d = new Date(iso);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

function draftOf(rule: Rule): Draft {
  const text = (v: unknown) => (v == null ? '' : String(v));
  return {
    kind: rule.kind,
    price: text(rule.price),
    series: text(rule.series),
    value: text(rule.value),
    other: text(rule.other),
    percent: text(rule.percent),
    amount: text(rule.amount),
    trail: rule.amount != null ? 'amount' : 'percent',
    activation_price: text(rule.activation_price),
    side: rule.side ?? 'long',
    basis: rule.window_days != null ? 'window_days' : rule.window != null ? 'window' : 'vs_previous_close',
    window_days: text(rule.window_days),
    window: text(rule.window),
    frequency: rule.frequency ?? 'once',
    cooldown: text(rule.cooldown),
    expires_at: localInput(rule.expires_at),
  };
}

const number = (text: string) => (text.trim() === '' ? undefined : Number(text));

export function AlertEditor({ rule, onSaved, onClose }: { rule: Rule; onSaved: (rule: Rule) => void; onClose: () => void }) {
  const [draft, setDraft] = useState<Draft>(() => draftOf(rule));
  const [chosen, setChosen] = useState<string[]>(rule.channels ?? []);
  const [backtest, setBacktest] = useState<Backtest>();
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState(false);
  const daily = useLoad(() => api<Daily>(`/v1/stocks/${rule.symbol}/daily?days=${DAYS}`), `${rule.symbol}/${DAYS}`);
  const channels = useLoad(() => api<{ channels: Channel[] }>('/v1/me/channels'), 'channels');
  const heading = useRef<HTMLHeadingElement>(null);
  const firstDate = daily.data?.bars[0]?.date;

  const level = LEVEL_KINDS.includes(rule.kind);
  const move = MOVE_KINDS.includes(rule.kind);
  const trailing = rule.kind === 'trailing_stop';
  const crossing = draft.kind.startsWith('crosses');
  const set = (name: string) => (e: { target: { value: string } }) => setDraft((d) => ({ ...d, [name]: e.target.value }));

  const hasChannels = (channels.data?.channels.length ?? 0) > 0;
  // The fields shown now, each with room for its message; an error naming another field goes
  // to the form's own message.
  const shown = useMemo(() => {
    const f = ['frequency', 'expires_at'];
    if (level || move) f.push('kind');
    if (level) f.push(...(rule.series ? ['series', rule.other != null ? 'other' : 'value'] : ['price']));
    if (move) f.push('percent', draft.basis);
    if (trailing) f.push(draft.trail, 'activation_price', 'side');
    if (draft.frequency === 'every_time') f.push('cooldown');
    if (hasChannels) f.push('channels');
    return f;
  }, [level, move, trailing, rule.series, rule.other, draft.basis, draft.trail, draft.frequency, hasChannels]);

  const body = (): Record<string, unknown> => {
    const b: Record<string, unknown> = { symbol: rule.symbol, kind: draft.kind };
    if (level) {
      if (rule.series) {
        b.series = draft.series;
        if (rule.other != null) b.other = draft.other;
        else b.value = number(draft.value);
      } else {
        b.price = number(draft.price);
      }
    }
    if (move) {
      b.percent = number(draft.percent);
      if (draft.basis === 'window_days') b.window_days = number(draft.window_days);
      else if (draft.basis === 'window') b.window = draft.window;
      else b.vs_previous_close = true;
    }
    if (trailing) {
      b[draft.trail] = number(draft[draft.trail]);
      if (draft.activation_price.trim()) b.activation_price = number(draft.activation_price);
      b.side = draft.side;
    }
    b.frequency = draft.frequency;
    if (draft.frequency === 'every_time') b.cooldown = draft.cooldown;
    b.channels = chosen;
    if (draft.expires_at) b.expires_at = new Date(draft.expires_at).toISOString();
    return b;
  };

  const failed = (err: unknown) => {
    const found = fieldErrors(err, RULE_FIELDS);
    const general = Object.entries(found)
      .filter(([field]) => field && !shown.includes(field))
      .map(([, message]) => message);
    if (found['']) general.unshift(found['']);
    setErrors({ ...found, '': general.join('; ') });
  };

  // Bumped by every edit: a backtest answered for an older draft is not shown.
  const version = useRef(0);
  const preview = async (event?: FormEvent) => {
    event?.preventDefault();
    setErrors({});
    setBusy(true);
    const asked = version.current;
    try {
      const query = firstDate ? `?from=${firstDate}` : '';
      const result = await api<Backtest>(`/v1/alerts/backtest${query}`, { method: 'POST', json: body() });
      if (asked === version.current) setBacktest(result);
    } catch (err) {
      setBacktest(undefined);
      failed(err);
    } finally {
      setBusy(false);
    }
  };
  const save = async () => {
    setErrors({});
    setBusy(true);
    try {
      onSaved(await api<Rule>(`/v1/alerts/${rule.id}`, { method: 'PUT', json: body() }));
    } catch (err) {
      failed(err);
    } finally {
      setBusy(false);
    }
  };

  // The stored rule's backtest once the bars are in; any edit makes the shown one stale.
  const opened = useRef(false);
  useEffect(() => {
    if (firstDate && !opened.current) {
      opened.current = true;
      void preview();
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [firstDate]);
  const edited = useRef(false);
  useEffect(() => {
    if (edited.current) {
      version.current += 1;
      setBacktest(undefined);
    }
    edited.current = true;
  }, [draft, chosen]);
  useEffect(() => heading.current?.focus(), []);

  const lines = useMemo<PriceLine[]>(() => {
    const out: PriceLine[] = [];
    const price = Number(draft.price);
    if (level && !rule.series && price > 0) out.push({ price, title: `alert ${draft.kind.replace('_', ' ')}` });
    const activation = Number(draft.activation_price);
    if (trailing && activation > 0) out.push({ price: activation, title: 'activation', color: '#9c27b0' });
    if (trailing && rule.state?.trigger_level != null) out.push({ price: rule.state.trigger_level, title: 'trigger now', color: '#ef5350' });
    return out;
  }, [draft.price, draft.kind, draft.activation_price, level, trailing, rule.series, rule.state]);

  const field = (name: string, label: string, control: (props: FieldProps) => ReactNode, hint?: string) => {
    const id = `edit-${rule.id}-${name}`;
    const error = errors[name];
    const described = [hint && `${id}-hint`, error && `${id}-error`].filter(Boolean).join(' ') || undefined;
    return (
      <div className="field">
        <label htmlFor={id}>{label}</label>
        {control({ id, 'aria-invalid': error ? true : undefined, 'aria-describedby': described })}
        {hint && (
          <span id={`${id}-hint`} className="small muted">
            {hint}
          </span>
        )}
        {error && (
          <span id={`${id}-error`} className="small error" data-testid={`error-${name}`}>
            {error}
          </span>
        )}
      </div>
    );
  };
  const input = (name: string, type = 'text', extra: Record<string, unknown> = {}) => (props: FieldProps) => (
    <input {...props} type={type} value={draft[name]} onChange={set(name)} {...(type === 'number' ? { step: 'any', inputMode: 'decimal' } : {})} {...extra} />
  );
  const bars = daily.data?.bars;

  return (
    <section
      className="card editor"
      aria-labelledby={`edit-${rule.id}-title`}
      data-testid="alert-editor"
      onKeyDown={(e) => {
        if (e.key === 'Escape') {
          e.stopPropagation();
          onClose();
        }
      }}
    >
      <h2 id={`edit-${rule.id}-title`} ref={heading} tabIndex={-1}>
        Edit alert {rule.id}: {rule.symbol}
      </h2>
      <p className="small muted">
        Change it, preview its backtest on the chart, then save. Escape closes without saving.
        {rule.state?.last_price != null && ` Last price seen ${money(rule.state.last_price)}.`}
      </p>
      {daily.error && <p className="error">{daily.error}</p>}
      {bars && bars.length > 0 && (
        <PriceChart
          bars={bars}
          fires={backtest?.fires}
          lines={lines}
          label={`${rule.symbol} daily candles, ${bars.length} trading days, with the edited alert's backtest`}
          onPick={level && !rule.series ? (price) => setDraft((d) => ({ ...d, price: String(price) })) : undefined}
        />
      )}
      <form onSubmit={preview} className="edit-grid" aria-label={`Edit alert ${rule.id}`} noValidate>
        {(level || move) &&
          field('kind', 'Condition', (p) => (
            <select {...p} value={draft.kind} onChange={set('kind')}>
              {(level ? LEVEL_KINDS : MOVE_KINDS).map((k) => (
                <option key={k} value={k}>
                  {k.replace(/_/g, ' ')}
                </option>
              ))}
            </select>
          ))}
        {level && !rule.series && field('price', 'Price', input('price', 'number'), 'Or click the chart.')}
        {level && rule.series && field('series', 'Series', input('series'), 'e.g. rsi:14, sma:50, signal, sentiment')}
        {level && rule.series && rule.other != null && field('other', crossing ? 'Crosses series' : 'Other series', input('other'))}
        {level && rule.series && rule.other == null && field('value', 'Value', input('value', 'number'))}
        {trailing &&
          field('trail', 'Trail by', (p) => (
            <select {...p} value={draft.trail} onChange={set('trail')}>
              <option value="percent">Percent</option>
              <option value="amount">Amount</option>
            </select>
          ))}
        {move && field('percent', 'Percent', input('percent', 'number'))}
        {trailing && draft.trail === 'percent' && field('percent', 'Percent', input('percent', 'number'))}
        {trailing && draft.trail === 'amount' && field('amount', 'Amount', input('amount', 'number'))}
        {trailing && field('activation_price', 'Activation price (optional)', input('activation_price', 'number'))}
        {trailing &&
          field('side', 'Side', (p) => (
            <select {...p} value={draft.side} onChange={set('side')}>
              <option value="long">Long (tracks the peak)</option>
              <option value="short">Short (tracks the trough)</option>
            </select>
          ))}
        {move &&
          field('basis', 'Compared with', (p) => (
            <select {...p} value={draft.basis} onChange={set('basis')}>
              <option value="window_days">The close N stored bars back</option>
              <option value="window">The extreme within a duration</option>
              <option value="vs_previous_close">The previous close</option>
            </select>
          ))}
        {move && draft.basis === 'window_days' && field('window_days', 'Bars back', input('window_days', 'number'))}
        {move && draft.basis === 'window' && field('window', 'Duration', input('window'), 'e.g. 90m, 2h')}
        {field('frequency', 'How often', (p) => (
          <select {...p} value={draft.frequency} onChange={set('frequency')}>
            <option value="once">Once, then disarm</option>
            <option value="once_per_day">At most once a trading day</option>
            <option value="every_time">Every time, after a cooldown</option>
          </select>
        ))}
        {draft.frequency === 'every_time' && field('cooldown', 'Cooldown', input('cooldown'), 'e.g. 15m, 1h, 1d')}
        {field('expires_at', 'Expires (optional)', input('expires_at', 'datetime-local'))}
        {hasChannels && (
          <fieldset className="wide" aria-describedby={errors.channels ? `edit-${rule.id}-channels-error` : undefined}>
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
            {errors.channels && (
              <span id={`edit-${rule.id}-channels-error`} className="small error" data-testid="error-channels">
                {errors.channels}
              </span>
            )}
          </fieldset>
        )}
        {errors[''] && (
          <p className="error wide" role="alert">
            {errors['']}
          </p>
        )}
        {Object.keys(errors).some((k) => k && shown.includes(k)) && (
          <p className="error wide" role="alert">
            See the message under the field at fault.
          </p>
        )}
        <div className="row wide">
          <button type="submit" disabled={busy}>
            Preview backtest
          </button>
          <button type="button" className="primary" disabled={busy || !backtest} onClick={save}>
            Save changes
          </button>
          <button type="button" onClick={onClose}>
            Cancel
          </button>
        </div>
      </form>
      {backtest && (
        <div role="status" data-testid="edit-backtest">
          Would have fired <strong>{backtest.fires.length}</strong> time{backtest.fires.length === 1 ? '' : 's'} over {backtest.bars} bars
          {backtest.from ? ` (${backtest.from} to ${backtest.to})` : ''}; marked ▼ on the chart.
        </div>
      )}
    </section>
  );
}

interface FieldProps {
  id: string;
  'aria-invalid': true | undefined;
  'aria-describedby': string | undefined;
}
