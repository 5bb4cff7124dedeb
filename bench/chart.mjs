// Renders docs/benchmarks/latest.json as a small SVG (no dependency): one row per load, req/s on
// the left and p99 latency on the right, with the issue's targets drawn as red ticks.
//
//   node bench/chart.mjs [docs/benchmarks/latest.json] [docs/benchmarks/chart.svg]
import { readFile, writeFile } from 'node:fs/promises';

const ROW = 26;
const LABEL = 330;
const PANEL = 250;
const GAP = 40;
const TOP = 72;
const MAX_LABEL = 52;

const escape = (text) =>
  String(text).replace(
    /[&<>"]/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c],
  );

/** The target tick for a row, by what it measures (same rules as bench/run.mjs). */
function targetsFor(row) {
  const name = row.name;
  if (/status poll \((service|3 instances)\)/.test(name)) return { rps: 8000, p99: 30 };
  if (/token|issue/i.test(name)) return { rps: 5000, p99: 30 };
  if (/^pay/i.test(name)) return { rps: 800, p99: 100 };
  if (/^(hold|reserv)/i.test(name) && !/race|flow/i.test(name)) return { rps: 1500 };
  return {};
}

function niceMax(value) {
  if (!(value > 0)) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 2.5, 5, 10]) if (step * magnitude >= value) return step * magnitude;
  return 10 * magnitude;
}

function panel(x, title, rows, value, target, unit) {
  const max = niceMax(Math.max(...rows.map((r) => Math.max(value(r) ?? 0, target(r) ?? 0))));
  const height = rows.length * ROW;
  const parts = [
    `<text x="${x}" y="${TOP - 14}" class="title">${escape(title)}</text>`,
    `<line x1="${x}" y1="${TOP - 4}" x2="${x}" y2="${TOP + height}" class="axis"/>`,
  ];
  for (let i = 0; i <= 4; i++) {
    const gx = x + (PANEL * i) / 4;
    parts.push(
      `<line x1="${gx}" y1="${TOP - 4}" x2="${gx}" y2="${TOP + height}" class="grid"/>`,
      `<text x="${gx}" y="${TOP + height + 14}" class="tick">${(max * i) / 4}${unit}</text>`,
    );
  }
  rows.forEach((row, i) => {
    const y = TOP + i * ROW;
    const v = value(row) ?? 0;
    const w = Math.max(1, (PANEL * v) / max);
    parts.push(
      `<rect x="${x}" y="${y + 4}" width="${w.toFixed(1)}" height="${ROW - 10}" class="${row.scenario === 'baseline' ? 'bar base' : 'bar'}"/>`,
      `<text x="${x + w + 4}" y="${y + ROW / 2 + 4}" class="value">${escape(v)}</text>`,
    );
    const t = target(row);
    if (t !== undefined) {
      const tx = x + (PANEL * t) / max;
      parts.push(`<line x1="${tx}" y1="${y + 1}" x2="${tx}" y2="${y + ROW - 3}" class="target"/>`);
    }
  });
  return parts.join('\n');
}

export function renderChart(results) {
  const rows = results.rows;
  const width = LABEL + 2 * PANEL + GAP + 70;
  const height = TOP + rows.length * ROW + 40;
  const labels = rows.map((row, i) => {
    const full = `${row.scenario}: ${row.name}`;
    const text = full.length > MAX_LABEL ? `${full.slice(0, MAX_LABEL - 1)}…` : full;
    return `<text x="${LABEL - 8}" y="${TOP + i * ROW + ROW / 2 + 4}" class="label">${escape(text)}</text>`;
  });
  const subtitle = `${results.generatedAt} · ${results.machine.cpus} cores · ${results.instances} instance(s) · ${results.durationSeconds} s per load · red tick = target`;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif" font-size="12">
<style>
.title { font-weight: 600; font-size: 13px; }
.sub { fill: #555; font-size: 11px; }
.label { text-anchor: end; fill: #222; }
.value { fill: #222; font-size: 11px; }
.tick { text-anchor: middle; fill: #666; font-size: 10px; }
.axis { stroke: #444; }
.grid { stroke: #e3e3e3; }
.bar { fill: #3b7dd8; }
.base { fill: #9aa5b1; }
.target { stroke: #d62728; stroke-width: 2; }
</style>
<rect width="100%" height="100%" fill="#fff"/>
<text x="8" y="16" class="title">Benchmarks (npm run bench)</text>
<text x="8" y="30" class="sub">${escape(subtitle)}</text>
${labels.join('\n')}
${panel(
  LABEL,
  'req/s',
  rows,
  (r) => r.rps,
  (r) => targetsFor(r).rps,
  '',
)}
${panel(
  LABEL + PANEL + GAP,
  'p99 latency',
  rows,
  (r) => r.p99,
  (r) => targetsFor(r).p99,
  ' ms',
)}
</svg>
`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const input = process.argv[2] ?? 'docs/benchmarks/latest.json';
  const output = process.argv[3] ?? 'docs/benchmarks/chart.svg';
  await writeFile(output, renderChart(JSON.parse(await readFile(input, 'utf8'))));
  console.log(`wrote ${output}`);
}
