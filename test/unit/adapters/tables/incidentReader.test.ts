/**
 * The read API's case-insensitive prefilter (design §10): every casing of a value passes the `$filter` it builds
 * (checked by evaluating the filter's ranges ordinally, as the Table service does), it stays within the comparison
 * budget (the service allows 15 per filter), and a non-ASCII value gets no prefilter (matched in memory only).
 */
import { describe, expect, it } from '@jest/globals';
import { caseInsensitivePrefilter } from '../../../../shared/adapters/tables/incidentReader.js';

/** Evaluate a prefilter on `column` for a stored value: a disjunction of `eq` and `ge … and le …` terms. */
function passes(filter: string, column: string, stored: string): boolean {
  const unquote = (q: string) => q.slice(1, -1).replace(/''/g, "'");
  const literal = `('(?:[^']|'')*')`;
  const eq = new RegExp(`^${column} eq ${literal}$`);
  const range = new RegExp(`^\\(${column} ge ${literal} and ${column} le ${literal}\\)$`);
  const disjunction = filter.startsWith('((') || new RegExp(`^\\(${column} eq `).test(filter);
  const terms = (disjunction ? filter.slice(1, -1) : filter).split(/ or (?=\(|\w+ eq )/);
  return terms.some((term) => {
    const e = eq.exec(term);
    if (e) return stored === unquote(e[1] as string);
    const r = range.exec(term);
    if (!r) throw new Error(`unexpected term ${term}`);
    return stored >= unquote(r[1] as string) && stored <= unquote(r[2] as string);
  });
}

/**
 * Casings of `value`: all 2^letters of them up to 10 letters; beyond, lower, UPPER, the two alternations and every
 * single-letter flip of each (enough to hit every range boundary without 2^18 strings).
 */
function casingsOf(value: string): string[] {
  const letters = [...value].filter((c) => /[a-z]/i.test(c)).length;
  if (letters <= 10) {
    let out = [''];
    for (const c of value)
      out = /[a-z]/i.test(c) ? out.flatMap((p) => [p + c.toLowerCase(), p + c.toUpperCase()]) : out.map((p) => p + c);
    return out;
  }
  const flip = (c: string) => (c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase());
  const bases = [
    value.toLowerCase(),
    value.toUpperCase(),
    [...value].map((c, i) => (i % 2 ? c.toUpperCase() : c.toLowerCase())).join(''),
    [...value].map((c, i) => (i % 2 ? c.toLowerCase() : c.toUpperCase())).join(''),
  ];
  return bases.flatMap((b) => [b, ...[...b].map((_, i) => b.slice(0, i) + flip(b.charAt(i)) + b.slice(i + 1))]);
}

const comparisons = (filter: string) => (filter.match(/ (?:eq|ge|le) /g) ?? []).length;

describe('caseInsensitivePrefilter', () => {
  it.each([2, 4, 6, 13, 14])('lets every casing through within a budget of %i comparisons', (budget) => {
    for (const value of ['low', 'High', 'inProgress', 'informational', "o'brien-x", 'a', 'UnknownFutureValue']) {
      const filter = caseInsensitivePrefilter('status', value, budget) as string;
      expect(comparisons(filter)).toBeLessThanOrEqual(budget);
      expect(casingsOf(value).filter((stored) => !passes(filter, 'status', stored))).toEqual([]);
    }
  });

  it('is exact when the budget covers every letter, and keeps other values out where it can', () => {
    const exact = caseInsensitivePrefilter('severity', 'low', 15) as string;
    expect(comparisons(exact)).toBe(8);
    expect(passes(exact, 'severity', 'lOw')).toBe(true);
    for (const other of ['lows', 'LOWER', 'lo', 'Low '])
      expect([other, passes(exact, 'severity', other)]).toEqual([other, false]);
    const narrow = caseInsensitivePrefilter('severity', 'low', 4) as string;
    for (const other of ['Medium', 'high', 'Informational', 'none'])
      expect([other, passes(narrow, 'severity', other)]).toEqual([other, false]);
  });

  it('quotes values and gives none for non-ASCII values', () => {
    expect(caseInsensitivePrefilter('status', "it's", 2)).toBe("(status ge 'IT''S' and status le 'it''s')");
    expect(caseInsensitivePrefilter('status', '-', 2)).toBe("status eq '-'");
    expect(caseInsensitivePrefilter('status', 'résolu', 14)).toBeUndefined();
  });
});
