// The symbol chart: candlesticks with volume (lightweight-charts), optional SMA/EMA/Bollinger
// overlays, RSI and MACD in panes below, backtest markers and price lines (an alert's level, a
// trailing stop's trigger). lightweight-charts is Apache-2.0 by TradingView: its attribution logo
// stays on (it links to tradingview.com, as the licence asks) and the page footer names it.

import { useEffect, useRef } from 'react';
import {
  CandlestickSeries,
  HistogramSeries,
  LineSeries,
  createChart,
  createSeriesMarkers,
  type IChartApi,
  type ISeriesApi,
  type SeriesMarker,
  type Time,
} from 'lightweight-charts';
import type { Bar, Fire, Indicators } from '../api';

export interface PriceLine {
  price: number;
  title: string;
  color?: string;
}

interface Props {
  bars: Bar[];
  indicators?: Indicators;
  fires?: Fire[];
  lines?: PriceLine[];
  label: string;
  onPick?: (price: number) => void;
}

const COLORS = ['#2962ff', '#e91e63', '#ff9800', '#009688', '#9c27b0', '#795548'];

function dark(): boolean {
  return window.matchMedia('(prefers-color-scheme: dark)').matches;
}

function themeOptions() {
  const isDark = dark();
  return {
    layout: {
      background: { color: isDark ? '#15181d' : '#ffffff' },
      textColor: isDark ? '#d7dae0' : '#1f2328',
      attributionLogo: true,
    },
    grid: {
      vertLines: { color: isDark ? '#262a31' : '#eef0f3' },
      horzLines: { color: isDark ? '#262a31' : '#eef0f3' },
    },
  };
}

export function PriceChart({ bars, indicators, fires, lines, label, onPick }: Props) {
  const box = useRef<HTMLDivElement>(null);
  const chart = useRef<IChartApi | null>(null);
  const candles = useRef<ISeriesApi<'Candlestick'> | null>(null);
  const pick = useRef(onPick);
  pick.current = onPick;

  // The chart and its data series: rebuilt when the data changes (a few hundred bars: cheap).
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const c = createChart(el, {
      ...themeOptions(),
      autoSize: true,
      rightPriceScale: { borderVisible: false },
      timeScale: { borderVisible: false },
    });
    chart.current = c;
    const candle = c.addSeries(CandlestickSeries, {
      upColor: '#26a69a',
      downColor: '#ef5350',
      borderVisible: false,
      wickUpColor: '#26a69a',
      wickDownColor: '#ef5350',
    });
    candle.setData(bars.map((b) => ({ time: b.date as Time, open: b.open, high: b.high, low: b.low, close: b.close })));
    candles.current = candle;
    const volume = c.addSeries(HistogramSeries, { priceScaleId: 'volume', priceFormat: { type: 'volume' }, lastValueVisible: false, priceLineVisible: false });
    volume.priceScale().applyOptions({ scaleMargins: { top: 0.8, bottom: 0 } });
    volume.setData(
      bars.map((b) => ({ time: b.date as Time, value: b.volume, color: b.close >= b.open ? 'rgba(38,166,154,0.45)' : 'rgba(239,83,80,0.45)' })),
    );

    if (indicators) {
      let color = 0;
      const panes = new Map<string, number>();
      for (const column of indicators.series) {
        const pane = column.indicator.startsWith('rsi') ? 'rsi' : column.indicator.startsWith('macd') ? 'macd' : 'price';
        if (pane !== 'price' && !panes.has(pane)) panes.set(pane, panes.size + 1);
        const paneIndex = pane === 'price' ? 0 : (panes.get(pane) as number);
        const points = indicators.dates.flatMap((date, i) => {
          const value = column.values[i];
          return value == null ? [] : [{ time: date as Time, value }];
        });
        const common = { lineWidth: 1 as const, priceLineVisible: false, lastValueVisible: false, title: `${column.indicator}.${column.output}` };
        if (column.output === 'histogram') {
          const hist = c.addSeries(HistogramSeries, { ...common, color: '#90a4ae' }, paneIndex);
          hist.setData(points.map((p) => ({ ...p, color: p.value >= 0 ? 'rgba(38,166,154,0.6)' : 'rgba(239,83,80,0.6)' })));
        } else {
          const line = c.addSeries(LineSeries, { ...common, color: COLORS[color++ % COLORS.length] }, paneIndex);
          line.setData(points);
          if (pane === 'rsi' && column.output === 'rsi') {
            line.createPriceLine({ price: 70, color: '#888', lineWidth: 1, lineStyle: 2, axisLabelVisible: false, title: '70' });
            line.createPriceLine({ price: 30, color: '#888', lineWidth: 1, lineStyle: 2, axisLabelVisible: false, title: '30' });
          }
        }
      }
      c.panes().forEach((pane, i) => pane.setStretchFactor(i === 0 ? 3 : 1));
    }
    c.timeScale().fitContent();

    const mq = window.matchMedia('(prefers-color-scheme: dark)');
    const retheme = () => c.applyOptions(themeOptions());
    mq.addEventListener('change', retheme);
    c.subscribeClick((param) => {
      if (!pick.current || param.point == null || param.paneIndex !== 0) return;
      const price = candle.coordinateToPrice(param.point.y);
      if (price != null && price > 0) pick.current(Math.round(price * 100) / 100);
    });
    return () => {
      mq.removeEventListener('change', retheme);
      candles.current = null;
      chart.current = null;
      c.remove();
    };
  }, [bars, indicators]);

  // Backtest markers and price lines change without rebuilding the chart.
  useEffect(() => {
    const candle = candles.current;
    if (!candle) return;
    const markers: SeriesMarker<Time>[] = (fires ?? []).map((fire) => ({
      time: fire.date as Time,
      position: 'aboveBar',
      shape: 'arrowDown',
      color: '#ff6d00',
    }));
    const plugin = createSeriesMarkers(candle, markers);
    const created = (lines ?? []).map((line) =>
      candle.createPriceLine({ price: line.price, color: line.color ?? '#ff6d00', lineWidth: 1, lineStyle: 2, axisLabelVisible: true, title: line.title }),
    );
    return () => {
      // After a rebuild the old chart is already removed (and its series disposed).
      if (candles.current !== candle) return;
      plugin.detach();
      created.forEach((line) => candle.removePriceLine(line));
    };
  }, [fires, lines, bars, indicators]);

  return (
    <div
      ref={box}
      className="chart"
      role="img"
      aria-label={label}
      data-testid="price-chart"
      data-markers={fires?.length ?? 0}
      data-bars={bars.length}
    />
  );
}
