/**
 * A scripted IncidentSource: per tenant, the pages every window yields (the script may also depend on the window),
 * failures injected before chosen pages, and an `onPage` gate awaited before each page is handed over (a spec can
 * move the clock, take the lease, or hold the page there). Records every window and probe it was asked for.
 */
import type { IncidentPage, IncidentSource, PageOptions, SourceKind, SyncWindow } from '../../shared/ports.js';

export interface PageScript {
  /** The pages of a window, in order. */
  readonly pages: readonly IncidentPage[] | ((window: SyncWindow) => readonly IncidentPage[]);
  /** Throw `error` instead of yielding page `page` (1-based); the pages before it are yielded. */
  readonly failAt?: { readonly page: number; readonly error: unknown };
}

export interface ScriptedSourceOptions {
  readonly kind?: SourceKind;
  /** Per tenant ID (lower case); a tenant without a script yields no pages. */
  readonly scripts?: Readonly<Record<string, PageScript>>;
  /** Per tenant ID: the probe throws this error (otherwise it succeeds). */
  readonly probeErrors?: Readonly<Record<string, unknown>>;
  /** Awaited before page `index` (1-based) of `tenantId` is yielded. */
  readonly onPage?: (tenantId: string, index: number, page: IncidentPage) => Promise<void> | void;
}

export class ScriptedIncidentSource implements IncidentSource {
  readonly kind: SourceKind;
  readonly scope = 'https://graph.microsoft.com/.default';
  readonly readRoles = ['SecurityIncident.Read.All', 'SecurityIncident.ReadWrite.All'];
  readonly windows: { tenantId: string; window: SyncWindow }[] = [];
  readonly probes: string[] = [];
  /** Pages handed over, per tenant (lower case). */
  readonly yielded = new Map<string, number>();
  private readonly scripts: Record<string, PageScript>;
  private readonly probeErrors: Record<string, unknown>;

  constructor(private readonly options: ScriptedSourceOptions = {}) {
    this.kind = options.kind ?? 'graph';
    this.scripts = { ...options.scripts };
    this.probeErrors = { ...options.probeErrors };
  }

  /** Replace a tenant's script (e.g. a second run sees new incidents). */
  script(tenantId: string, script: PageScript): void {
    this.scripts[tenantId.toLowerCase()] = script;
  }

  /** Make the tenant's probe throw `error`, or succeed again with undefined. */
  probeFails(tenantId: string, error: unknown): void {
    if (error === undefined) delete this.probeErrors[tenantId.toLowerCase()];
    else this.probeErrors[tenantId.toLowerCase()] = error;
  }

  async *pages(tenantId: string, window: SyncWindow, options?: PageOptions): AsyncIterable<IncidentPage> {
    const key = tenantId.toLowerCase();
    this.windows.push({ tenantId: key, window });
    const script = this.scripts[key];
    if (!script) return;
    const pages = typeof script.pages === 'function' ? script.pages(window) : script.pages;
    for (const [i, page] of pages.entries()) {
      const index = i + 1;
      options?.signal?.throwIfAborted();
      if (script.failAt?.page === index) throw script.failAt.error;
      await this.options.onPage?.(key, index, page);
      this.yielded.set(key, (this.yielded.get(key) ?? 0) + 1);
      yield page;
    }
    if (script.failAt !== undefined && script.failAt.page > pages.length) throw script.failAt.error;
  }

  async probe(tenantId: string): Promise<void> {
    const key = tenantId.toLowerCase();
    this.probes.push(key);
    if (key in this.probeErrors) throw this.probeErrors[key];
  }
}
