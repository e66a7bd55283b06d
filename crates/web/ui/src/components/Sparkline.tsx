// A small SVG line of recent closes (no chart library: a card shows a few dozen points).

export function Sparkline({ values, label }: { values: number[]; label: string }) {
  if (values.length < 2) return <svg className="sparkline" role="img" aria-label={`${label}: not enough data`} />;
  const width = 120;
  const height = 36;
  const min = Math.min(...values);
  const max = Math.max(...values);
  const span = max - min || 1;
  const points = values
    .map((v, i) => `${((i / (values.length - 1)) * width).toFixed(1)},${(height - 2 - ((v - min) / span) * (height - 4)).toFixed(1)}`)
    .join(' ');
  const up = values[values.length - 1] >= values[0];
  return (
    <svg className={`sparkline ${up ? 'up' : 'down'}`} viewBox={`0 0 ${width} ${height}`} role="img" aria-label={label} preserveAspectRatio="none">
      <polyline points={points} fill="none" strokeWidth="1.5" />
    </svg>
  );
}
