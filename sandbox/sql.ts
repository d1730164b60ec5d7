/** SQL over loopback for the sandbox's own checks, the load and the verifier (mysql2, one connection per call). */
import type { Connection } from "mysql2/promise";

/** Where and as whom to connect. The password never appears in an error text. */
export interface SqlTarget {
    host: string;
    port: number;
    user: string;
    password: string;
}

/** A new connection; `connectTimeout` short, because the sandbox is on loopback. */
export async function connect(t: SqlTarget, connectTimeoutMs = 2000): Promise<Connection> {
    const mysql = await import("mysql2/promise");
    return mysql.createConnection({
        host: t.host,
        port: t.port,
        user: t.user,
        password: t.password,
        connectTimeout: connectTimeoutMs,
        supportBigNumbers: true,
        bigNumberStrings: true,
        dateStrings: true,
    });
}

/** Runs one statement on a new connection and closes it. */
export async function query(t: SqlTarget, sql: string, params?: unknown[]): Promise<Record<string, unknown>[]> {
    return queryAndClose(await connect(t), sql, params);
}

/** Runs one statement on `conn`, then closes it (destroys it when a clean close fails); `[]` without rows. */
export async function queryAndClose(
    conn: Connection,
    sql: string,
    params?: unknown[],
): Promise<Record<string, unknown>[]> {
    try {
        const [rows] = await conn.query(sql, params);
        return Array.isArray(rows) ? (rows as Record<string, unknown>[]) : [];
    } finally {
        await conn.end().catch(() => conn.destroy());
    }
}

/** `name` quoted as an identifier. */
export const ident = (name: string) => "`" + name.replace(/`/g, "``") + "`";
