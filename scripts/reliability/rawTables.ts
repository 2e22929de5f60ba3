/** Every entity of every table, raw (keys, system and custom properties), as JSON lines for scanning. */
import { TableClient, TableServiceClient } from '@azure/data-tables';

function render(entity: Record<string, unknown>): string {
  return JSON.stringify(entity, (_k, v: unknown) => {
    if (typeof v === 'bigint') return v.toString();
    if (v instanceof Uint8Array) return Buffer.from(v).toString('base64');
    return v;
  });
}

export async function rawTableRows(connectionString: string): Promise<{ table: string; line: string }[]> {
  const options = { allowInsecureConnection: true };
  const service = TableServiceClient.fromConnectionString(connectionString, options);
  const out: { table: string; line: string }[] = [];
  for await (const table of service.listTables()) {
    if (!table.name) continue;
    const client = TableClient.fromConnectionString(connectionString, table.name, options);
    for await (const entity of client.listEntities())
      out.push({ table: table.name, line: render(entity as Record<string, unknown>) });
  }
  return out;
}
