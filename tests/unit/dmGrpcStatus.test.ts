/**
 * The gRPC client of dm-master's pb.Master/QueryStatus against a local gRPC server: the request and the
 * decoded answer, a dm-master without the method (remembered), garbage and no server, several members.
 */
import * as grpc from "@grpc/grpc-js";
import assert from "node:assert/strict";
import { test } from "node:test";
import { grpcSourceStatus, sourceTasksFromPb } from "../../components/dm/grpcStatus";
import { decodeQueryStatusListResponse, encodeQueryStatusListRequest } from "../../components/dm/queryStatusCodec";
import { queryStatusRecorded } from "../support/recorded";
import { startGrpcDmMaster } from "../support/dmStandIns";

const SOURCE = "sandbox-source";
const ADDRESS = "127.0.0.1:8261";
const fromGrpc = (b64: string) =>
    sourceTasksFromPb(SOURCE, decodeQueryStatusListResponse(Buffer.from(b64, "base64")), ADDRESS);

test("gRPC: asks pb.Master/QueryStatus for the source and decodes the answer", async () => {
    const srv = await startGrpcDmMaster({
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
    const srv = await startGrpcDmMaster({ OtherMethod: () => Buffer.alloc(0) });
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
    const garbage = await startGrpcDmMaster({ QueryStatus: () => Buffer.from([0x0b]) });
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
        await startGrpcDmMaster({ QueryStatus: unavailable }),
        await startGrpcDmMaster({ QueryStatus: answer }),
        await startGrpcDmMaster({ QueryStatus: answer }),
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
