/**
 * The DM client over the OpenAPI against a dm-master stand-in replaying recorded answers: the requests
 * each call makes, errors in one line without secrets, bad addresses refused before any I/O; and
 * waitForStage over a scripted client.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { createDmClient, DmClient, DmError, SubtaskStatus, waitForStage, WaitTimeoutError } from "../../components/dm";
import { recorded } from "../support/recorded";
import { runningSubtask, sourceConfigInfo } from "../support/dmFixtures";
import { DmMasterStandIn, startDmMaster } from "../support/dmStandIns";

function withoutStatus(name: string): unknown {
    const { status_list: _s, task_name_list: _t, ...cfg } = recorded.apiSource as Record<string, unknown>;
    return { ...cfg, source_name: name };
}
function task(name: string, sources: string[]): unknown {
    const target_config = { host: "127.0.0.1", port: 4000, user: "root", password: "hunter2-pw" };
    return {
        name,
        task_mode: "incremental",
        source_config: { source_conf: sources.map((s) => ({ source_name: s, binlog_gtid: "0-1-4" })) },
        target_config,
    };
}

// A dm-master stand-in replaying recorded OpenAPI answers; it records each request.
let dm: DmMasterStandIn;
let address = "";
const routes: Record<string, [number, unknown]> = {
    "GET /api/v1/tasks/task-s1/status": [200, recorded.apiStatusRunning],
    "GET /api/v1/tasks/nope/status": [400, recorded.apiStatusUnknown],
    "POST /api/v1/tasks/task-s1/stop": [200, undefined],
    "POST /api/v1/tasks/task-s1/start": [200, undefined],
    "GET /api/v1/sources/mariadb-01?with_status=true": [200, recorded.apiSource],
    // Without status, as this DM answers them: no task_name_list, no status_list; tasks carry their full config.
    "GET /api/v1/sources": [200, { total: 2, data: [withoutStatus("mariadb-01"), withoutStatus("mariadb-02")] }],
    "GET /api/v1/tasks": [
        200,
        { total: 2, data: [task("task-s1", ["mariadb-01"]), task("task-both", ["mariadb-02", "mariadb-01"])] },
    ],
    "DELETE /api/v1/sources/mariadb-01": [400, recorded.apiDeleteSourceBusy],
    // dm-master echoes the request in some answers: the client must never show a body raw.
    "POST /api/v1/sources": [500, { source: { password: "hunter2-pw" } }],
    // DM's error reply with nothing in it (seen once while a dm-worker went offline).
    "GET /api/v1/tasks/bare/status": [400, { error_code: 0, error_msg: "" }],
};

before(async () => {
    dm = await startDmMaster((r) => routes[`${r.method} ${r.url}`] ?? [404, undefined]);
    address = dm.addr;
});
after(() => dm.close());

const api = () => createDmClient({ transport: "openapi", address });

test("pause and resume name the task's sources and never remove meta", async () => {
    dm.requests.length = 0;
    await api().pauseTask("task-s1");
    await api().resumeTask("task-s1", ["mariadb-01"]);
    assert.deepEqual(
        dm.requests.map((r) => `${r.method} ${r.url} ${r.body}`),
        [
            "GET /api/v1/tasks/task-s1/status ",
            'POST /api/v1/tasks/task-s1/stop {"source_name_list":["mariadb-01"]}',
            'POST /api/v1/tasks/task-s1/start {"source_name_list":["mariadb-01"],"remove_meta":false}',
        ],
    );
});

test("every source's configuration and tasks come from two requests that reach no dm-worker", async () => {
    dm.requests.length = 0;
    const all = await api().listSourceConfigs();
    assert.deepEqual(dm.requests.map((r) => `${r.method} ${r.url}`).sort(), [
        "GET /api/v1/sources",
        "GET /api/v1/tasks",
    ]);
    // The recorded sources are at port 23306.
    const at = (id: string, taskNames: string[]) => sourceConfigInfo(id, { port: 23306, taskNames });
    assert.deepEqual(all, [at("mariadb-01", ["task-both", "task-s1"]), at("mariadb-02", ["task-both"])]);
    assert.doesNotMatch(JSON.stringify(all), /hunter2/, "nothing of a task's target config is kept");
    // One source: what getSource reads, without the status.
    assert.deepEqual(await api().getSourceConfig("mariadb-01"), at("mariadb-01", ["task-s1", "task-s2"]));
    assert.equal(await api().getSourceConfig("zz"), undefined);
});

const errorCases: { name: string; run: (c: DmClient) => Promise<unknown>; message: string; code?: number }[] = [
    {
        name: "an unknown task",
        run: (c) => c.pauseTask("nope"),
        code: 46018,
        message:
            "pause-task nope failed: [code=46018:class=scheduler:scope=internal:level=medium], Message: task with name nope not exist, Workaround: Please use `query-status` command to see tasks. ",
    },
    {
        name: "an unknown source",
        run: (c) => c.tasksOfSource("zz"),
        message: "list tasks of source zz failed: source zz does not exist. Check the source id (GET /api/v1/sources).",
    },
    {
        name: "a source that still has tasks",
        run: (c) => c.stopSource("mariadb-01"),
        code: 46010,
        message:
            "operate-source stop mariadb-01 failed: [code=46010:class=dm-master:scope=internal:level=medium], Message: source with name mariadb-01 need to operate has existing tasks [task-s1 task-s2], Workaround: Please `stop-task` first. ",
    },
    {
        name: "an answer that echoes the password",
        run: (c) =>
            c.createSource({
                id: "s",
                host: "h",
                port: 1,
                user: "u",
                password: "hunter2-pw",
                flavor: "mariadb",
                enableGtid: true,
            }),
        message: `operate-source create s failed: dm-master answered HTTP 500. Check that ADDR serves DM's OpenAPI (openapi = true) and see dm-master's log.`,
    },
    {
        name: "DM's error reply without a message",
        run: (c) => c.taskStatus("bare"),
        message: "query-status bare failed: dm-master answered HTTP 400 without an error message. See dm-master's log.",
    },
];
for (const c of errorCases) {
    test(`fails in one line for ${c.name} over the OpenAPI`, async () => {
        const err = await c.run(api()).then(
            () => undefined,
            (e: unknown) => e,
        );
        assert.ok(err instanceof DmError);
        assert.equal(err.message.trim(), c.message.replace("ADDR", address).trim());
        assert.equal(err.code, c.code);
        assert.doesNotMatch(err.message, /hunter2|\n/);
    });
}

test("fails in one line with a remedy when dm-master is unreachable", async () => {
    const c = createDmClient({ transport: "openapi", address: "127.0.0.1:1" });
    await assert.rejects(c.taskStatus("t"), {
        name: "DmError",
        message:
            "query-status t failed: cannot reach dm-master at 127.0.0.1:1 (ECONNREFUSED). Check that dm-master runs there with openapi = true and that the address and TLS settings are right.",
    });
});

test("rejects a bad address or transport before any I/O", () => {
    assert.throws(() => createDmClient({ transport: "openapi", address: "http://x:1" }), {
        message:
            'DM address must be dm-master\'s host:port with a port from 1 to 65535 (or several separated by commas, for example "10.0.0.5:8261", or "10.0.0.5:8261,10.0.0.6:8261,10.0.0.7:8261" for several dm-masters), got "http://x:1"',
    });
    assert.throws(() => createDmClient({ transport: "grpc" as never, address: "x:1" }), {
        message: 'DM transport "grpc" is not supported; use "openapi" or "dmctl".',
    });
});

function scripted(stages: string[][]): DmClient {
    let round = 0;
    const status = (task: string, stage: string): SubtaskStatus =>
        runningSubtask(task, "src", { worker: "w", stage: stage as never, rawStage: stage, syncerBinlogGtid: "" });
    return {
        taskStatus: async (task: string) => {
            const i = Number(task.slice(1));
            const s = stages[Math.min(Math.floor(round++ / stages[0].length), stages.length - 1)][i];
            return [status(task, s)];
        },
    } as unknown as DmClient;
}

test("waits until every task reaches the stage", async () => {
    const c = scripted([
        ["Running", "Pausing"],
        ["Paused", "Pausing"],
        ["Paused", "Paused"],
    ]);
    const got = await waitForStage(c, ["t0", "t1"], "src", ["Paused"], { intervalMs: 1 });
    assert.deepEqual(
        got.map((s) => s.stage),
        ["Paused", "Paused"],
    );
});

test("times out naming the task, the awaited stage and the last stage seen", async () => {
    const c = scripted([["Paused", "Pausing"]]);
    await assert.rejects(
        waitForStage(c, ["t0", "t1"], "src", ["Paused", "Stopped"], { intervalMs: 1, timeoutMs: 20 }),
        (e: unknown) => {
            assert.ok(e instanceof WaitTimeoutError);
            assert.equal(
                e.message,
                "task t1 on source src did not reach stage Paused or Stopped within 20 ms; last stage seen: Pausing. Check the task with query-status and the worker's log, then retry.",
            );
            assert.equal(e.lastSeen?.stage, "Pausing");
            return true;
        },
    );
});
