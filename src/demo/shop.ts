/**
 * The demo's "production": a small shop (customers, orders, order items with
 * foreign keys, a Flyway history table), its seed data, its write workload and
 * the bad migration. Every write is generated from a seed with explicit values
 * (no NOW(), no RAND()), so two servers fed the same seed end up identical:
 * the tests build a twin that never ran the bad migration from it.
 */
export const SHOP_SCHEMA = 'shop';

export const SHOP_DDL: readonly string[] = [
  `CREATE DATABASE ${SHOP_SCHEMA}`,
  `CREATE TABLE ${SHOP_SCHEMA}.customers (
     id INT AUTO_INCREMENT PRIMARY KEY,
     name VARCHAR(100) NOT NULL,
     email VARCHAR(200),
     created_at DATETIME NOT NULL
   ) ENGINE=InnoDB`,
  `CREATE TABLE ${SHOP_SCHEMA}.orders (
     id INT AUTO_INCREMENT PRIMARY KEY,
     customer_id INT NOT NULL,
     status ENUM('new','paid','shipped','cancelled') NOT NULL,
     total DECIMAL(10,2) NOT NULL,
     created_at DATETIME NOT NULL,
     CONSTRAINT orders_customer FOREIGN KEY (customer_id) REFERENCES customers (id)
   ) ENGINE=InnoDB`,
  `CREATE TABLE ${SHOP_SCHEMA}.order_items (
     id INT AUTO_INCREMENT PRIMARY KEY,
     order_id INT NOT NULL,
     sku VARCHAR(32) NOT NULL,
     qty INT NOT NULL,
     price DECIMAL(10,2) NOT NULL,
     CONSTRAINT items_order FOREIGN KEY (order_id) REFERENCES orders (id)
   ) ENGINE=InnoDB`,
  `CREATE TABLE ${SHOP_SCHEMA}.flyway_schema_history (
     installed_rank INT NOT NULL PRIMARY KEY,
     version VARCHAR(50),
     description VARCHAR(200) NOT NULL,
     type VARCHAR(20) NOT NULL,
     script VARCHAR(1000) NOT NULL,
     checksum INT,
     installed_by VARCHAR(100) NOT NULL,
     installed_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
     execution_time INT NOT NULL,
     success TINYINT(1) NOT NULL
   ) ENGINE=InnoDB`,
];

/** The bad migration: meant for test accounts only, it forgot its WHERE. */
export const BAD_MIGRATION = {
  version: '3',
  description: 'clear test emails',
  script: 'V3__clear_test_emails.sql',
  sql: `UPDATE ${SHOP_SCHEMA}.customers SET email = NULL`,
} as const;

/** A small deterministic generator (mulberry32): the same seed, the same writes. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const FIRST = ['Ada', 'Grace', 'Linus', 'Barbara', 'Ken', 'Margaret', 'Dennis', 'Frances', 'Edsger', 'Radia'];
const LAST = [
  'Lovelace',
  'Hopper',
  'Torvalds',
  'Liskov',
  'Thompson',
  'Hamilton',
  'Ritchie',
  'Allen',
  'Dijkstra',
  'Perlman',
];
const SKUS = ['KB-101', 'MS-202', 'MN-303', 'HD-404', 'CB-505', 'DK-606'];
const BASE_TIME = Date.UTC(2024, 4, 1, 9, 0, 0);

function stamp(n: number): string {
  return new Date(BASE_TIME + n * 1000).toISOString().slice(0, 19).replace('T', ' ');
}

function price(random: () => number): string {
  return (5 + Math.floor(random() * 20000) / 100).toFixed(2);
}

/** Statements that create the seed data: `customers` customers, about two orders each. */
export function seedStatements(customers: number, seed = 1): string[] {
  const random = seededRandom(seed);
  const out: string[] = [];
  const people: string[] = [];
  for (let i = 1; i <= customers; i++) {
    const name = `${FIRST[i % FIRST.length]} ${LAST[Math.floor(i / FIRST.length) % LAST.length]} ${i}`;
    people.push(`(${i}, '${name}', 'customer${i}@example.com', '${stamp(i)}')`);
  }
  out.push(`INSERT INTO ${SHOP_SCHEMA}.customers (id, name, email, created_at) VALUES ${people.join(', ')}`);
  const orders: string[] = [];
  const items: string[] = [];
  let order = 0;
  for (let c = 1; c <= customers; c++) {
    for (let k = 0; k < 2; k++) {
      order++;
      orders.push(`(${order}, ${c}, 'paid', ${price(random)}, '${stamp(customers + order)}')`);
      items.push(
        `(${order}, '${SKUS[order % SKUS.length]}', ${1 + Math.floor(random() * 3)}, ${price(random)})`,
      );
    }
  }
  out.push(
    `INSERT INTO ${SHOP_SCHEMA}.orders (id, customer_id, status, total, created_at) VALUES ${orders.join(', ')}`,
  );
  out.push(`INSERT INTO ${SHOP_SCHEMA}.order_items (order_id, sku, qty, price) VALUES ${items.join(', ')}`);
  out.push(
    `INSERT INTO ${SHOP_SCHEMA}.flyway_schema_history VALUES
       (1, '1', 'create shop', 'SQL', 'V1__create_shop.sql', 1001, 'deploy', '${stamp(0)}', 120, 1),
       (2, '2', 'seed customers', 'SQL', 'V2__seed_customers.sql', 1002, 'deploy', '${stamp(1)}', 80, 1)`,
  );
  return out;
}

export interface WriteOptions {
  /** Customers that exist (ids 1..customers), for foreign keys and updates. */
  readonly customers: number;
  /** Whether updates of existing customers are among the writes (they collide with the bad migration's rows). */
  readonly touchCustomers?: boolean;
}

/**
 * One application transaction, as statements to run in order inside
 * BEGIN/COMMIT: a new order with its items, a status change, a new customer,
 * or (touchCustomers) a customer renamed. `step` makes values unique per call.
 */
export function shopTransaction(random: () => number, step: number, options: WriteOptions): string[] {
  const roll = random();
  const customer = 1 + Math.floor(random() * options.customers);
  if (roll < 0.5) {
    const lines = 1 + Math.floor(random() * 3);
    const statements = [
      `INSERT INTO ${SHOP_SCHEMA}.orders (customer_id, status, total, created_at) VALUES (${customer}, 'new', ${price(random)}, '${stamp(100_000 + step)}')`,
      // Each item insert moves LAST_INSERT_ID() on: keep the order's id.
      'SET @order_id = LAST_INSERT_ID()',
    ];
    for (let i = 0; i < lines; i++) {
      statements.push(
        `INSERT INTO ${SHOP_SCHEMA}.order_items (order_id, sku, qty, price) VALUES (@order_id, '${SKUS[Math.floor(random() * SKUS.length)]}', ${1 + Math.floor(random() * 4)}, ${price(random)})`,
      );
    }
    return statements;
  }
  if (roll < 0.8) {
    const status = ['paid', 'shipped', 'cancelled'][Math.floor(random() * 3)];
    return [
      `UPDATE ${SHOP_SCHEMA}.orders SET status = '${status}' WHERE customer_id = ${customer} ORDER BY id LIMIT 1`,
    ];
  }
  if (roll < 0.9 || !options.touchCustomers) {
    return [
      `INSERT INTO ${SHOP_SCHEMA}.customers (name, email, created_at) VALUES ('New Customer ${step}', 'new${step}@example.com', '${stamp(200_000 + step)}')`,
    ];
  }
  return [`UPDATE ${SHOP_SCHEMA}.customers SET name = CONCAT(name, ' (vip)') WHERE id = ${customer}`];
}

/** The bad migration as Flyway runs it on MySQL/MariaDB: the script, then its history row. */
export function badMigrationStatements(): string[][] {
  return [
    [BAD_MIGRATION.sql],
    [
      `INSERT INTO ${SHOP_SCHEMA}.flyway_schema_history VALUES (3, '${BAD_MIGRATION.version}', '${BAD_MIGRATION.description}', 'SQL', '${BAD_MIGRATION.script}', 1003, 'deploy', '${stamp(3)}', 15, 1)`,
    ],
  ];
}
