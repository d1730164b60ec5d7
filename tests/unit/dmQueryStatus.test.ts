/**
 * The per-source status read: the QueryStatus protobuf codec on bytes recorded from a real dm-master and on
 * hand-made messages, its mapping to the OpenAPI transport's SubtaskStatus, dmctl's `query-status -s`, the
 * gRPC client against a local gRPC server, and statusOnSource's choices (answer, Offline, per-task read).
 */
import * as grpc from "@grpc/grpc-js";
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
import { grpcSourceStatus, processErrorsText, sourceTasksFromPb } from "../../components/dm/grpcStatus";
import { subtaskFromApi } from "../../components/dm/openapi";
import {
    decodeQueryStatusListResponse,
    encodeQueryStatusListRequest,
    ProtobufError,
} from "../../components/dm/queryStatusCodec";
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

// ---- hand-made messages: a minimal encoder of the wire format

const varint = (n: bigint): number[] => {
    const out: number[] = [];
    let v = BigInt.asUintN(64, n);
    while (v >= 0x80n) {
        out.push(Number(v & 0x7fn) | 0x80);
        v >>= 7n;
    }
    return [...out, Number(v)];
};
const key = (no: number, wire: number) => varint(BigInt((no << 3) | wire));
const num = (no: number, v: number | bigint) => Buffer.from([...key(no, 0), ...varint(BigInt(v))]);
const bytes = (no: number, b: Buffer | string) => {
    const body = typeof b === "string" ? Buffer.from(b) : b;
    return Buffer.concat([Buffer.from([...key(no, 2), ...varint(BigInt(body.length))]), body]);
};
const msg = (...parts: Buffer[]) => Buffer.concat(parts);
const fixed32 = (no: number) => Buffer.from([...key(no, 5), 1, 2, 3, 4]);
const fixed64 = (no: number) => Buffer.from([...key(no, 1), 1, 2, 3, 4, 5, 6, 7, 8]);

const perr = (code: number, message: string, extra: Buffer[] = []) =>
    msg(num(1, code), bytes(2, "functional"), bytes(3, "internal"), bytes(4, "high"), bytes(5, message), ...extra);
const source = (id: string, worker: string, ...more: Buffer[]) =>
    bytes(3, msg(bytes(1, id), bytes(2, worker), ...more));
const sync = (...f: Buffer[]) => bytes(10, msg(...f));
const sub = (name: string, stage: number, unit: number, ...more: Buffer[]) =>
    bytes(4, msg(bytes(1, name), num(2, stage), num(3, unit), ...more));
const response = (...f: Buffer[]) => bytes(3, msg(...f));
const list = (...sources: Buffer[]) => msg(num(1, 1), ...sources);

test("the request: no task name, the source; proto3 leaves the empty name out", () => {
    assert.deepEqual([...encodeQueryStatusListRequest({ sources: ["s1"] })], [0x12, 2, 0x73, 0x31]);
    assert.deepEqual(
        [...encodeQueryStatusListRequest({ name: "t", sources: ["a", "b"] })],
        [0x0a, 1, 0x74, 0x12, 1, 0x61, 0x12, 1, 0x62],
    );
    assert.equal(encodeQueryStatusListRequest({ sources: ["é".repeat(100)] }).length, 1 + 2 + 200);
});

test("hand-made: unknown fields of every wire type are skipped; zeros and absent fields read as DM's defaults", () => {
    const buf = list(
        fixed64(99),
        response(
            num(1, 1),
            fixed32(50),
            source("s1", "w1", bytes(40, "future"), num(41, 7)),
            sub(
                "t1",
                2,
                4,
                fixed64(60),
                bytes(12, "future field"),
                sync(bytes(7, "0-1-5"), fixed32(30), bytes(11, "remote")),
            ),
            sub("t2", 3, 4, sync()),
        ),
    );
    const [t1, t2] = sourceTasksFromPb("s1", decodeQueryStatusListResponse(buf), ADDRESS).subtasks;
    assert.deepEqual(t1, {
        task: "t1",
        source: "s1",
        worker: "w1",
        stage: "Running",
        rawStage: "Running",
        unit: "Sync",
        syncerBinlogGtid: "0-1-5",
        masterBinlogGtid: "",
        dumpIoBytes: 0,
        errors: [],
    });
    // An empty sync status still has dumpIOTotalBytes 0, as the OpenAPI's sync_status does.
    assert.deepEqual(t2, { ...t1, task: "t2", stage: "Paused", rawStage: "Paused", syncerBinlogGtid: "" });
});

test("hand-made: the status oneof (no sync status while another unit reports), relay's local binlog, a uint64 past 2^53", () => {
    const buf = list(
        response(
            num(1, 1),
            source("s1", "w1"),
            sub("dumping", 2, 2, bytes(8, msg(num(1, 3)))),
            sub("last-wins", 2, 4, sync(bytes(7, "0-1-1")), bytes(6, "then a message")),
            sub("relay", 2, 4, sync(bytes(11, "local"), num(19, 77))),
            sub("huge", 2, 4, sync(num(19, 2n ** 60n))),
            sub("odd", 0, 100),
            sub("future", 42, 7),
        ),
    );
    const subs = sourceTasksFromPb("s1", decodeQueryStatusListResponse(buf), ADDRESS).subtasks;
    const by = (t: string) => subs.find((s) => s.task === t)!;
    assert.equal(by("dumping").unit, "Dump");
    assert.equal(by("dumping").dumpIoBytes, undefined);
    assert.equal(by("last-wins").syncerBinlogGtid, "");
    assert.equal(by("relay").dumpIoBytes, undefined);
    assert.equal(by("huge").dumpIoBytes, undefined);
    assert.deepEqual([by("odd").stage, by("odd").rawStage, by("odd").unit], ["Unknown", "InvalidStage", "Relay"]);
    assert.deepEqual([by("future").stage, by("future").rawStage, by("future").unit], ["Unknown", "42", "7"]);
});

test("hand-made: errors are the subtask's, else the source's, one entry each, worded as the OpenAPI words them", () => {
    const e1 = perr(36069, "binlog purged", [bytes(6, "raw cause"), bytes(7, "do this")]);
    const e2 = perr(-1, "negative code");
    const buf = list(
        response(
            num(1, 1),
            source("s1", "w1", bytes(3, msg(bytes(2, perr(10001, "source broken"))))),
            sub("own", 3, 4, bytes(4, msg(num(1, 0), bytes(2, e1), bytes(2, e2), bytes(3, "detail bytes")))),
            sub("inherited", 3, 4),
        ),
    );
    const subs = sourceTasksFromPb("s1", decodeQueryStatusListResponse(buf), ADDRESS).subtasks;
    assert.deepEqual(subs[0].errors, [
        "[code=36069:class=functional:scope=internal:level=high], Message: binlog purged, RawCause: raw cause, Workaround: do this.",
        "[code=-1:class=functional:scope=internal:level=high], Message: negative code.",
    ]);
    assert.deepEqual(subs[1].errors, [
        "[code=10001:class=functional:scope=internal:level=high], Message: source broken.",
    ]);
    assert.equal(processErrorsText([]), "");
});

test("hand-made: several workers of a source (relay): subtasks of those that answered; none answered: unanswered", () => {
    const failed = response(
        num(1, 0),
        bytes(2, "[code=38032:class=dm-master], Message: no token"),
        source("s1", "relay-w"),
    );
    const ok = response(num(1, 1), source("s1", "w1"), sub("t1", 2, 4));
    const both = sourceTasksFromPb(
        "s1",
        decodeQueryStatusListResponse(list(failed, ok, response(num(1, 1), source("other", "w9"), sub("x", 2, 4)))),
        ADDRESS,
    );
    assert.deepEqual(
        both.subtasks.map((s) => `${s.task}@${s.worker}`),
        ["t1@w1"],
    );
    assert.equal(both.unanswered, undefined);
    // dm-master lists the tasks of a source no worker answered for, without a status: not subtasks.
    const none = sourceTasksFromPb(
        "s1",
        decodeQueryStatusListResponse(
            list(response(num(1, 0), bytes(2, "worker gone"), source("s1", "source not bound"), sub("t1", 0, 0))),
        ),
        ADDRESS,
    );
    assert.deepEqual(none, {
        source: "s1",
        subtasks: [],
        unanswered: { worker: "source not bound", errors: ["worker gone"] },
    });
});

test("hand-made: dm-master's refusal is a DmError; an answer without the source is SourceStatusUnavailable", () => {
    const refused = msg(num(1, 0), bytes(2, "sources [nope] haven't been added"));
    assert.throws(
        () => sourceTasksFromPb("nope", decodeQueryStatusListResponse(refused), ADDRESS),
        (e: unknown) => {
            assert.ok(e instanceof DmError && !(e instanceof SourceStatusUnavailable));
            assert.equal(
                e.message,
                "query-status -s nope failed: sources [nope] haven't been added. Check the source id (dmctl operate-source show).",
            );
            return true;
        },
    );
    assert.throws(() => sourceTasksFromPb("s1", decodeQueryStatusListResponse(list()), ADDRESS), {
        name: "SourceStatusUnavailable",
        message: "dm-master at 127.0.0.1:8261 answered QueryStatus without source s1",
    });
});

test("bytes that are not a QueryStatusListResponse fail with a ProtobufError naming the fault", () => {
    const cases: [Buffer, RegExp][] = [
        [Buffer.from([0x1a, 0x05, 0x08]), /field 3 declares 5 bytes, 1 left/],
        [Buffer.from([0x08]), /truncated varint/],
        [Buffer.from([0x0b]), /unsupported wire type 3/],
        [Buffer.from([0x00, 0x01]), /field number 0/],
        [Buffer.from([0x0d, 1, 2]), /truncated fixed32 field 1/],
        [msg(bytes(1, "not a bool")), /field 1 has the wrong wire type for a number/],
        [msg(num(3, 1)), /field 3 has the wrong wire type for a message/],
        [Buffer.from([0x08, ...new Array(10).fill(0xff), 0x01]), /varint longer than 10 bytes/],
    ];
    for (const [buf, want] of cases) {
        assert.throws(
            () => decodeQueryStatusListResponse(buf),
            (e: unknown) => e instanceof ProtobufError && want.test(e.message),
            `${buf.toString("hex")}`,
        );
    }
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

// ---- the gRPC client against a local gRPC server

async function grpcServer(
    handlers: Record<string, (req: Buffer) => Buffer | grpc.ServiceError>,
): Promise<{ address: string; requests: Buffer[]; stop(): void }> {
    const server = new grpc.Server();
    const requests: Buffer[] = [];
    const pass = (b: Buffer) => b;
    const service: Record<string, grpc.MethodDefinition<Buffer, Buffer>> = {};
    const impl: grpc.UntypedServiceImplementation = {};
    for (const [name, answer] of Object.entries(handlers)) {
        service[name] = {
            path: `/pb.Master/${name}`,
            requestStream: false,
            responseStream: false,
            requestSerialize: pass,
            requestDeserialize: pass,
            responseSerialize: pass,
            responseDeserialize: pass,
        };
        impl[name] = (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
            requests.push(call.request);
            const got = answer(call.request);
            return Buffer.isBuffer(got) ? cb(null, got) : cb(got);
        };
    }
    server.addService(service, impl);
    const port = await new Promise<number>((resolve, reject) =>
        server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (e, p) =>
            e ? reject(e) : resolve(p),
        ),
    );
    return { address: `127.0.0.1:${port}`, requests, stop: () => server.forceShutdown() };
}

test("gRPC: asks pb.Master/QueryStatus for the source and decodes the answer", async () => {
    const srv = await grpcServer({
        QueryStatus: () => Buffer.from(queryStatusRecorded.runningAndPaused.grpc, "base64"),
    });
    try {
        const read = grpcSourceStatus({ transport: "openapi", address: srv.address });
        const got = await read(SOURCE);
        assert.deepEqual(
            srv.requests.map((r) => r.toString("hex")),
            [encodeQueryStatusListRequest({ sources: [SOURCE] }).toString("hex")],
        );
        assert.deepEqual(got, fromGrpc(queryStatusRecorded.runningAndPaused.grpc));
    } finally {
        srv.stop();
    }
});

test("gRPC: a dm-master without the method is SourceStatusUnavailable, remembered; garbage and no server too", async () => {
    const srv = await grpcServer({ OtherMethod: () => Buffer.alloc(0) });
    const read = grpcSourceStatus({ transport: "openapi", address: srv.address, requestTimeoutMs: 2000 });
    const unimplemented = {
        name: "SourceStatusUnavailable",
        message: new RegExp(`^dm-master at ${srv.address} did not answer gRPC QueryStatus \\(code 12: `),
    };
    try {
        await assert.rejects(read(SOURCE), unimplemented);
    } finally {
        srv.stop();
    }
    // Remembered: the server is gone (a new call would fail with code 14), the answer stays "not implemented".
    await assert.rejects(read(SOURCE), unimplemented);
    const garbage = await grpcServer({ QueryStatus: () => Buffer.from([0x0b]) });
    try {
        await assert.rejects(grpcSourceStatus({ transport: "openapi", address: garbage.address })(SOURCE), {
            name: "SourceStatusUnavailable",
            message: `dm-master at ${garbage.address} answered gRPC QueryStatus with bytes that are not DM's QueryStatusListResponse (unsupported wire type 3 (field 1))`,
        });
    } finally {
        garbage.stop();
    }
    await assert.rejects(
        grpcSourceStatus({ transport: "openapi", address: "127.0.0.1:1", requestTimeoutMs: 2000 })(SOURCE),
        {
            name: "SourceStatusUnavailable",
            message: /^dm-master at 127\.0\.0\.1:1 did not answer gRPC QueryStatus \(code 14: /,
        },
    );
});

test("gRPC with several dm-master members: the first that answers, then it first; moves on when it is gone", async () => {
    const answer = () => Buffer.from(queryStatusRecorded.runningAndPaused.grpc, "base64");
    // A member that cannot serve (gRPC UNAVAILABLE, as from a member that is down), counting what it is asked.
    const unavailable = () =>
        Object.assign(new Error("member stopping"), {
            code: grpc.status.UNAVAILABLE,
            details: "member stopping",
            metadata: new grpc.Metadata(),
        });
    const [x, a, b] = [
        await grpcServer({ QueryStatus: unavailable }),
        await grpcServer({ QueryStatus: answer }),
        await grpcServer({ QueryStatus: answer }),
    ];
    try {
        const read = grpcSourceStatus({
            transport: "openapi",
            address: `${x.address},${a.address},${b.address}`,
            requestTimeoutMs: 2000,
        });
        assert.equal((await read(SOURCE)).subtasks.length, 2);
        await read(SOURCE);
        assert.deepEqual(
            [x.requests.length, a.requests.length, b.requests.length],
            [1, 2, 0],
            "the member that answered is asked first",
        );
        a.stop();
        await read(SOURCE);
        await read(SOURCE);
        assert.deepEqual([x.requests.length, a.requests.length, b.requests.length], [1, 2, 2]);
    } finally {
        [x, a, b].forEach((s) => s.stop());
    }
    const down = grpcSourceStatus({ transport: "openapi", address: "127.0.0.1:1,127.0.0.1:2", requestTimeoutMs: 2000 });
    await assert.rejects(down(SOURCE), {
        name: "SourceStatusUnavailable",
        message:
            /^dm-master at 127\.0\.0\.1:1,127\.0\.0\.1:2 did not answer gRPC QueryStatus \(127\.0\.0\.1:1: code 14: .*; 127\.0\.0\.1:2: code 14: /,
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
