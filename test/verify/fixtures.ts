/** Shared data for the verify/detect tests: a small shop schema loaded identically into sandboxes. */
import { type ConnectTarget, parseDsn, resolveTarget } from '../../src/mysql/index.js';
import { type Sandbox, sql } from '../support/sandbox.js';

/** Customers (integer key, many types), orders (string key, FK), a table without any key. */
export const SHOP_SCHEMA = `
CREATE DATABASE shop;
CREATE TABLE shop.customers (
  id INT PRIMARY KEY,
  email VARCHAR(100) NULL,
  score DOUBLE NULL,
  ratio FLOAT NULL,
  balance DECIMAL(12,2) NOT NULL,
  created DATETIME(6) NOT NULL,
  seen TIMESTAMP NULL,
  flags BIT(5) NULL,
  avatar VARBINARY(16) NULL,
  notes TEXT NULL,
  status ENUM('new','active','closed') NOT NULL
) ENGINE=InnoDB;
CREATE TABLE shop.orders (
  code VARCHAR(20) PRIMARY KEY,
  customer_id INT NULL,
  total DECIMAL(10,2) NOT NULL,
  CONSTRAINT orders_customer FOREIGN KEY (customer_id) REFERENCES shop.customers (id)
) ENGINE=InnoDB;
CREATE TABLE shop.audit (who VARCHAR(20) NULL, what VARCHAR(50) NULL) ENGINE=InnoDB;
`;

/** Deterministic rows from MariaDB's sequence engine. */
export const SHOP_DATA = `
USE shop;
INSERT INTO shop.customers
SELECT seq,
       IF(seq % 7 = 0, NULL, CONCAT('user', seq, '@example.com')),
       IF(seq % 11 = 0, NULL, seq / 3),
       seq / 7,
       seq * 1.25,
       '2024-01-01 00:00:00' + INTERVAL seq SECOND,
       IF(seq % 5 = 0, NULL, FROM_UNIXTIME(1700000000 + seq)),
       seq % 32,
       IF(seq % 13 = 0, '', UNHEX(MD5(seq))),
       IF(seq % 3 = 0, NULL, REPEAT('x', seq % 50)),
       ELT(1 + seq % 3, 'new', 'active', 'closed')
  FROM seq_1_to_6000;
INSERT INTO shop.orders SELECT CONCAT('ORD-', LPAD(seq, 6, '0')), 1 + seq % 6000, seq * 0.5 FROM seq_1_to_4000;
INSERT INTO shop.audit SELECT IF(seq % 4 = 0, NULL, CONCAT('u', seq % 9)), CONCAT('did ', seq % 17) FROM seq_1_to_300;
INSERT INTO shop.audit VALUES ('dup', 'same'), ('dup', 'same');
ANALYZE TABLE shop.customers, shop.orders, shop.audit;
`;

export async function loadShop(sandbox: Sandbox): Promise<void> {
  await sql(sandbox, SHOP_SCHEMA);
  await sql(sandbox, SHOP_DATA);
}

export function targetOf(sandbox: Sandbox): ConnectTarget {
  return resolveTarget(parseDsn(sandbox.dsn), { env: {} });
}
