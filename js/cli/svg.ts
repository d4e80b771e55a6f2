// Minimal SVG charts for evaluation (ROC) and benchmark reports, no dependencies.

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const PALETTE = ['#4e79a7', '#f28e2b', '#59a14f', '#e15759', '#76b7b2', '#edc948'];

export interface BarGroup { label: string; values: (number | null)[] }

/** Horizontal grouped bars: one group per row, one bar per series. */
export function barChart(title: string, series: string[], groups: BarGroup[], unit: string, marker?: { value: number; label: string }): string {
  const rowH = 14 * series.length + 10, left = 250, width = 520, top = 40;
  const max = Math.max(marker?.value ?? 0, ...groups.flatMap((g) => g.values.map((v) => v ?? 0))) * 1.05 || 1;
  const h = top + groups.length * rowH + 40;
  const out: string[] = [`<svg xmlns="http://www.w3.org/2000/svg" width="${left + width + 150}" height="${h}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="white"/>`, `<text x="10" y="20" font-size="14" font-weight="bold">${esc(title)}</text>`];
  series.forEach((s, i) => out.push(`<rect x="${left + width + 20}" y="${top + i * 16}" width="10" height="10" fill="${PALETTE[i % PALETTE.length]}"/><text x="${left + width + 35}" y="${top + 9 + i * 16}">${esc(s)}</text>`));
  groups.forEach((g, gi) => {
    const y0 = top + gi * rowH;
    out.push(`<text x="${left - 6}" y="${y0 + rowH / 2 + 3}" text-anchor="end">${esc(g.label)}</text>`);
    g.values.forEach((v, si) => {
      if (v === null) return;
      const w = (v / max) * width;
      out.push(`<rect x="${left}" y="${y0 + si * 14}" width="${w.toFixed(1)}" height="12" fill="${PALETTE[si % PALETTE.length]}"/>`,
        `<text x="${left + w + 3}" y="${y0 + si * 14 + 10}">${v.toFixed(v < 10 ? 2 : 1)}</text>`);
    });
  });
  if (marker) {
    const x = left + (marker.value / max) * width;
    out.push(`<line x1="${x}" y1="${top - 5}" x2="${x}" y2="${h - 30}" stroke="#333" stroke-dasharray="4 3"/>`,
      `<text x="${x}" y="${h - 18}" text-anchor="middle">${esc(marker.label)}</text>`);
  }
  out.push(`<text x="${left + width / 2}" y="${h - 4}" text-anchor="middle">${esc(unit)}</text>`, '</svg>');
  return out.join('\n');
}

export interface Curve { label: string; points: [number, number][] }

/** Line chart with optional log-scale x axis (ROC curves, scaling curves). */
export function lineChart(title: string, curves: Curve[], xLabel: string, yLabel: string, opts: { logX?: boolean; xMin?: number; xMax?: number; yMin?: number; yMax?: number } = {}): string {
  const W = 640, H = 420, L = 60, R = 20, T = 40, B = 50;
  const xs = curves.flatMap((c) => c.points.map((p) => p[0])), ys = curves.flatMap((c) => c.points.map((p) => p[1]));
  const tx = (v: number) => (opts.logX ? Math.log10(v) : v);
  const x0 = tx(opts.xMin ?? Math.min(...xs)), x1 = tx(opts.xMax ?? Math.max(...xs));
  const y0 = opts.yMin ?? Math.min(...ys), y1 = opts.yMax ?? Math.max(...ys);
  const px = (v: number) => L + ((tx(v) - x0) / (x1 - x0 || 1)) * (W - L - R);
  const py = (v: number) => H - B - ((v - y0) / (y1 - y0 || 1)) * (H - T - B);
  const out = [`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="white"/>`, `<text x="10" y="20" font-size="14" font-weight="bold">${esc(title)}</text>`,
    `<line x1="${L}" y1="${H - B}" x2="${W - R}" y2="${H - B}" stroke="#333"/>`, `<line x1="${L}" y1="${T}" x2="${L}" y2="${H - B}" stroke="#333"/>`];
  for (let i = 0; i <= 5; i++) {
    const yv = y0 + ((y1 - y0) * i) / 5;
    out.push(`<text x="${L - 4}" y="${py(yv) + 3}" text-anchor="end">${+yv.toFixed(3)}</text>`,
      `<line x1="${L}" y1="${py(yv)}" x2="${W - R}" y2="${py(yv)}" stroke="#eee"/>`);
  }
  if (opts.logX) {
    for (let e = Math.ceil(x0); e <= Math.floor(x1); e++) out.push(`<text x="${px(10 ** e)}" y="${H - B + 14}" text-anchor="middle">1e${e}</text>`);
  } else {
    for (let i = 0; i <= 5; i++) { const xv = x0 + ((x1 - x0) * i) / 5; out.push(`<text x="${px(xv)}" y="${H - B + 14}" text-anchor="middle">${+xv.toFixed(3)}</text>`); }
  }
  curves.forEach((c, i) => {
    const pts = c.points.filter((p) => !opts.logX || p[0] > 0).map((p) => `${px(p[0]).toFixed(1)},${py(p[1]).toFixed(1)}`).join(' ');
    out.push(`<polyline fill="none" stroke="${PALETTE[i % PALETTE.length]}" stroke-width="2" points="${pts}"/>`,
      `<text x="${W - R - 5}" y="${T + 14 * (i + 1)}" text-anchor="end" fill="${PALETTE[i % PALETTE.length]}">${esc(c.label)}</text>`);
  });
  out.push(`<text x="${(L + W - R) / 2}" y="${H - 12}" text-anchor="middle">${esc(xLabel)}</text>`,
    `<text x="14" y="${(T + H - B) / 2}" transform="rotate(-90 14 ${(T + H - B) / 2})" text-anchor="middle">${esc(yLabel)}</text>`, '</svg>');
  return out.join('\n');
}
