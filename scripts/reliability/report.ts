/** Markdown tables for the reliability figures (what `npm run reliability` prints and the README quotes). */
import type { MatrixRow } from './faultMatrix.js';

export function table(headers: readonly string[], rows: readonly (readonly (string | number | boolean)[])[]): string {
  const line = (cells: readonly (string | number | boolean)[]) => `| ${cells.map(String).join(' | ')} |`;
  return [line(headers), line(headers.map(() => '---')), ...rows.map(line)].join('\n');
}

/** One line per fault × source, summed over points and modes. */
export function matrixTable(rows: readonly MatrixRow[]): string {
  const groups = new Map<string, MatrixRow[]>();
  for (const r of rows)
    groups.set(`${r.fault}\u0000${r.source}`, [...(groups.get(`${r.fault}\u0000${r.source}`) ?? []), r]);
  const sum = (list: MatrixRow[], key: keyof MatrixRow) => list.reduce((n, r) => n + (r[key] as number), 0);
  return table(
    [
      'Fault',
      'Source',
      'Cases (fired)',
      'Lost',
      'Stale latest',
      'Duplicate history',
      'History gaps',
      'Checkpoint regressions',
      'Bystanders not ok',
      'Not recovered after rerun',
      'Victim in faulted run',
    ],
    [...groups.values()].map((list) => {
      const first = list[0] as MatrixRow;
      const outcomes = [...new Set(list.map((r) => r.victimOutcome))].join(', ');
      return [
        first.fault,
        first.source,
        `${list.length} (${list.filter((r) => r.hits > 0).length})`,
        sum(list, 'lost'),
        sum(list, 'stale'),
        sum(list, 'duplicateHistory'),
        sum(list, 'historyGaps'),
        sum(list, 'checkpointRegressions'),
        sum(list, 'bystandersNotOk'),
        sum(list, 'notRecovered'),
        outcomes,
      ];
    }),
  );
}
