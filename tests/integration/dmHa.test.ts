/**
 * DM at production shape, live: three dm-masters (one embedded-etcd cluster) and three dm-workers, the
 * stack's `dm.address` listing every master. Faults under a write load on the primary, each ending in a
 * switch that went through or a clear error, then a `pulumi up` that converges with downstream equal to
 * upstream and every written row there exactly once:
 * (a) a dm-master member down during `pulumi preview --policy-pack` — the preview goes through another;
 * (b) the leader dm-master killed once the tasks are Paused by a VIP switch;
 * (c) the source's dm-worker killed once the tasks are Paused — DM re-binds the source to a spare worker;
 *     what stage and checkpoint the tasks have there is printed and checked;
 * (d) the source's dm-worker killed while the switch waits between pause and resume (the target held behind
 *     gtid-S): DM re-binds the source and the tasks are Stopped on the spare worker at the pause's checkpoint.
 */
import assert from "node:assert/strict";
import { within } from "../support/wait";
import * as path from "node:path";
import { after, before, test } from "node:test";
import { createDmClient } from "../../components/dm";
import { Sandbox, startSandbox } from "../../sandbox";
import { dmGet } from "../../sandbox/dm";
import { PROJECT_DIR, sandboxConfig, SandboxSourceOptions, createSandboxStack } from "../../tools/sandboxStack";
import {
    assertConverges,
    assertFailedClearly,
    FaultRig,
    OutputWatch,
    report,
    stagesOf,
    upUnderLoad,
} from "../support/faultHelpers";

let rig: FaultRig;
let sb: Sandbox;
const toReplica = { mode: "vip", reads: "replica", catchUpTimeoutMs: 60_000, stageTimeoutMs: 5000 } as const;
const toPrimary = { ...toReplica, reads: "primary" } as const;
const PAUSED = /step 2\/\d+ done in \d+ ms: [^\n]* are Paused/;

/** The stack's configuration with `dm.address` listing the masters in `order` (every master by default). */
function haConfig(o: SandboxSourceOptions, order = sb.dm.address): Record<string, unknown> {
    const c = sandboxConfig(sb, o);
    return { ...c, "dm-switch:dm": { ...(c["dm-switch:dm"] as object), address: order } };
}

before(async () => {
    const t0 = performance.now();
    sb = await startSandbox({ tasks: 2, masters: 3, workers: 3 });
    const watch = new OutputWatch();
    try {
        const dm = createDmClient({ address: sb.dm.address, dmctlPath: sb.dm.dmctlPath });
        const base = await createSandboxStack(sb, { mode: "vip", reads: "primary" }, { onOutput: watch.push });
        const stack = { ...base, configure: (next: SandboxSourceOptions) => base.writeConfig(haConfig(next)) };
        stack.configure({ mode: "vip", reads: "primary" });
        const dispose = async () => {
            try {
                await stack.dispose();
            } finally {
                await sb.stop();
            }
        };
        rig = { sb, dm, stack, watch, dispose };
        const first = await stack.run(["up", "--yes", "--skip-preview"]);
        assert.equal(first.code, 0, `the first pulumi up adopts the sandbox:\n${first.output}`);
        console.log(
            `HA rig: sandbox (3 masters, 3 workers) and first pulumi up in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
        );
    } catch (err) {
        await (rig ? rig.dispose() : sb.stop());
        throw err;
    }
});

after(async () => {
    await rig?.dispose();
});

/** Waits until the cluster names a live leader; returns its name and how long it took. */
async function leaderWithin(timeoutMs: number): Promise<{ name: string; ms: number }> {
    const t0 = performance.now();
    const l = await within(
        `no dm-master leader within ${timeoutMs} ms`,
        async () => (await sb.dm.leader()) || undefined,
        {
            intervalMs: 250,
            timeoutMs,
        },
    );
    return { name: l.name, ms: Math.round(performance.now() - t0) };
}

test("the sandbox runs 3 dm-masters in one cluster (one leader) and 3 dm-workers: the source on worker1, two free", async () => {
    assert.deepEqual(
        sb.dm.masters.map((m) => m.name),
        ["master1", "master2", "master3"],
    );
    assert.equal(sb.dm.address, sb.dm.masters.map((m) => m.addr).join(","));
    const leader = await sb.dm.leader();
    assert.ok(leader, "a leader is elected");
    const leaderName = leader.name;
    for (const m of sb.dm.masters) {
        const r = await dmGet(m.addr, "/api/v1/cluster/masters");
        const list = (r.body as { data: { name: string; alive: boolean; leader: boolean }[] }).data;
        assert.deepEqual(
            list.map((x) => [x.name, x.alive, x.leader]).sort(),
            sb.dm.masters.map((x) => [x.name, true, x.name === leaderName]),
            `as ${m.name} sees it`,
        );
    }
    const r = await dmGet(sb.dm.masterAddr, "/api/v1/cluster/workers");
    const workers = (r.body as { data: { name: string; bound_stage: string; bound_source_name: string }[] }).data;
    assert.deepEqual(workers.map((w) => [w.name, w.bound_stage, w.bound_source_name]).sort(), [
        ["worker1", "bound", sb.source.id],
        ["worker2", "free", ""],
        ["worker3", "free", ""],
    ]);
});

test("(a) a dm-master member down during pulumi preview --policy-pack: the preview goes through another member", async () => {
    const leader = (await sb.dm.leader())!;
    const down = sb.dm.masters.find((m) => m.name !== leader.name)!;
    // The member that is down comes first: every DM read of the preview meets it first.
    const order = [down, ...sb.dm.masters.filter((m) => m !== down)].map((m) => m.addr).join(",");
    rig.stack.writeConfig(haConfig(toReplica, order));
    await down.proc.stop();
    try {
        const preview = await rig.stack.run(["preview", "--policy-pack", path.join(PROJECT_DIR, "policies")]);
        assert.equal(preview.code, 0, `the preview passes through another member:\n${preview.output}`);
        // The plan's dmctl lines carry the whole list, as dmctl's --master-addr takes it.
        assert.match(preview.output, new RegExp(`--master-addr ${order.replace(/\./g, "\\.")} pause-task`));
        console.log(`  preview with ${down.name} (${down.addr}) down passed in ${preview.ms} ms`);
    } finally {
        await down.proc.start();
    }
    // The same preview with every member up, for comparison.
    const all = await rig.stack.run(["preview", "--policy-pack", path.join(PROJECT_DIR, "policies")]);
    assert.equal(all.code, 0, all.output);
    console.log(`  the same preview with every member up: ${all.ms} ms`);
    assert.equal(await sb.vipTarget(), "primary", "a preview changes nothing");
});

test("(b) the leader dm-master killed once the tasks are Paused: the switch waits for DM to elect another leader and completes through another member; nothing lost", async () => {
    let killed = "";
    let t0 = 0;
    const { r, load } = await upUnderLoad(rig, toReplica, {
        during: async () => {
            await rig.watch.waitFor(PAUSED);
            const leader = (await sb.dm.leader())!;
            killed = leader.name;
            t0 = performance.now();
            await leader.proc.kill();
        },
    });
    const elected = await leaderWithin(120_000);
    console.log(
        `  killed leader ${killed}; ${elected.name} leads ${Math.round(performance.now() - t0)} ms after the kill`,
    );
    console.log(
        `  the faulty up exited ${r.code}; its DM lines:\n${r.output
            .split("\n")
            .filter((l) => /dm-switch|error|\* /.test(l))
            .slice(0, 40)
            .join("\n")}`,
    );
    assert.equal(r.code, 0, `the up did not complete:\n${r.output.split("\n").slice(-40).join("\n")}`);
    assert.match(r.output, /has a leader to pass .* to \(.*\); waiting up to 90000 ms for DM to elect one/);
    assert.match(r.output, /answered .* again after \d+ ms without a leader/);
    assert.deepEqual(Object.values(await stagesOf(rig)), ["Running", "Running"]);
    assert.equal(await sb.vipTarget(), "replica");
    await sb.dm.masters.find((m) => m.name === killed)!.proc.start();
    const again = await assertConverges(rig, toReplica, [load]);
    report("leader dm-master killed after the pause", { "faulty up": r, "re-run": again }, load);
});

test("(c) the source's dm-worker killed once the tasks are Paused: DM re-binds the source to a spare worker; pulumi up converges, nothing lost", async () => {
    const bound = async (): Promise<string | undefined> => (await rig.dm.getSource(sb.source.id))?.worker;
    const from = (await bound())!;
    const worker = sb.dm.workers.find((w) => w.name === from)!;
    let t0 = 0;
    let gtidAtPause: Record<string, string> = {};
    const { r, load } = await upUnderLoad(rig, toPrimary, {
        during: async () => {
            await rig.watch.waitFor(PAUSED);
            const st = await Promise.all(sb.tasks.map((t) => rig.dm.taskStatus(t.name, sb.source.id)));
            gtidAtPause = Object.fromEntries(
                st.map((s, i) => [sb.tasks[i].name, `${s[0]?.stage} ${s[0]?.syncerBinlogGtid}`]),
            );
            t0 = performance.now();
            await worker.proc.kill();
        },
    });
    console.log(
        `  ${from} killed once the tasks were Paused (${JSON.stringify(gtidAtPause)}); the faulty up exited ${r.code}`,
    );
    console.log(
        r.output
            .split("\n")
            .filter((l) => /dm-switch|error|\* /.test(l))
            .slice(0, 40)
            .join("\n"),
    );
    // DM notices the worker's keepalive lease ran out, then binds the source to a free worker.
    let to: string | undefined;
    await within(
        () => `the source was not re-bound within 180 s (bound to ${to})`,
        async () => ((to = await bound().catch(() => undefined)) && to !== from) || undefined,
        { intervalMs: 500, timeoutMs: 180_000 - (performance.now() - t0) },
    );
    const reboundMs = Math.round(performance.now() - t0);
    // What the tasks are on the new worker once it reports them.
    let subs = await Promise.all(sb.tasks.map((t) => rig.dm.taskStatus(t.name, sb.source.id)));
    await within(
        () => `the tasks were not reported by ${to}: ${JSON.stringify(subs)}`,
        async () => {
            subs = await Promise.all(sb.tasks.map((t) => rig.dm.taskStatus(t.name, sb.source.id)));
            return !subs.some((s) => !s[0] || s[0].stage === "Offline" || s[0].worker !== to) || undefined;
        },
        { intervalMs: 500, timeoutMs: 240_000 - (performance.now() - t0) },
    );
    const there = Object.fromEntries(
        subs.map((s, i) => [sb.tasks[i].name, `${s[0].stage} ${s[0].syncerBinlogGtid} on ${s[0].worker}`]),
    );
    console.log(
        `  DM re-bound ${sb.source.id} from ${from} to ${to} ${reboundMs} ms after the kill; the tasks there: ${JSON.stringify(there)}`,
    );
    if (r.code !== 0) {
        await assertFailedClearly(rig, r, /switching DM source sandbox-source to primary failed/);
    }
    // The re-run with worker1 still dead: the spare worker carries the source.
    const again = await assertConverges(rig, toPrimary, [load]);
    assert.equal(await bound(), to);
    report("source's dm-worker killed after the pause", { "faulty up": r, "re-run": again }, load);
    await worker.proc.start();
});

test("(d) the source's dm-worker killed while the switch waits between pause and resume: DM re-binds the source (its tasks Stopped at the pause's checkpoint); what dm-switch does; pulumi up converges, nothing lost", async () => {
    const bound = async (): Promise<string | undefined> => (await rig.dm.getSource(sb.source.id))?.worker;
    const from = (await bound())!;
    const worker = sb.dm.workers.find((w) => w.name === from)!;
    const target = (await sb.vipTarget()) === "primary" ? "replica" : "primary";
    const other = target === "replica" ? sb.replica : sb.primary;
    // The target stops replicating: the switch waits at its catch-up check, between the pause and the resume.
    await other.query("STOP SLAVE");
    let rebound = "";
    let atPause: string[] = [];
    let onSpare: string[] = [];
    const { r, load } = await upUnderLoad(
        rig,
        { ...toReplica, reads: target, catchUpTimeoutMs: 240_000 },
        {
            during: async () => {
                await rig.watch.waitFor(/lags behind gtid-S; waiting/);
                const paused = await Promise.all(sb.tasks.map((t) => rig.dm.taskStatus(t.name, sb.source.id)));
                const t0 = performance.now();
                await worker.proc.kill();
                let to: string | undefined;
                await within(
                    "the source was not re-bound within 180 s",
                    async () => ((to = await bound().catch(() => undefined)) && to !== from) || undefined,
                    { intervalMs: 500, timeoutMs: 180_000 - (performance.now() - t0) },
                );
                let subs = await Promise.all(sb.tasks.map((t) => rig.dm.taskStatus(t.name, sb.source.id)));
                await within(
                    () => `the tasks were not reported by ${to}`,
                    async () => {
                        subs = await Promise.all(sb.tasks.map((t) => rig.dm.taskStatus(t.name, sb.source.id)));
                        return !subs.some((s) => !s[0] || s[0].stage === "Offline" || s[0].worker !== to) || undefined;
                    },
                    { intervalMs: 500, timeoutMs: 240_000 - (performance.now() - t0) },
                );
                atPause = paused.map((s) => `${s[0]?.stage} ${s[0]?.syncerBinlogGtid}`);
                onSpare = subs.map((s) => `${s[0].stage} ${s[0].syncerBinlogGtid}`);
                rebound = `DM re-bound ${sb.source.id} from ${from} to ${to} ${Math.round(performance.now() - t0)} ms after the kill; at the pause ${JSON.stringify(atPause)}, on ${to} ${JSON.stringify(onSpare)}`;
                await other.query("START SLAVE");
            },
        },
    ).finally(() => other.query("START SLAVE"));
    console.log(`  ${rebound}`);
    // What DM did: the spare worker holds the subtasks in stage Stopped (the OpenAPI pause is DM's "stop"
    // stage, which the first worker reported as Paused), at the checkpoint flushed by the pause.
    assert.deepEqual(
        onSpare,
        atPause.map((p) => p.replace(/^Paused /, "Stopped ")),
    );
    // dm-switch reads Stopped where it left Paused as another switch's doing: it moves nothing, resumes the
    // tasks where they read from and fails naming them; the next up switches.
    if (r.code !== 0) {
        await assertFailedClearly(
            rig,
            r,
            /switching DM source sandbox-source to \w+ failed: .*sandbox_task_0 is Stopped/,
        );
    }
    console.log(
        `  the up exited ${r.code}:\n${r.output
            .split("\n")
            .filter((l) => /dm-switch|error|\* /.test(l))
            .slice(-20)
            .join("\n")}`,
    );
    const again = await assertConverges(rig, { ...toReplica, reads: target }, [load]);
    report("source's dm-worker killed between pause and resume", { "faulty up": r, "re-run": again }, load);
    await worker.proc.start();
});
