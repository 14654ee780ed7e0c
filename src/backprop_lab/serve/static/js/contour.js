// Boundary lines on a grid: marching squares at a level, and edges between unlike cells.

/**
 * Line segments where a scalar grid crosses `level` (marching squares, linear interpolation).
 * @param {ArrayLike<number>} values n*n, row 0 at the top
 * @param {number} n
 * @param {number} level
 * @returns {number[]} flat [x0, y0, x1, y1, ...] in cell units (cell centres at i + 0.5)
 */
export function isoline(values, n, level) {
  const out = [];
  const at = (a, b) => (level - a) / (b - a);
  for (let i = 0; i + 1 < n; i++) {
    for (let j = 0; j + 1 < n; j++) {
      const tl = values[i * n + j];
      const tr = values[i * n + j + 1];
      const bl = values[(i + 1) * n + j];
      const br = values[(i + 1) * n + j + 1];
      const code = (tl > level ? 8 : 0) | (tr > level ? 4 : 0) | (br > level ? 2 : 0) | (bl > level ? 1 : 0);
      if (code === 0 || code === 15) continue;
      const x = j + 0.5;
      const y = i + 0.5;
      const top = [x + at(tl, tr), y];
      const right = [x + 1, y + at(tr, br)];
      const bottom = [x + at(bl, br), y + 1];
      const left = [x, y + at(tl, bl)];
      const pairs = {
        1: [left, bottom], 2: [bottom, right], 3: [left, right], 4: [top, right],
        5: [left, top, bottom, right], 6: [top, bottom], 7: [left, top],
        8: [left, top], 9: [top, bottom], 10: [top, right, left, bottom], 11: [top, right],
        12: [left, right], 13: [bottom, right], 14: [left, bottom],
      }[code];
      for (let k = 0; k < pairs.length; k += 2) out.push(...pairs[k], ...pairs[k + 1]);
    }
  }
  return out;
}

/**
 * Segments along the cell edges between neighbouring cells of different labels.
 * @param {ArrayLike<number>} labels n*n
 * @param {number} n
 * @returns {number[]} flat [x0, y0, x1, y1, ...] in cell units
 */
export function labelEdges(labels, n) {
  const out = [];
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const v = labels[i * n + j];
      if (j + 1 < n && labels[i * n + j + 1] !== v) out.push(j + 1, i, j + 1, i + 1);
      if (i + 1 < n && labels[(i + 1) * n + j] !== v) out.push(j, i + 1, j + 1, i + 1);
    }
  }
  return out;
}

/** Stroke flat segments (cell units) on a 2D context scaled by `scale` pixels per cell. */
export function strokeSegments(ctx, segments, scale) {
  ctx.beginPath();
  for (let k = 0; k < segments.length; k += 4) {
    ctx.moveTo(segments[k] * scale, segments[k + 1] * scale);
    ctx.lineTo(segments[k + 2] * scale, segments[k + 3] * scale);
  }
  ctx.stroke();
}
