// Prisma CLI config for PostgreSQL. Runs offline: JS schema engine + driver adapter (toolchain.md).
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { defineConfig } from 'prisma/config';
import { PrismaPg } from '@prisma/adapter-pg';

// prisma/orm#27403: the wasm engine cannot deserialize `name` (OID 19) and `"char"` (OID 18)
// columns from catalog queries; present them as text (OID 25).
type FieldList = { dataTypeID: number }[];
const resultProto = pg.Result.prototype as unknown as { addFields(fields: FieldList): void };
const addFields = resultProto.addFields;
resultProto.addFields = function (fieldDescriptions: FieldList) {
  for (const field of fieldDescriptions) {
    if (field.dataTypeID === 19 || field.dataTypeID === 18) field.dataTypeID = 25;
  }
  return addFields.call(this, fieldDescriptions);
};

const url = process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';

/** PrismaPg would use the main database as the shadow one when given a URL: create a throw-away
 *  database instead and drop it when the engine is done with it. */
class PgWithThrowawayShadow extends PrismaPg {
  override async connectToShadowDb() {
    const name = `kw_shadow_${randomUUID().replaceAll('-', '')}`;
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    await admin.query(`CREATE DATABASE "${name}"`);
    await admin.end();
    const shadowUrl = new URL(url);
    shadowUrl.pathname = `/${name}`;
    const adapter = await new PrismaPg({ connectionString: shadowUrl.toString() }).connect();
    const dispose = adapter.dispose.bind(adapter);
    adapter.dispose = async () => {
      await dispose();
      const dropper = new pg.Client({ connectionString: url });
      await dropper.connect();
      await dropper.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await dropper.end();
    };
    return adapter;
  }
}

export default defineConfig({
  experimental: { adapter: true },
  engine: 'js',
  schema: path.join(import.meta.dirname, 'postgres'),
  migrations: { path: path.join(import.meta.dirname, 'postgres', 'migrations') },
  adapter: async () => new PgWithThrowawayShadow({ connectionString: url }),
});
