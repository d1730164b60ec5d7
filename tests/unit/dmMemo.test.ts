/** memoizeReads: every read is asked of dm-master once; changes always go through. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { DmClient, memoizeReads } from "../../components/dm";

function countingClient(calls: string[]): DmClient {
    const note = (what: string) => {
        calls.push(what);
        return Promise.resolve();
    };
    return {
        endpoint: { transport: "openapi", address: "127.0.0.1:8261" },
        getSource: async (id) => (calls.push(`getSource ${id}`), undefined),
        listSources: async () => (calls.push("listSources"), []),
        createSource: (cfg) => note(`createSource ${cfg.id}`),
        stopSource: (id) => note(`stopSource ${id}`),
        tasksOfSource: async (id) => (calls.push(`tasksOfSource ${id}`), ["t1"]),
        taskStatus: async (task, sourceId) => {
            calls.push(`taskStatus ${task} ${sourceId}`);
            if (task === "gone") throw new Error("task gone does not exist");
            return [];
        },
        pauseTask: (task) => note(`pauseTask ${task}`),
        resumeTask: (task) => note(`resumeTask ${task}`),
        getTaskConfig: async (task) => (calls.push(`getTaskConfig ${task}`), "name: t1"),
        stopTask: (task) => note(`stopTask ${task}`),
        startTask: () => note("startTask"),
    };
}

test("reads are asked once per argument, concurrent callers share the answer", async () => {
    const calls: string[] = [];
    const dm = memoizeReads(countingClient(calls));
    await Promise.all([dm.getSource("s1"), dm.getSource("s1"), dm.taskStatus("t1", "s1"), dm.taskStatus("t1", "s1"), dm.tasksOfSource("s1")]);
    await dm.getSource("s1");
    await dm.getSource("s2");
    await dm.taskStatus("t1", "s2");
    assert.deepEqual(calls, ["getSource s1", "taskStatus t1 s1", "tasksOfSource s1", "getSource s2", "taskStatus t1 s2"]);
});

test("a failed read fails every caller the same way, once", async () => {
    const calls: string[] = [];
    const dm = memoizeReads(countingClient(calls));
    await assert.rejects(dm.taskStatus("gone", "s1"), /task gone does not exist/);
    await assert.rejects(dm.taskStatus("gone", "s1"), /task gone does not exist/);
    assert.deepEqual(calls, ["taskStatus gone s1"]);
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
