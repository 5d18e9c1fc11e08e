/**
 * A minimal log-log line chart written as SVG text (no chart library): one polyline per series,
 * circles on the data points, decade grid lines and a legend.
 *
 * @module
 */

/** One line of the chart. */
export interface ChartSeries {
  /** Legend label. */
  readonly name: string;
  /** Data points; x and y must be positive (log axes). Sorted by x when drawn. */
  readonly points: readonly { readonly x: number; readonly y: number }[];
  /** Draw dashed (e.g. for baselines and the copy kernel). */
  readonly dashed?: boolean;
}

/** A chart to draw. */
export interface Chart {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly series: readonly ChartSeries[];
}

const PALETTE = [
  "#1f77b4",
  "#d62728",
  "#2ca02c",
  "#ff7f0e",
  "#9467bd",
  "#8c564b",
  "#e377c2",
  "#17becf",
  "#7f7f7f",
  "#bcbd22",
  "#000000",
  "#aec7e8",
  "#ffbb78",
  "#98df8a",
];

/** Escapes text for SVG element content and attribute values. */
export function escapeXml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** Short engineering notation: 1.5k, 2.3M, 4G. */
export function formatSi(value: number): string {
  const units: [number, string][] = [[1e12, "T"], [1e9, "G"], [1e6, "M"], [1e3, "k"]];
  for (const [scale, suffix] of units) {
    if (Math.abs(value) >= scale) return `${Number((value / scale).toPrecision(3))}${suffix}`;
  }
  return `${Number(value.toPrecision(3))}`;
}

/**
 * Renders `chart` as a standalone SVG document. Throws when a point is not positive and finite
 * (it cannot sit on a log axis) or when there is no point at all.
 */
export function renderChart(chart: Chart): string {
  const width = 760;
  const legendRowHeight = 16;
  const legendColumns = 2;
  const legendRows = Math.ceil(chart.series.length / legendColumns);
  const plot = { left: 70, top: 36, width: 660, height: 300 };
  const height = plot.top + plot.height + 50 + legendRows * legendRowHeight + 10;
  const all = chart.series.flatMap((s) => s.points);
  if (all.length === 0) throw new RangeError(`renderChart: "${chart.title}": no data points`);
  for (const p of all) {
    if (!(p.x > 0 && p.y > 0 && Number.isFinite(p.x) && Number.isFinite(p.y))) {
      throw new RangeError(
        `renderChart: "${chart.title}": points must be positive and finite, received (${p.x}, ${p.y})`,
      );
    }
  }
  const decades = (values: number[]) => {
    let lo = Math.floor(Math.log10(Math.min(...values)));
    let hi = Math.ceil(Math.log10(Math.max(...values)));
    if (hi === lo) {
      lo -= 1;
      hi += 1;
    }
    return { lo, hi };
  };
  const xr = decades(all.map((p) => p.x));
  const yr = decades(all.map((p) => p.y));
  const px = (x: number) => plot.left + ((Math.log10(x) - xr.lo) / (xr.hi - xr.lo)) * plot.width;
  const py = (y: number) => plot.top + plot.height - ((Math.log10(y) - yr.lo) / (yr.hi - yr.lo)) * plot.height;
  const f = (v: number) => v.toFixed(1);
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ` +
      `font-family="sans-serif" font-size="11">`,
    `<rect x="0" y="0" width="${width}" height="${height}" fill="white"/>`,
    `<text x="${width / 2}" y="20" text-anchor="middle" font-size="14">${escapeXml(chart.title)}</text>`,
  );
  for (let d = xr.lo; d <= xr.hi; d++) {
    const x = f(px(10 ** d));
    out.push(
      `<line x1="${x}" y1="${plot.top}" x2="${x}" y2="${plot.top + plot.height}" stroke="#ddd"/>`,
      `<text x="${x}" y="${plot.top + plot.height + 14}" text-anchor="middle">${formatSi(10 ** d)}</text>`,
    );
  }
  for (let d = yr.lo; d <= yr.hi; d++) {
    const y = f(py(10 ** d));
    out.push(
      `<line x1="${plot.left}" y1="${y}" x2="${plot.left + plot.width}" y2="${y}" stroke="#ddd"/>`,
      `<text x="${plot.left - 6}" y="${y}" text-anchor="end" dominant-baseline="middle">${formatSi(10 ** d)}</text>`,
    );
  }
  out.push(
    `<rect x="${plot.left}" y="${plot.top}" width="${plot.width}" height="${plot.height}" fill="none" stroke="#333"/>`,
    `<text x="${plot.left + plot.width / 2}" y="${plot.top + plot.height + 32}" text-anchor="middle">` +
      `${escapeXml(chart.xLabel)}</text>`,
    `<text x="16" y="${plot.top + plot.height / 2}" text-anchor="middle" ` +
      `transform="rotate(-90 16 ${plot.top + plot.height / 2})">${escapeXml(chart.yLabel)}</text>`,
  );
  chart.series.forEach((s, i) => {
    const color = PALETTE[i % PALETTE.length];
    const pts = [...s.points].sort((a, b) => a.x - b.x);
    const dash = s.dashed ? ` stroke-dasharray="5,3"` : "";
    out.push(
      `<polyline fill="none" stroke="${color}" stroke-width="2"${dash} ` +
        `points="${pts.map((p) => `${f(px(p.x))},${f(py(p.y))}`).join(" ")}"><title>${
          escapeXml(s.name)
        }</title></polyline>`,
    );
    for (const p of pts) out.push(`<circle cx="${f(px(p.x))}" cy="${f(py(p.y))}" r="3" fill="${color}"/>`);
    const col = i % legendColumns;
    const row = Math.floor(i / legendColumns);
    const lx = plot.left + col * (plot.width / legendColumns);
    const ly = plot.top + plot.height + 50 + row * legendRowHeight;
    out.push(
      `<line x1="${lx}" y1="${ly}" x2="${lx + 24}" y2="${ly}" stroke="${color}" stroke-width="2"${dash}/>`,
      `<text x="${lx + 30}" y="${ly}" dominant-baseline="middle">${escapeXml(s.name)}</text>`,
    );
  });
  out.push(`</svg>`);
  return out.join("\n") + "\n";
}
