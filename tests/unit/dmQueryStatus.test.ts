/**
 * The per-source status read: the QueryStatus protobuf answers recorded from a real dm-master, mapped to
 * the OpenAPI transport's SubtaskStatus; dmctl's `query-status -s`; and statusOnSource's choices (answer,
 * Offline, per-task read). The codec on hand-made messages: dmQueryStatusCodec.test.ts; the gRPC client:
 * dmGrpcStatus.test.ts.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import {
    DmClient,
    DmError,
    SourceStatusUnavailable,
    SourceTasksStatus,
    statusOnSource,
    SubtaskStatus,
} from "../../components/dm";
import { subtasksFromQueryStatus, subtasksOfSource } from "../../components/dm/dmctlClient";
import { sourceTasksFromPb } from "../../components/dm/grpcStatus";
import { subtaskFromApi } from "../../components/dm/openapi";
import { decodeQueryStatusListResponse } from "../../components/dm/queryStatusCodec";
import { runningSubtask } from "../support/dmFixtures";
import { queryStatusRecorded, recorded } from "../support/recorded";

const SOURCE = "sandbox-source";
const ADDRESS = "127.0.0.1:8261";
const TASKS = ["sandbox_task_0", "sandbox_task_1"];

type ApiBody = { data: Parameters<typeof subtaskFromApi>[0][] };
const perTask = (api: Record<string, ApiBody>, task: string) => api[task].data.map((s) => subtaskFromApi(s, task));
const fromGrpc = (b64: string) =>
    sourceTasksFromPb(SOURCE, decodeQueryStatusListResponse(Buffer.from(b64, "base64")), ADDRESS);

for (const state of ["runningAndPaused", "errored"] as const) {
    test(`recorded QueryStatus (${state}): every subtask equals the OpenAPI's per-task read`, () => {
        const r = queryStatusRecorded[state];
        const got = fromGrpc(r.grpc);
        assert.equal(got.unanswered, undefined);
        assert.deepEqual(
            got.subtasks,
            TASKS.flatMap((t) => perTask(r.api as Record<string, ApiBody>, t)),
        );
    });
}

test("recorded QueryStatus: the values read, and DM's error text as the OpenAPI words it", () => {
    const [running, paused] = fromGrpc(queryStatusRecorded.runningAndPaused.grpc).subtasks;
    assert.deepEqual(running, {
        task: "sandbox_task_0",
        source: SOURCE,
        worker: "worker1",
        stage: "Running",
        rawStage: "Running",
        unit: "Sync",
        syncerBinlogGtid: "0-1-4",
        masterBinlogGtid: "0-1-6",
        dumpIoBytes: 2953,
        errors: [],
    });
    assert.deepEqual(paused, {
        ...running,
        task: "sandbox_task_1",
        stage: "Paused",
        rawStage: "Paused",
        syncerBinlogGtid: "0-1-6",
        dumpIoBytes: 2983,
    });
    const [errored] = fromGrpc(queryStatusRecorded.errored.grpc).subtasks;
    assert.equal(errored.stage, "Paused");
    assert.deepEqual(errored.errors, [
        "[code=44019:class=schema-tracker:scope=internal:level=high], Message: startLocation: [position: (binlog.000001, 1924), gtid-set: 0-1-8], endLocation: [position: (binlog.000001, 1962), gtid-set: 0-1-8]: gen insert sqls failed, sourceTable: `sbtest_0`.`err_t`, targetTable: `sbtest_0`.`err_t`: failed to fetch downstream table `sbtest_0`.`err_t` by show create table statement in schema tracker, RawCause: Error 1146 (42S02): Table 'sbtest_0.err_t' doesn't exist.",
    ]);
});

test("recorded QueryStatus with the dm-worker stopped: unanswered, as the per-task read reports each task", () => {
    const r = queryStatusRecorded.workerOffline;
    const got = fromGrpc(r.grpc);
    assert.deepEqual(got.subtasks, []);
    for (const t of TASKS) {
        const [want] = perTask(r.api as Record<string, ApiBody>, t);
        assert.equal(want.stage, "Offline");
        assert.deepEqual(got.unanswered, { worker: want.worker, errors: want.errors });
    }
    assert.match(got.unanswered!.errors[0], /^\[code=38029:.*sandbox-source relevant worker-client not found/);
});

test("dmctl: query-status -s reads every subtask of the source as query-status <task> reads each", () => {
    const reply = recorded.dmctlQueryStatusRunning;
    const got = subtasksOfSource("mariadb-01", reply);
    assert.deepEqual(got, { source: "mariadb-01", subtasks: subtasksFromQueryStatus("task-s1", reply) });
    const offline = {
        result: true,
        msg: "",
        sources: [
            {
                result: false,
                msg: "[code=38029], Message:\n mariadb-01 relevant worker-client not found",
                sourceStatus: { source: "mariadb-01", worker: "" },
                subTaskStatus: null,
            },
        ],
    };
    const [perTaskOffline] = subtasksFromQueryStatus("task-s1", offline);
    assert.deepEqual(subtasksOfSource("mariadb-01", offline).unanswered, {
        worker: perTaskOffline.worker,
        errors: perTaskOffline.errors,
    });
    assert.throws(() => subtasksOfSource("other", reply), {
        name: "DmError",
        message: "query-status -s other failed: dm-master's answer has no status of source other. See dm-master's log.",
    });
});

// ---- statusOnSource

function fakeClient(answer: () => Promise<SourceTasksStatus>, perTaskCalls: string[]): DmClient {
    return {
        endpoint: { transport: "openapi", address: ADDRESS },
        sourceTaskStatus: answer,
        taskStatus: async (task: string, sourceId?: string) => {
            perTaskCalls.push(task);
            if (task === "unknown") {
                throw new DmError(
                    "query-status unknown failed: task unknown does not exist. Check the task name (GET /api/v1/tasks).",
                    "query-status",
                    task,
                );
            }
            return task === "elsewhere"
                ? [runningSubtask(task, "s2")]
                : [runningSubtask(task, sourceId ?? "s1", { syncerBinlogGtid: "per-task" })];
        },
    } as unknown as DmClient;
}

test("statusOnSource: tasks in the answer from it, a missing one by its own read, in the order asked", async () => {
    const calls: string[] = [];
    const lines: string[] = [];
    const c = fakeClient(
        async () => ({ source: "s1", subtasks: [runningSubtask("b", "s1"), runningSubtask("a", "s1")] }),
        calls,
    );
    const got = await statusOnSource(c, "s1", ["a", "late", "b", "elsewhere"], (l) => lines.push(l));
    assert.deepEqual([...got.keys()], ["a", "late", "b", "elsewhere"]);
    assert.deepEqual(got.get("a"), runningSubtask("a", "s1"));
    assert.equal(got.get("late")?.syncerBinlogGtid, "per-task");
    assert.equal(got.get("elsewhere"), undefined);
    assert.deepEqual(calls.sort(), ["elsewhere", "late"]);
    assert.deepEqual(lines, []);
    await assert.rejects(
        statusOnSource(c, "s1", ["a", "unknown"], () => undefined),
        { message: /^query-status unknown failed: task unknown does not exist/ },
    );
});

test("statusOnSource: no worker answered: every task Offline with the worker and DM's message, no per-task read", async () => {
    const calls: string[] = [];
    const c = fakeClient(
        async () => ({ source: "s1", subtasks: [], unanswered: { worker: "w1", errors: ["worker gone"] } }),
        calls,
    );
    const got = await statusOnSource(c, "s1", ["a", "b"], () => undefined);
    const offline: SubtaskStatus = {
        task: "a",
        source: "s1",
        worker: "w1",
        stage: "Offline",
        rawStage: "",
        unit: "",
        syncerBinlogGtid: "",
        masterBinlogGtid: "",
        errors: ["worker gone"],
    };
    assert.deepEqual([...got.values()], [offline, { ...offline, task: "b" }]);
    assert.deepEqual(calls, []);
});

test("statusOnSource: per-source read unavailable or failing: per-task reads, said once per client and cause", async () => {
    const calls: string[] = [];
    const lines: string[] = [];
    const c = fakeClient(
        () =>
            Promise.reject(
                new SourceStatusUnavailable(
                    "dm-master at 127.0.0.1:8261 did not answer gRPC QueryStatus (code 12: unimplemented).",
                    "s1",
                ),
            ),
        calls,
    );
    for (let i = 0; i < 3; i++) {
        const got = await statusOnSource(c, "s1", ["a", "b"], (l) => lines.push(l));
        assert.deepEqual(
            [...got.values()].map((s) => s?.syncerBinlogGtid),
            ["per-task", "per-task"],
        );
    }
    assert.equal(calls.length, 6);
    assert.deepEqual(lines, [
        "the status of every task of source s1 in one request is not available (dm-master at 127.0.0.1:8261 did not answer gRPC QueryStatus (code 12: unimplemented)): reading each task's status on its own",
    ]);
    const failing = fakeClient(
        () => Promise.reject(new DmError("query-status -s s1 failed: boom.", "query-status", "s1")),
        [],
    );
    await statusOnSource(failing, "s1", ["a"], (l) => lines.push(l));
    assert.equal(
        lines[1],
        "the status of every task of source s1 in one request failed (query-status -s s1 failed: boom): reading each task's status on its own",
    );
});
