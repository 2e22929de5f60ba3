/**
 * The legacy Microsoft 365 Defender `GET {m365d}/api/incidents` as an IncidentSource (design §6 step 4).
 * No nextLink, no documented order, `$top` ≤ 100 and `$skip` that drifts while incidents change: the window
 * is walked in adaptive time slices instead (legacySlicing.ts), so correctness never depends on order.
 * The checkpoint advances only after a slice is proven complete. Records without a usable `incidentId` or
 * `lastUpdateTime` are returned as `rejected` (they still count as answers when judging whether a slice is whole).
 */
import { CollectorError } from '../domain/errors.js';
import { laterOf, toEpochMs, toFixedWidth } from '../domain/time.js';
import type { FetchedIncident, IncidentPage, IncidentSource, PageOptions, SyncWindow } from '../ports.js';
import { scopeOf, tenantRequest, type SourceClientOptions } from './http.js';
import { LegacySlicer, type LegacySlice } from './legacySlicing.js';
import { incidentRecords, odataUrl, odataValue, type IncidentRecords } from './odata.js';
import { ErrorCode } from '../domain/errorCodes.js';

export const M365D_READ_ROLES = ['Incident.Read.All', 'Incident.ReadWrite.All'] as const;
export const M365D_MAX_PAGE_SIZE = 100;
/** Pages of one overfull millisecond before giving up (10,000 incidents in 1 ms is not a real tenant). */
const MAX_PAGES_IN_ONE_MS = 100;

export interface M365dIncidentSourceOptions extends SourceClientOptions {
  readonly pageSize?: number;
}

export class M365dIncidentSource implements IncidentSource {
  /** The roles any one of which allows reading (for the token provider, built before the source). */
  static readonly READ_ROLES: readonly string[] = M365D_READ_ROLES;
  readonly kind = 'm365d' as const;
  readonly scope: string;
  readonly readRoles: readonly string[] = M365D_READ_ROLES;
  private readonly base: string;
  private readonly pageSize: number;
  private readonly options: M365dIncidentSourceOptions;

  constructor(options: M365dIncidentSourceOptions) {
    this.options = options;
    this.base = `${options.endpoint.replace(/\/+$/, '')}/api/incidents`;
    this.scope = scopeOf(options.endpoint);
    this.pageSize = Math.min(M365D_MAX_PAGE_SIZE, Math.max(2, options.pageSize ?? M365D_MAX_PAGE_SIZE));
  }

  async probe(tenantId: string, options?: PageOptions): Promise<void> {
    const body = await this.options.http.getJson(
      odataUrl(this.base, [['$top', 1]]),
      tenantRequest(this.options, tenantId, options),
    );
    odataValue(body, 'Legacy incidents');
  }

  async *pages(tenantId: string, window: SyncWindow, options?: PageOptions): AsyncGenerator<IncidentPage> {
    const slicer = new LegacySlicer(toEpochMs(window.from), toEpochMs(window.to), { top: this.pageSize });
    let checkpoint: string | undefined;
    for (let slice = slicer.next(); slice !== undefined; slice = slicer.next()) {
      if (slice.paged)
        this.options.logger?.warn('m365d.instant_paged', { tenantId, instant: new Date(slice.startMs).toISOString() });
      let sliceMax: string | undefined;
      // `skip` stays 0 except for a paged millisecond (see below).
      for (let skip = 0; ; skip += this.pageSize) {
        if (skip >= MAX_PAGES_IN_ONE_MS * this.pageSize) {
          throw new CollectorError(
            `More than ${skip} legacy incidents share one millisecond (${new Date(slice.startMs).toISOString()}).`,
            { code: ErrorCode.M365D_INSTANT_OVERFLOW, kind: 'permanent' },
          );
        }
        const { incidents, rejected } = await this.query(tenantId, window, slice, skip, options);
        const extra = rejected.length > 0 ? { rejected } : {};
        // Records answered, rejected ones included: what decides whether the slice was answered whole.
        const answered = incidents.length + rejected.length;
        sliceMax = laterOf(sliceMax, maxLastUpdate(incidents));
        if (answered < this.pageSize) {
          // Complete: every incident of the slice was answered, and every earlier slice is complete.
          slicer.complete(slice, skip + answered);
          checkpoint = laterOf(checkpoint, sliceMax);
          if (answered > 0 || skip > 0)
            yield { incidents, ...extra, ...(checkpoint !== undefined ? { checkpoint } : {}) };
          break;
        }
        if (!slice.paged) {
          // Not proven complete: keep what came (re-fetched later, idempotently), no checkpoint, split.
          slicer.overflow(
            slice,
            incidents.map((i) => toEpochMs(i.lastUpdateTime)),
          );
          yield { incidents, ...extra };
          break;
        }
        // One millisecond holding a full page cannot be split: page it with `$skip`. Within a single
        // millisecond `$skip` is stable enough — only an incident changing in that very millisecond could
        // shift the offsets, and it then reappears at its new time.
        yield { incidents, ...extra };
      }
    }
  }

  private async query(
    tenantId: string,
    window: SyncWindow,
    slice: LegacySlice,
    skip: number,
    options?: PageOptions,
  ): Promise<IncidentRecords> {
    const body = await this.options.http.getJson(
      this.sliceUrl(window, slice, skip),
      tenantRequest(this.options, tenantId, options),
    );
    return incidentRecords(body, 'Legacy incidents', 'incidentId', 'lastUpdateTime');
  }

  /** ms-aligned `ge … and lt …`, except the window's own ends, which keep their full precision. */
  private sliceUrl(window: SyncWindow, slice: LegacySlice, skip: number): string {
    const lower = slice.first ? toFixedWidth(window.from) : msInstant(slice.startMs);
    const upper = slice.last
      ? `lastUpdateTime le ${toFixedWidth(window.to)}`
      : `lastUpdateTime lt ${msInstant(slice.endMs)}`;
    return odataUrl(this.base, [
      ['$filter', `lastUpdateTime ge ${lower} and ${upper}`],
      ['$top', this.pageSize],
      ...(skip > 0 ? [['$skip', skip] as const] : []),
    ]);
  }
}

function msInstant(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 23)}0000Z`;
}

function maxLastUpdate(incidents: readonly FetchedIncident[]): string | undefined {
  let max: string | undefined;
  for (const { lastUpdateTime } of incidents) max = laterOf(max, lastUpdateTime);
  return max;
}
