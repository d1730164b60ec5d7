/**
 * The QueryStatus protobuf codec on hand-made messages (a minimal encoder of the wire format): the
 * request, unknown fields and defaults, the status oneof, errors, several workers, refusals, bytes that
 * are not a QueryStatusListResponse.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { DmError, SourceStatusUnavailable } from "../../components/dm";
import { processErrorsText, sourceTasksFromPb } from "../../components/dm/grpcStatus";
import {
    decodeQueryStatusListResponse,
    encodeQueryStatusListRequest,
    ProtobufError,
} from "../../components/dm/queryStatusCodec";

const ADDRESS = "127.0.0.1:8261";

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
