/**
 * Rows that make DM's syncer move: one row in each task's schema on the primary, and a wait until each
 * task's checkpointed gtid-S has passed a given sequence number (MariaDB, domain 0). Shared by the
 * preflight and policy-pack tests, which need gtid-S at a known place before they break the replica.
 */
import type { DmClient } from "../../components/dm";
import type { Sandbox } from "../../sandbox";
import { pollUntil } from "../../components/util/poll";

/** `sb` and `dm` are read when called (the tests create them in `before`). */
export function syncerRows(sb: () => Sandbox, dm: () => DmClient, payload: string) {
    let nextId = 1;

    /** The last sequence number of the instance's binary log. */
    const seqOf = async (i: Sandbox["primary"]) =>
        Number(String((await i.query("SELECT @@GLOBAL.gtid_binlog_pos AS g"))[0].g).split("-")[2]);

    /** One row in each task's schema; returns the primary's sequence number after each task's write. */
    async function writeRows(): Promise<number[]> {
        const out: number[] = [];
        for (const t of sb().tasks) {
            const id = nextId++;
            await sb().primary.query(`INSERT INTO \`${t.schema}\`.t (id, seq, payload) VALUES (?, ?, ?)`, [
                id,
                id,
                payload,
            ]);
            out.push(await seqOf(sb().primary));
        }
        return out;
    }

    /**
     * Waits until each task's syncer has checkpointed past its own last write. DM flushes the checkpoint
     * (what query-status reports as gtid-S) only while it processes events, once per flush interval: so
     * keep writing a row every 300 ms until it has. Returns each task's gtid-S.
     */
    async function syncerReaches(seqs: number[], timeoutMs = 20_000): Promise<string[]> {
        let got: string[] = [];
        const reached = await pollUntil(
            async () => {
                got = await Promise.all(
                    sb().tasks.map(
                        async (t) => (await dm().taskStatus(t.name, sb().source.id))[0]?.syncerBinlogGtid ?? "",
                    ),
                );
                if (got.every((g, i) => Number(g.split("-")[2] ?? 0) >= seqs[i])) {
                    return got;
                }
                await writeRows();
                return undefined;
            },
            { intervalMs: 300, timeoutMs },
        );
        if (!reached) {
            throw new Error(
                `DM's syncer did not reach ${seqs.join(", ")} within ${timeoutMs} ms (at ${got.join(", ")})`,
            );
        }
        return reached;
    }

    return { seqOf, writeRows, syncerReaches };
}
