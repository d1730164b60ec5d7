/**
 * The shared frame of the end-to-end tests: one sandbox and one stack of this project on it for a test
 * file, the subtasks' stages, and a `pulumi up` under write load followed by the downstream check
 * (count, checksum, sequence numbers with no gap and no duplicate).
 */
import assert from "node:assert/strict";
import { after, before } from "node:test";
import { createDmClient, DmClient } from "../../components/dm";
import { sleep } from "../../components/util/poll";
import { Sandbox, SandboxOptions, startSandbox } from "../../sandbox";
import { startLoad } from "../../sandbox/load";
import { checkSequences, verifyReplicated } from "../../sandbox/verify";
import { PulumiResult } from "../../tools/pulumiCli";
import { createSandboxStack, SandboxSourceOptions, SandboxStack } from "../../tools/sandboxStack";

export interface SandboxStackSuite {
    readonly sb: Sandbox;
    readonly stack: SandboxStack;
    readonly dm: DmClient;
    /** The stage of the source's subtask of every task, in task order. */
    stages(): Promise<string[]>;
    /**
     * Configures `next`, runs `pulumi up` while rows are written (to the primary, 200 rows/s, unless `load`
     * says otherwise), and checks the downstream.
     */
    upUnderLoad(
        next: SandboxSourceOptions,
        load?: { rowsPerSec?: number; via?: "primary" | "vip" },
    ): Promise<{ r: PulumiResult; written: number; rowsPerSec: number }>;
}

/** Registers the file's before/after: a sandbox with 2 tasks (and `sandbox`'s options) and a stack configured with `first`. */
export function sandboxStackSuite(first: SandboxSourceOptions, sandbox: SandboxOptions = {}): SandboxStackSuite {
    let sb: Sandbox | undefined;
    let stack: SandboxStack | undefined;
    let dm: DmClient | undefined;
    before(async () => {
        sb = await startSandbox({ tasks: 2, ...sandbox });
        dm = createDmClient({ transport: "openapi", address: sb.dm.masterAddr, dmctlPath: sb.dm.dmctlPath });
        stack = await createSandboxStack(sb, first);
    });
    after(async () => {
        await stack?.dispose();
        await sb?.stop();
    });
    const suite: SandboxStackSuite = {
        get sb() {
            return sb!;
        },
        get stack() {
            return stack!;
        },
        get dm() {
            return dm!;
        },
        async stages() {
            return (await Promise.all(sb!.tasks.map((t) => dm!.taskStatus(t.name, sb!.source.id))))
                .flat()
                .map((s) => s.stage);
        },
        async upUnderLoad(next, o = {}) {
            const load = startLoad(sb!, { rowsPerSec: o.rowsPerSec ?? 200, via: o.via ?? "primary" });
            await sleep(1000);
            stack!.configure(next);
            const r = await stack!.run(["up", "--yes", "--skip-preview"]);
            const written = await load.stop();
            assert.equal(r.code, 0, r.output);
            assert.deepEqual(await suite.stages(), ["Running", "Running"]);
            const v = await verifyReplicated(sb!, { timeoutMs: 60_000 });
            assert.ok(v.equal, JSON.stringify(v));
            const expectedLastSeq = Object.fromEntries(
                Object.entries(written.schemas).map(([schema, l]) => [schema, l.lastSeq]),
            );
            const seqs = await checkSequences(sb!, { expectedLastSeq });
            assert.ok(
                Object.values(seqs).every((s) => s.ok),
                `no row lost or duplicated downstream: ${JSON.stringify(seqs)}`,
            );
            assert.ok(written.written > 0);
            return { r, written: written.written, rowsPerSec: (written.written / written.elapsedMs) * 1000 };
        },
    };
    return suite;
}
