/** memoizeReads: every read is asked of dm-master once; changes always go through. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { DmClient, memoizeReads, Transport } from "../../components/dm";
import { runningSubtask, sourceConfigInfo } from "../support/dmFixtures";

const config = (id: string, taskNames: string[]) => sourceConfigInfo(id, { taskNames });

/** A subtask of `task` on `source`. */
const sub = (task: string, source: string) =>
    runningSubtask(task, source, { syncerBinlogGtid: "0-1-10", masterBinlogGtid: "0-1-10" });

/** Task t1 has subtasks on s1 and s2; every call is noted. */
function countingClient(calls: string[], transport: Transport = "openapi"): DmClient {
    const note = (what: string) => {
        calls.push(what);
        return Promise.resolve();
    };
    return {
        endpoint: { transport, address: "127.0.0.1:8261" },
        getSource: async (id) => (calls.push(`getSource ${id}`), undefined),
        listSources: async () => (calls.push("listSources"), []),
        getSourceConfig: async (id) => (calls.push(`getSourceConfig ${id}`), undefined),
        listSourceConfigs: async () => (
            calls.push("listSourceConfigs"),
            [config("s1", ["t1"]), config("s2", ["t1", "t2"])]
        ),
        getSourceFile: async (id) => (calls.push(`getSourceFile ${id}`), undefined),
        createSource: (cfg) => note(`createSource ${cfg.id}`),
        stopSource: (id) => note(`stopSource ${id}`),
        startRelay: (id, worker) => note(`startRelay ${id} ${worker}`),
        stopRelay: (id, worker) => note(`stopRelay ${id} ${worker}`),
        tasksOfSource: async (id) => (calls.push(`tasksOfSource ${id}`), ["t1"]),
        taskStatus: async (task, sourceId) => {
            calls.push(`taskStatus ${task} ${sourceId ?? "*"}`);
            if (task === "gone") throw new Error("task gone does not exist");
            return [sub(task, "s1"), sub(task, "s2")].filter((s) => sourceId === undefined || s.source === sourceId);
        },
        sourceTaskStatus: async (id) => (
            calls.push(`sourceTaskStatus ${id}`),
            { source: id, subtasks: [sub("t1", id)] }
        ),
        pauseTask: (task) => note(`pauseTask ${task}`),
        resumeTask: (task) => note(`resumeTask ${task}`),
        getTaskConfig: async (task) => (calls.push(`getTaskConfig ${task}`), "name: t1"),
        stopTask: (task) => note(`stopTask ${task}`),
        startTask: () => note("startTask"),
    };
}

test("reads are asked once per argument, concurrent callers share the answer", async () => {
    const calls: string[] = [];
    const dm = memoizeReads(countingClient(calls, "dmctl"));
    await Promise.all([
        dm.getSource("s1"),
        dm.getSource("s1"),
        dm.taskStatus("t1", "s1"),
        dm.taskStatus("t1", "s1"),
        dm.tasksOfSource("s1"),
    ]);
    await dm.getSource("s1");
    await dm.getSource("s2");
    await dm.taskStatus("t1", "s2");
    assert.deepEqual(calls, [
        "getSource s1",
        "taskStatus t1 s1",
        "tasksOfSource s1",
        "getSource s2",
        "taskStatus t1 s2",
    ]);
});

test("over the OpenAPI a task's status is read whole once and each source gets its own subtask", async () => {
    const calls: string[] = [];
    const dm = memoizeReads(countingClient(calls, "openapi"));
    const [one, two, all] = await Promise.all([
        dm.taskStatus("t1", "s1"),
        dm.taskStatus("t1", "s2"),
        dm.taskStatus("t1"),
    ]);
    assert.deepEqual(one, [sub("t1", "s1")]);
    assert.deepEqual(two, [sub("t1", "s2")]);
    assert.deepEqual(all, [sub("t1", "s1"), sub("t1", "s2")]);
    assert.deepEqual(await dm.taskStatus("t1", "s3"), [], "a source without a subtask of the task gets none");
    assert.deepEqual(calls, ["taskStatus t1 *"]);
});

test("every source's configuration comes from one listing, whichever sources are asked", async () => {
    const calls: string[] = [];
    const dm = memoizeReads(countingClient(calls));
    const [s1, s2, none] = await Promise.all([
        dm.getSourceConfig("s1"),
        dm.getSourceConfig("s2"),
        dm.getSourceConfig("nope"),
    ]);
    assert.deepEqual(s1, config("s1", ["t1"]));
    assert.deepEqual(s2, config("s2", ["t1", "t2"]));
    assert.equal(none, undefined, "a source DM does not have");
    assert.equal((await dm.listSourceConfigs()).length, 2);
    assert.deepEqual(calls, ["listSourceConfigs"]);
});

test("a failed read fails every caller the same way, once", async () => {
    for (const transport of ["openapi", "dmctl"] as const) {
        const calls: string[] = [];
        const dm = memoizeReads(countingClient(calls, transport));
        await assert.rejects(dm.taskStatus("gone", "s1"), /task gone does not exist/);
        await assert.rejects(dm.taskStatus("gone", "s2"), /task gone does not exist/);
        assert.equal(calls.length, transport === "openapi" ? 1 : 2, transport);
    }
});

test("changes are never cached", async () => {
    const calls: string[] = [];
    const dm = memoizeReads(countingClient(calls));
    await dm.pauseTask("t1", ["s1"]);
    await dm.pauseTask("t1", ["s1"]);
    await dm.resumeTask("t1", ["s1"]);
    await dm.resumeTask("t1", ["s1"]);
    assert.deepEqual(calls, ["pauseTask t1", "pauseTask t1", "resumeTask t1", "resumeTask t1"]);
});

test("every task of a source (sourceTaskStatus) is read once per source", async () => {
    const calls: string[] = [];
    const dm = memoizeReads(countingClient(calls, "openapi"));
    const [a, b] = await Promise.all([dm.sourceTaskStatus("s1"), dm.sourceTaskStatus("s1")]);
    assert.equal(a, b);
    assert.deepEqual(a.subtasks, [sub("t1", "s1")]);
    await dm.sourceTaskStatus("s2");
    await dm.sourceTaskStatus("s1");
    assert.deepEqual(calls, ["sourceTaskStatus s1", "sourceTaskStatus s2"]);
});
