/**
 * gtid-S after stop-task: the subtask is gone, so DM's status no longer shows it; the syncer's last
 * flushed position is in the downstream table `<meta-schema>`.`<task>_syncer_checkpoint`, row
 * `id = <source-id> AND is_global = 1`, column `binlog_gtid`.
 */
import { DmError, oneLine } from "./types";

export interface DownstreamAddress {
    host: string;
    port: number;
    user: string;
    /** A secret: never in an error text. */
    password: string;
    /** @default 5000 */
    connectTimeoutMs?: number;
}

const ident = (name: string) => "`" + name.replace(/`/g, "``") + "`";

/** The global checkpoint's GTID set of `task` on `sourceId`. Throws DmError when there is none. */
export async function readCheckpointGtid(
    downstream: DownstreamAddress,
    task: string,
    sourceId: string,
    metaSchema = "dm_meta",
): Promise<string> {
    const mysql = require("mysql2/promise") as typeof import("mysql2/promise");
    const table = `${ident(metaSchema)}.${ident(`${task}_syncer_checkpoint`)}`;
    const where = `${downstream.host}:${downstream.port}`;
    const fail = (what: string, remedy: string): never => {
        throw new DmError(
            `read checkpoint of task ${task} on source ${sourceId} from ${where} failed: ${oneLine(what, [downstream.password])}. ${remedy}`,
            "read checkpoint",
            task,
        );
    };
    let conn: Awaited<ReturnType<typeof mysql.createConnection>> | undefined;
    try {
        conn = await mysql.createConnection({
            host: downstream.host,
            port: downstream.port,
            user: downstream.user,
            password: downstream.password,
            connectTimeout: downstream.connectTimeoutMs ?? 5000,
        });
        const [rows] = await conn.query(`SELECT binlog_gtid FROM ${table} WHERE id = ? AND is_global = 1`, [sourceId]);
        const row = (rows as { binlog_gtid: string | null }[])[0];
        if (!row) {
            return fail(
                `no global checkpoint row for source ${sourceId} in ${metaSchema}.${task}_syncer_checkpoint`,
                "Check the task and source names; the task may never have run on this source.",
            );
        }
        return row.binlog_gtid ?? "";
    } catch (err) {
        if (err instanceof DmError) {
            throw err;
        }
        const e = err as { code?: string; message?: string };
        if (e.code === "ER_NO_SUCH_TABLE" || e.code === "ER_BAD_DB_ERROR") {
            return fail(
                `table ${metaSchema}.${task}_syncer_checkpoint does not exist`,
                "Check the task name and the task's meta-schema (default dm_meta); a task whose meta was removed has no checkpoint.",
            );
        }
        return fail(e.message ?? String(err), "Check the downstream address, user and password.");
    } finally {
        await conn?.end().catch(() => undefined);
    }
}
