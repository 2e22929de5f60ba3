/** Fresh customer tenants for each scenario on one shared stack: seeded in the simulators and registered active. */
import type { TenantStore } from '../../shared/ports.js';
import type { LocalStack } from '../../devstack/stack.js';

export class TenantAllocator {
  private next = 1;

  constructor(
    private readonly stack: LocalStack,
    private readonly prefix = 'fa017000',
  ) {}

  /** `count` new tenant IDs with `incidents` seeded incidents each, consent granted in Entra. */
  allocate(count: number, incidents: number): string[] {
    return Array.from({ length: count }, () => {
      const tenantId = `${this.prefix}-0000-4000-8000-${String(this.next++).padStart(12, '0')}`;
      this.stack.world.addTenant({ tenantId, incidents });
      this.stack.entra.setTenantConsent(tenantId, 'granted');
      return tenantId;
    });
  }

  /** Register as `tenants add --no-verify` would: active, consented now. */
  static async register(store: TenantStore, tenantIds: readonly string[]): Promise<void> {
    const consentedAt = new Date().toISOString();
    for (const tenantId of tenantIds)
      await store.upsert(tenantId, { displayName: `Tenant ${tenantId.slice(-4)}`, status: 'active', consentedAt });
  }
}
