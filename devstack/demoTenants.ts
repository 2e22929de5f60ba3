/**
 * Deterministic tenant specs for the demo and benchmarks: GUIDs derived from the seed, familiar sample names.
 */
import { Prng } from './prng.js';
import type { SimTenantSpec } from './world.js';

const NAMES = [
  'Contoso Ltd',
  'Fabrikam Inc',
  'Northwind Traders',
  'Adventure Works',
  'Tailspin Toys',
  'Wide World Importers',
  'Woodgrove Bank',
  'Litware Inc',
  'Proseware Inc',
  'Lucerne Publishing',
  'Alpine Ski House',
  'Coho Winery',
  'Fourth Coffee',
  'Graphic Design Institute',
  'Humongous Insurance',
  "Margie's Travel",
  'Relecloud',
  'Trey Research',
  'VanArsdel Ltd',
  'Wingtip Toys',
];

export interface DemoTenantOptions {
  readonly seed?: number;
  /** Incidents per tenant (default 20). */
  readonly incidents?: number;
  readonly alertsPerIncident?: number;
}

/** `count` tenant specs; beyond the named list, names get a number (`Contoso Ltd 2`). */
export function demoTenants(count: number, options: DemoTenantOptions = {}): SimTenantSpec[] {
  const prng = new Prng(`demo-tenants:${options.seed ?? 1}`);
  return Array.from({ length: count }, (_, i) => {
    const base = NAMES[i % NAMES.length] as string;
    const round = Math.floor(i / NAMES.length);
    return {
      tenantId: prng.guid(),
      displayName: round === 0 ? base : `${base} ${round + 1}`,
      ...(options.incidents !== undefined ? { incidents: options.incidents } : {}),
      ...(options.alertsPerIncident !== undefined ? { alertsPerIncident: options.alertsPerIncident } : {}),
    };
  });
}
