/**
 * The per-source status read against a real dm-master and dm-worker (the local sandbox): through both
 * transports (dmctl `query-status -s`; the OpenAPI transport's gRPC QueryStatus) it equals the per-task
 * reads with tasks Running, Paused, and the dm-worker offline; a task DM does not know fails as its
 * per-task read does; over TLS it reads with DM's certificates and falls back to the per-task read (and
 * its error) without them. Prints latencies; asserts no times.
 */
import assert from "node:assert/strict";
import { within } from "../support/wait";
import * as path from "node:path";
import { after, before, test } from "node:test";
import { createDmClient, DmClient, statusOnSource, SubtaskStatus, waitForStage } from "../../components/dm";

/** The part of sandbox/index.ts this test uses. */
interface Sandbox {
    dm: {
        masterAddr: string;
        dmctlPath: string;
        worker: { stop(): Promise<void>; start(): Promise<void> };
        tls?: { ca: string; cert: string; key: string };
    };
    source: { id: string };
    tasks: { name: string }[];
    stop(): Promise<void>;
}

const repoRoot = path.resolve(__dirname, "..", "..");
const sandboxModule = process.env.DM_SWITCH_SANDBOX_MODULE ?? path.join(repoRoot, "sandbox");
const start = async (o: object) =>
    ((await import(sandboxModule)) as { startSandbox(o: object): Promise<Sandbox> }).startSandbox(o);

let sb: Sandbox;
let api: DmClient;
let ctl: DmClient;
const lines: string[] = [];
const log = (l: string) => lines.push(l);

before(async () => {
    sb = await start({ tasks: 3 });
    api = createDmClient({ transport: "openapi", address: sb.dm.masterAddr, dmctlPath: sb.dm.dmctlPath });
    ctl = createDmClient({ transport: "dmctl", address: sb.dm.masterAddr, dmctlPath: sb.dm.dmctlPath });
});

after(async () => {
    await sb?.stop();
});

const names = () => sb.tasks.map((t) => t.name);
const perTask = async (c: DmClient, tasks: string[]) =>
    Promise.all(tasks.map(async (t) => (await c.taskStatus(t, sb.source.id)).find((s) => s.source === sb.source.id)));
/** What does not move while a task runs with no writes upstream. */
const steady = (s: SubtaskStatus | undefined) =>
    s && {
        task: s.task,
        source: s.source,
        worker: s.worker,
        stage: s.stage,
        rawStage: s.rawStage,
        unit: s.unit,
        errors: s.errors,
    };

async function bothAgree(exact: boolean, offline = false): Promise<void> {
    for (const c of [api, ctl]) {
        const t0 = performance.now();
        const one = await statusOnSource(c, sb.source.id, names(), log);
        const ms = performance.now() - t0;
        const t1 = performance.now();
        const each = await perTask(c, names());
        console.log(
            `${c.endpoint.transport}: ${names().length} tasks, one per-source read ${ms.toFixed(0)} ms, per-task reads ${(performance.now() - t1).toFixed(0)} ms`,
        );
        const pick = exact ? (s: SubtaskStatus | undefined) => s : steady;
        assert.deepEqual([...one.values()].map(pick), each.map(pick), c.endpoint.transport);
        const all = await c.sourceTaskStatus(sb.source.id);
        assert.deepEqual(
            all.subtasks.map((s) => s.task).sort(),
            offline ? [] : [...names()].sort(),
            `${c.endpoint.transport}: every task of the source`,
        );
        assert.equal(all.unanswered !== undefined, offline, `${c.endpoint.transport}: unanswered`);
    }
    assert.deepEqual(lines, [], "no fallback to per-task reads");
}

test("Running tasks: the per-source read equals the per-task reads, both transports", async () => {
    await bothAgree(false);
    const [a, c] = [await api.sourceTaskStatus(sb.source.id), await ctl.sourceTaskStatus(sb.source.id)];
    assert.deepEqual(a.subtasks.map(steady), c.subtasks.map(steady), "both transports read the same");
    assert.ok(
        a.subtasks.every(
            (s) => s.stage === "Running" && s.unit === "Sync" && s.worker !== "" && s.dumpIoBytes !== undefined,
        ),
    );
});

test("one task Paused, then all: equal to the per-task reads, GTIDs and bytes included once paused", async () => {
    const [first, ...rest] = names();
    await api.pauseTask(first, [sb.source.id]);
    await waitForStage(api, [first], sb.source.id, ["Paused"], { intervalMs: 10, timeoutMs: 20_000 });
    await bothAgree(false);
    assert.equal((await statusOnSource(api, sb.source.id, [first], log)).get(first)?.stage, "Paused");
    await Promise.all(rest.map((t) => api.pauseTask(t, [sb.source.id])));
    await waitForStage(api, names(), sb.source.id, ["Paused"], { intervalMs: 10, timeoutMs: 20_000 });
    await bothAgree(true);
    await Promise.all(names().map((t) => api.resumeTask(t, [sb.source.id])));
    await waitForStage(api, names(), sb.source.id, ["Running"], { intervalMs: 10, timeoutMs: 20_000 });
});

test("a task DM does not know is reported as its per-task read reports it (read on its own)", async () => {
    const outcome = (p: Promise<unknown>) =>
        p.then(
            (v) => ({ value: v }),
            (e: Error) => ({ error: e.message }),
        );
    for (const c of [api, ctl]) {
        const want = await outcome(perTask(c, ["no-such-task"]).then(([s]) => s));
        const got = await outcome(
            statusOnSource(c, sb.source.id, [names()[0], "no-such-task"], log).then((m) => m.get("no-such-task")),
        );
        assert.deepEqual(got, want, c.endpoint.transport);
    }
    // The OpenAPI fails for it; dmctl -s shows what the worker says of a task it does not run.
    assert.match(
        ((await outcome(statusOnSource(api, sb.source.id, ["no-such-task"], log))) as { error: string }).error,
        /^query-status no-such-task failed: .*task with name no-such-task not exist/,
    );
    const viaDmctl = (await statusOnSource(ctl, sb.source.id, ["no-such-task"], log)).get("no-such-task");
    assert.deepEqual([viaDmctl?.stage, viaDmctl?.rawStage], ["Unknown", "InvalidStage"]);
    assert.deepEqual(lines, []);
});

test("the dm-worker offline: every task Offline with DM's message, as the per-task reads say", async () => {
    await sb.dm.worker.stop();
    try {
        // dm-master learns of the stop a moment later; until then it forwards requests to the stopped worker.
        let now: Awaited<ReturnType<typeof perTask>> = [];
        await within(
            () => `the tasks did not show Offline within 20 s: ${JSON.stringify(now.map(steady))}`,
            async () => {
                now = await perTask(api, names());
                return (
                    now.every(
                        (s) => s?.stage === "Offline" && /relevant worker-client not found/.test(s.errors.join(" ")),
                    ) || undefined
                );
            },
            { intervalMs: 200, timeoutMs: 20_000 },
        );
        await bothAgree(true, true);
        const all = await api.sourceTaskStatus(sb.source.id);
        assert.match(
            all.unanswered?.errors[0] ?? "",
            /^\[code=38029:.*sandbox-source relevant worker-client not found/,
        );
    } finally {
        await sb.dm.worker.start();
    }
    await waitForStage(api, names(), sb.source.id, ["Running"], { intervalMs: 50, timeoutMs: 60_000 });
});

test("over TLS: read with DM's CA and client certificate; without the certificate, the per-task read's TLS error", async () => {
    const tlsSb = await start({ tasks: 1, tls: true });
    try {
        const pems = tlsSb.dm.tls!;
        const task = tlsSb.tasks[0].name;
        const good = createDmClient({ transport: "openapi", address: tlsSb.dm.masterAddr, tls: pems });
        const [each] = await good.taskStatus(task, tlsSb.source.id);
        const one = await good.sourceTaskStatus(tlsSb.source.id);
        assert.deepEqual(one.subtasks.map(steady), [steady(each)]);
        const noCert = createDmClient({ transport: "openapi", address: tlsSb.dm.masterAddr, tls: { ca: pems.ca } });
        const seen: string[] = [];
        const want = await noCert.taskStatus(task, tlsSb.source.id).then(
            () => "no error",
            (e: Error) => e.message,
        );
        const got = await statusOnSource(noCert, tlsSb.source.id, [task], (l) => seen.push(l)).then(
            () => "no error",
            (e: Error) => e.message,
        );
        assert.equal(got, want);
        assert.match(got, /dm-master refused the client\. Set tls\.cert and tls\.key/);
        assert.equal(seen.length, 1);
        assert.match(
            seen[0],
            /^the status of every task of source sandbox-source in one request is not available \(dm-master at \S+ did not answer gRPC QueryStatus \(code 14: .*certificate required/,
        );
    } finally {
        await tlsSb.stop();
    }
});
