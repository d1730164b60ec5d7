/**
 * `npm run demo`: dm-switch from end to end on this machine, in about two minutes.
 *
 * Installs what is missing (`npm run setup`), starts the sandbox (real DM replicating a MariaDB primary
 * through an HAProxy VIP, a replica, a downstream) and a write load, then shows:
 *   1. `pulumi preview --policy-pack policies` refusing a replica that lags with replication stopped;
 *   2. the same preview accepting it once it has caught up;
 *   3. `pulumi up` switching the VIP to the replica (the seed's VIP procedure);
 *   4. `pulumi up` switching the DM source to the primary's own address (the address procedure);
 * verifies that the downstream equals the upstream, row for row, prints a summary and tears down.
 *
 * `npm run demo -- --flavor mysql`: the same story on MySQL ≥ 8.4 (unpacked by setup), read by DM 2409e0b;
 * `--downstream tidb`: into tidb-server from the toolchain (DM's own downstream) instead of MariaDB.
 */
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { sleep } from "../components/util/poll";
import { startSandbox, Sandbox } from "../sandbox";
import { Load, startLoad } from "../sandbox/load";
import { checkSequences, verifyReplicated } from "../sandbox/verify";
import { PulumiResult } from "./pulumiCli";
import { createSandboxStack, PROJECT_DIR, SandboxSourceOptions, SandboxStack } from "./sandboxStack";

const POLICY_PACK = path.join(PROJECT_DIR, "policies");
const t0 = Date.now();
const elapsed = () => `${((Date.now() - t0) / 1000).toFixed(1)} s`;
const say = (line = "") => console.log(line);
const heading = (text: string) => say(`\n== ${text}  [${elapsed()}]`);

/** The lines of Pulumi's output a person needs: dm-switch's own, the policies', errors and the resource summary. */
function show(r: PulumiResult): void {
    const seen = new Set<string>();
    let inPolicy = false;
    for (const raw of r.output.split("\n")) {
        // A policy violation: its heading line and the message under it, whole.
        if (/\[(mandatory|advisory)\]/.test(raw)) {
            inPolicy = true;
        } else if (inPolicy && raw.trim() === "") {
            inPolicy = false;
        } else if (inPolicy) {
            say(`      ${raw.trim()}`);
            continue;
        }
        const line = raw
            .replace(/^.*info: \[runtime\] /, "  ")
            .replace(/^\s+pulumi:pulumi:Stack \S+ +(running |\*\*failed\*\* )?/, "  ")
            .trimEnd();
        const wanted =
            /dm-switch |mandatory|advisory|violation|not allowed|missing|Policies:|error:|Resources:|[~+-] +\d+ (updated|created|deleted)|unchanged/.test(
                line,
            );
        if (wanted && !/warning: using|^\s*error: update failed/.test(line) && !seen.has(line.trim())) {
            seen.add(line.trim());
            say(line.startsWith("  ") ? line : `  ${line.trim()}`);
        }
    }
    say(`  → pulumi exited ${r.code} after ${(r.ms / 1000).toFixed(1)} s`);
}

async function expect(what: string, r: PulumiResult, ok: boolean): Promise<void> {
    show(r);
    if ((r.code === 0) !== ok) {
        throw new Error(
            `${what}: expected pulumi to ${ok ? "succeed" : "fail"}, it exited ${r.code}. Full output:\n${r.output}`,
        );
    }
}

const USAGE = "usage: npm run demo [-- --flavor mariadb|mysql] [--downstream mariadb|tidb]";

/** `--flavor mariadb|mysql` (the upstream servers) and `--downstream mariadb|tidb`. @default both "mariadb" */
function parseArgs(argv: string[]): { flavor: "mariadb" | "mysql"; downstream: "mariadb" | "tidb" } {
    const out: { flavor: "mariadb" | "mysql"; downstream: "mariadb" | "tidb" } = {
        flavor: "mariadb",
        downstream: "mariadb",
    };
    for (let i = 0; i < argv.length; i += 2) {
        const [flag, v] = [argv[i], argv[i + 1]];
        if (flag === "--flavor" && (v === "mariadb" || v === "mysql")) {
            out.flavor = v;
        } else if (flag === "--downstream" && (v === "mariadb" || v === "tidb")) {
            out.downstream = v;
        } else {
            throw new Error(`${flag} ${v ?? ""}: not understood. ${USAGE}`);
        }
    }
    return out;
}

async function main(): Promise<void> {
    const { flavor, downstream } = parseArgs(process.argv.slice(2));
    const server = flavor === "mysql" ? "MySQL" : "MariaDB";
    heading("0. Tools (npm run setup: Pulumi CLI, DM, MariaDB, HAProxy; cached after the first run)");
    const setup = spawnSync(process.execPath, [require.resolve("tsx/cli"), path.join(__dirname, "setup.ts")], {
        stdio: "inherit",
    });
    if (setup.status !== 0) {
        throw new Error("npm run setup failed (see above)");
    }

    heading(
        `1. Sandbox: dm-master + dm-worker reading a ${server} primary through an HAProxy VIP; a replica; a ${downstream === "tidb" ? "TiDB" : "MariaDB"} downstream`,
    );
    let sb: Sandbox | undefined;
    let stack: SandboxStack | undefined;
    let load: Load | undefined;
    try {
        sb = await startSandbox({ tasks: 2, flavor, downstream, log: (l) => say(`  ${l}`) });
        const version = String((await sb.primary.query("SELECT @@version AS v"))[0].v);
        say(`  upstream: ${server} ${version}; DM from ${sb.dm.binDir}`);
        say(
            `  DM source ${sb.source.id} reads 127.0.0.1:${sb.vip.port} (the VIP → primary :${sb.primary.port}); replica :${sb.replica.port}; tasks ${sb.tasks.map((t) => t.name).join(", ")}`,
        );
        load = startLoad(sb, { rowsPerSec: 300, via: "primary" });
        say("  write load: 300 rows/s into the primary, sequence-numbered, one schema per task");

        const source = (o: Omit<SandboxSourceOptions, "catchUpTimeoutMs">): SandboxSourceOptions => ({
            ...o,
            catchUpTimeoutMs: 2000,
        });
        stack = await createSandboxStack(sb, source({ mode: "vip", reads: "primary" }));
        const up = () => stack!.run(["up", "--yes", "--skip-preview"]);
        const preview = () => stack!.run(["preview", "--policy-pack", POLICY_PACK]);
        heading("2. pulumi up: the stack adopts the source and the VIP as they are (nothing is paused)");
        await expect("first up", await up(), true);

        heading(
            "3. The replica stops replicating and falls behind; reads: replica → pulumi preview --policy-pack policies",
        );
        await sb.replica.query(flavor === "mysql" ? "STOP REPLICA" : "STOP SLAVE");
        await sleep(1500);
        stack.configure(source({ mode: "vip", reads: "replica" }));
        await expect("preview against a lagging replica", await preview(), false);
        say(
            "  The policy pack refused the switch before anything changed: the replica lacks GTIDs DM has already replicated.",
        );

        heading("4. Replication on the replica resumes; the same preview passes");
        await sb.replica.query(flavor === "mysql" ? "START REPLICA" : "START SLAVE");
        await sleep(1500);
        await expect("preview against a healthy replica", await preview(), true);

        heading(
            "5. pulumi up: VIP switch (pause every task → check gtid-S ⊇ gtid-P, gtid-E ⊇ gtid-S → move HAProxy → verify → resume)",
        );
        const vipUp = await up();
        await expect("VIP switch", vipUp, true);
        const vipPaused = /replication was paused for (\d+) ms/.exec(vipUp.output)?.[1];
        say(`  The VIP points at: ${await sb.vipTarget()}`);

        heading(
            "6. pulumi up: address switch to the primary's own address (stop-task → operate-source stop/create → start-task from the checkpoint)",
        );
        stack.configure(source({ mode: "address", reads: "primary" }));
        const addrUp = await up();
        await expect("address switch", addrUp, true);
        const addrStopped = /replication was stopped for (\d+) ms/.exec(addrUp.output)?.[1];

        heading("7. Downstream versus upstream, row for row");
        const written = await load.stop();
        load = undefined;
        const v = await verifyReplicated(sb, { timeoutMs: 60_000, upstream: "primary" });
        const expectedLastSeq = Object.fromEntries(Object.entries(written.schemas).map(([s, l]) => [s, l.lastSeq]));
        const seqs = await checkSequences(sb, { expectedLastSeq });
        for (const [schema, s] of Object.entries(v.schemas)) {
            const q = seqs[schema];
            say(
                `  ${schema}: upstream ${s.upstreamRows} rows, downstream ${s.downstreamRows}, checksums ${s.equal ? "equal" : "DIFFER"}; missing ${q.missing}, duplicated ${q.duplicates}`,
            );
        }
        const allGood = v.equal && Object.values(seqs).every((s) => s.ok);

        heading("Summary");
        say(
            `  upstream → downstream:     ${server} ${version} → ${String((await sb.downstream.query("SELECT VERSION() AS v"))[0].v)}`,
        );
        say(`  preview, lagging replica:  refused by the policy pack (as it must be)`);
        say(`  preview, healthy replica:  allowed`);
        say(`  VIP switch:                replication paused ${vipPaused ?? "?"} ms (2 tasks, checks included)`);
        say(`  address switch:            replication stopped ${addrStopped ?? "?"} ms (dmctl start-task dominates)`);
        say(
            `  rows written under load:   ${written.written}; downstream equals upstream: ${allGood ? "yes, nothing lost or duplicated" : "NO"}`,
        );
        if (!allGood) {
            throw new Error(`downstream differs from upstream: ${JSON.stringify({ v, seqs })}`);
        }
    } finally {
        heading("Teardown");
        await load?.stop().catch(() => undefined);
        await stack?.dispose().catch((err: unknown) => say(`  destroying the demo stack failed: ${String(err)}`));
        await sb?.stop();
        say(`  done in ${elapsed()}`);
    }
}

main().catch((err: unknown) => {
    console.error(`\ndemo failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
});
