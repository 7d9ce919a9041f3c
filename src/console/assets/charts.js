// A time-series chart (uPlot) that follows its data: created once, then given new data in place.
import uPlot from './vendor/uplot.js';
import { useEffect, useRef } from './vendor/hooks.js';
import { html } from './api.js';

const palette = ['#2563eb', '#16a34a', '#dc2626', '#9333ea', '#ea580c'];

/** `data`: [times in seconds, ...series]; `series`: labels, in the same order. */
/** `minSpan`: the x axis covers at least this many seconds, ending at the last point (or now). */
export function TimeChart({ title, data, series, height = 200, minSpan = 300 }) {
  const box = useRef(null);
  const chart = useRef(null);
  useEffect(() => {
    if (!box.current) return undefined;
    const width = Math.max(300, box.current.clientWidth || 600);
    chart.current = new uPlot(
      {
        width,
        height,
        series: [{}, ...series.map((label, i) => ({ label, stroke: palette[i % palette.length], width: 2 }))],
        axes: [{}, { size: 60 }],
        scales: {
          x: {
            time: true,
            range: (_u, min, max) => {
              const end = Math.max(max ?? 0, Date.now() / 1000);
              return [Math.min(min ?? end, end - minSpan), end];
            },
          },
          y: { range: (_u, _min, max) => [0, Math.max(1, max ?? 1) * 1.1] },
        },
        legend: { live: false },
      },
      data,
      box.current,
    );
    return () => {
      chart.current?.destroy();
      chart.current = null;
    };
  }, [series.join('|')]);
  useEffect(() => {
    const current = chart.current;
    if (!current) return;
    current.setData(data);
    // uPlot ranges a single point over years: show at least `minSpan` seconds, ending now.
    const times = data[0] ?? [];
    const end = Math.max(times.at(-1) ?? 0, Date.now() / 1000);
    current.setScale('x', { min: Math.min(times[0] ?? end, end - minSpan), max: end });
  }, [data]);
  return html`<figure class="chart">
    <figcaption>${title}</figcaption>
    <div ref=${box}></div>
  </figure>`;
}
