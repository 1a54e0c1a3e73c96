/** A dependency-free SVG line chart: one panel per metric, x on a log scale, a legend. */
export interface Series {
  name: string;
  color: string;
  dashed?: boolean;
  /** [x, y] points; y null = no value */
  points: [number, number | null][];
}

export interface Panel {
  title: string;
  yLabel: string;
  series: Series[];
}

const escape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function niceStep(range: number): number {
  const raw = range / 5;
  const power = 10 ** Math.floor(Math.log10(raw || 1));
  const scaled = raw / power;
  return (scaled <= 1 ? 1 : scaled <= 2 ? 2 : scaled <= 5 ? 5 : 10) * power;
}

export function lineChart(options: {
  title: string;
  subtitle: string;
  xLabel: string;
  xTicks: number[];
  panels: Panel[];
  logY?: boolean;
}): string {
  const panelWidth = 420;
  const panelHeight = 300;
  const margin = { left: 64, right: 16, top: 70, bottom: 110 };
  const width = margin.left + options.panels.length * (panelWidth + margin.left) - margin.left + margin.right;
  const height = margin.top + panelHeight + margin.bottom;
  const logX = (x: number) => Math.log10(x);
  const [xMin, xMax] = [logX(Math.min(...options.xTicks)), logX(Math.max(...options.xTicks))];
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${width / 2}" y="24" text-anchor="middle" font-size="16" font-weight="bold">${escape(options.title)}</text>`,
    `<text x="${width / 2}" y="44" text-anchor="middle" fill="#555">${escape(options.subtitle)}</text>`,
  ];
  options.panels.forEach((panel, index) => {
    const left = margin.left + index * (panelWidth + margin.left);
    const top = margin.top;
    const values = panel.series.flatMap((series) =>
      series.points.flatMap(([, y]) => (y === null ? [] : [y])),
    );
    const px = (x: number) => left + ((logX(x) - xMin) / (xMax - xMin || 1)) * panelWidth;
    let py: (y: number) => number;
    let ticks: { y: number; label: string; strong: boolean }[] = [];
    if (options.logY) {
      // log scale: values <= 0 cannot be drawn (they are left out; the tables have them)
      const positive = values.filter((v) => v > 0);
      const lo = Math.floor(Math.log10(Math.min(1, ...positive)));
      const hi = Math.ceil(Math.log10(Math.max(10, ...positive)));
      py = (y: number) => top + panelHeight - ((Math.log10(y) - lo) / (hi - lo || 1)) * panelHeight;
      for (let e = lo; e <= hi; e++) {
        for (const m of [1, 2, 5]) {
          const y = m * 10 ** e;
          if (Math.log10(y) <= hi + 1e-9)
            ticks.push({ y, label: y >= 1 ? String(y) : y.toPrecision(1), strong: m === 1 });
        }
      }
    } else {
      let yMin = Math.min(0, ...values);
      let yMax = Math.max(1, ...values);
      const step = niceStep(yMax - yMin);
      yMin = Math.floor(yMin / step) * step;
      yMax = Math.ceil(yMax / step) * step;
      py = (y: number) => top + panelHeight - ((y - yMin) / (yMax - yMin || 1)) * panelHeight;
      ticks = [];
      for (let y = yMin; y <= yMax + step / 2; y += step)
        ticks.push({
          y,
          label: Math.abs(y) < 1e-9 ? '0' : String(Math.round(y * 100) / 100),
          strong: Math.abs(y) < 1e-9,
        });
    }
    parts.push(
      `<text x="${left + panelWidth / 2}" y="${top - 10}" text-anchor="middle" font-weight="bold">${escape(panel.title)}</text>`,
    );
    for (const tick of ticks) {
      parts.push(
        `<line x1="${left}" x2="${left + panelWidth}" y1="${py(tick.y)}" y2="${py(tick.y)}" stroke="${tick.strong ? '#bbb' : '#eee'}"/>`,
        `<text x="${left - 6}" y="${py(tick.y) + 4}" text-anchor="end" fill="#444">${tick.label}</text>`,
      );
    }
    for (const x of options.xTicks) {
      parts.push(
        `<line x1="${px(x)}" x2="${px(x)}" y1="${top}" y2="${top + panelHeight}" stroke="#f0f0f0"/>`,
        `<text x="${px(x)}" y="${top + panelHeight + 18}" text-anchor="middle" fill="#444">${x}</text>`,
      );
    }
    parts.push(
      `<rect x="${left}" y="${top}" width="${panelWidth}" height="${panelHeight}" fill="none" stroke="#888"/>`,
      `<text x="${left + panelWidth / 2}" y="${top + panelHeight + 38}" text-anchor="middle">${escape(options.xLabel)}</text>`,
      `<text transform="translate(${left - 46},${top + panelHeight / 2}) rotate(-90)" text-anchor="middle">${escape(panel.yLabel)}</text>`,
    );
    for (const series of panel.series) {
      const points = series.points.filter(
        (point): point is [number, number] => point[1] !== null && (!options.logY || point[1] > 0),
      );
      if (points.length === 0) continue;
      const path = points
        .map(([x, y], i) => `${i === 0 ? 'M' : 'L'}${px(x).toFixed(1)},${py(y).toFixed(1)}`)
        .join(' ');
      parts.push(
        `<path d="${path}" fill="none" stroke="${series.color}" stroke-width="2.5"${series.dashed ? ' stroke-dasharray="6 4"' : ''}/>`,
      );
      for (const [x, y] of points) {
        parts.push(
          `<circle cx="${px(x).toFixed(1)}" cy="${py(y).toFixed(1)}" r="4" fill="${series.color}"><title>${escape(`${series.name}: ${y} at ${x}`)}</title></circle>`,
        );
      }
    }
  });
  const legendSeries = options.panels[0]?.series ?? [];
  const legendTop = margin.top + panelHeight + 60;
  legendSeries.forEach((series, i) => {
    const x = margin.left + (i % 4) * 230;
    const y = legendTop + Math.floor(i / 4) * 20;
    parts.push(
      `<line x1="${x}" x2="${x + 28}" y1="${y - 4}" y2="${y - 4}" stroke="${series.color}" stroke-width="2.5"${series.dashed ? ' stroke-dasharray="6 4"' : ''}/>`,
      `<text x="${x + 36}" y="${y}">${escape(series.name)}</text>`,
    );
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
