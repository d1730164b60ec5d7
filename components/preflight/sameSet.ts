/**
 * The replication-set judgment both the policy pack's preflight and the providers' decision use, with the
 * one read it may need again. No @pulumi/* import.
 */
import { sameReplicationSet, ServerFacts } from "../mysql";
import type { PreflightFacts } from "./decide";

/**
 * Whether the target is in the replication set of the server DM reads from now (components/mysql
 * `sameReplicationSet`). When the target seems ahead of that server for the server's own transactions,
 * that server is read once more (`reread`, never a shared or earlier read): both were read at once, and
 * under writes the target may have applied what the server wrote after its read.
 */
export async function judgeSameSet(
    current: string,
    currentFacts: ServerFacts,
    target: ServerFacts,
    reread: () => Promise<ServerFacts>,
): Promise<NonNullable<PreflightFacts["sameReplicationSet"]>> {
    let verdict = sameReplicationSet(currentFacts, target);
    if (verdict.recheck) {
        verdict = sameReplicationSet(await reread(), target);
    }
    return { same: verdict.ok, current, reason: verdict.reason?.replace(/\.$/, "") };
}
