/**
 * Every subtask of a source in ONE dm-worker request, for the OpenAPI transport: dm-master's gRPC
 * `pb.Master/QueryStatus` with no task name and the source (what `dmctl query-status -s <source>` sends;
 * dm/master/server.go QueryStatus → getStatusFromWorkers). DM's OpenAPI has no such read: its task status
 * costs one worker request per task, and dm-master passes each through a token bucket (`rpc-rate-limit`
 * 10 a second after a burst of `rpc-rate-burst` 40), so a source with tens of tasks paused for a switch
 * waited on throttled status reads. dm-master serves gRPC and HTTP on the same port (cmux), with the
 * same TLS. The answer is mapped exactly as dm-master's OpenAPI maps it for a task (openapi_controller.go
 * getTaskStatus), so the subtasks equal the OpenAPI transport's `taskStatus`.
 */
import type * as GrpcJs from "@grpc/grpc-js";
import { subtaskFromApi } from "./apiStatus";
import {
    decodeQueryStatusListResponse,
    encodeQueryStatusListRequest,
    PbProcessError,
    PbQueryStatusListResponse,
    PbQueryStatusResponse,
    PbSubTaskStatus,
} from "./queryStatusCodec";
import { DmEndpoint, DmError, oneLine, SourceStatusUnavailable, SourceTasksStatus, SubtaskStatus } from "./types";

const METHOD = "/pb.Master/QueryStatus";
/** A source of hundreds of tasks with long error texts stays far below this. */
const MAX_ANSWER_BYTES = 64 * 1024 * 1024;

/** dm-master's OpenAPI text of a subtask's errors (openapi_controller.go `handleProcessError`), one line each. */
export function processErrorsText(errors: PbProcessError[]): string {
    return errors
        .map((e) => {
            let text = `[code=${e.errCode}:class=${e.errClass}:scope=${e.errScope}:level=${e.errLevel}], Message: ${e.message}`;
            if (e.rawCause !== "") {
                text = `${text}, RawCause: ${e.rawCause}`;
            }
            if (e.workaround !== "") {
                text = `${text}, Workaround: ${e.workaround}`;
            }
            return `${text}.\n`;
        })
        .join("");
}

/** One subtask as dm-master's OpenAPI reports it for its task: errors its own, else the source's. */
function subtaskOf(r: PbQueryStatusResponse, st: PbSubTaskStatus): SubtaskStatus {
    const errors = st.result?.errors.length ? st.result.errors : (r.sourceStatus?.result?.errors ?? []);
    return subtaskFromApi(
        {
            name: st.name,
            source_name: r.sourceStatus?.source ?? "",
            worker_name: r.sourceStatus?.worker ?? "",
            stage: st.stage,
            unit: st.unit,
            ...(errors.length > 0 ? { error_msg: processErrorsText(errors) } : {}),
            // The OpenAPI's sync_status carries every field, zeros included; protobuf omits zeros.
            sync_status: st.sync && {
                syncer_binlog_gtid: st.sync.syncerBinlogGtid,
                master_binlog_gtid: st.sync.masterBinlogGtid,
                binlog_type: st.sync.binlogType,
                dump_io_total_bytes:
                    typeof st.sync.dumpIOTotalBytes === "number"
                        ? st.sync.dumpIOTotalBytes
                        : Number(st.sync.dumpIOTotalBytes),
            },
        },
        st.name,
    );
}

/**
 * The source's subtasks from a decoded QueryStatus answer. A worker that did not answer (`result` false)
 * makes the source `unanswered` with its message, as the OpenAPI reports each task then; the subtasks such
 * an answer lists (dm-master names the tasks of a source no worker answered for) have no status and are
 * left out. Throws a DmError when dm-master refused the request, SourceStatusUnavailable when the answer
 * holds nothing about the source.
 */
export function sourceTasksFromPb(
    sourceId: string,
    reply: PbQueryStatusListResponse,
    address: string,
): SourceTasksStatus {
    if (!reply.result) {
        const msg = oneLine(reply.msg).replace(/[.\s]*$/, "");
        const remedy = /not exist|not found|haven't been added/i.test(msg)
            ? " Check the source id (dmctl operate-source show)."
            : " See dm-master's log.";
        throw new DmError(`query-status -s ${sourceId} failed: ${msg}.${remedy}`, "query-status", sourceId);
    }
    const mine = reply.sources.filter((r) => (r.sourceStatus?.source ?? "") === sourceId);
    if (mine.length === 0) {
        throw new SourceStatusUnavailable(
            `dm-master at ${address} answered QueryStatus without source ${sourceId}`,
            sourceId,
        );
    }
    const answered = mine.filter((r) => r.result);
    const subtasks = answered.flatMap((r) => r.subTaskStatus.map((st) => subtaskOf(r, st)));
    if (answered.length > 0) {
        return { source: sourceId, subtasks };
    }
    const first = mine[0];
    // The OpenAPI's text for a task then: its worker, and the message as the subtask's error.
    const offline = subtaskFromApi(
        {
            name: "",
            source_name: sourceId,
            worker_name: first.sourceStatus?.worker ?? "",
            ...(first.msg ? { error_msg: first.msg } : {}),
        },
        "",
    );
    return { source: sourceId, subtasks: [], unanswered: { worker: offline.worker, errors: offline.errors } };
}

/** gRPC's UNAVAILABLE: no connection to that member (down, refused, TLS handshake failed). */
const UNAVAILABLE = 14;
/** gRPC's UNIMPLEMENTED: the server has no such method. */
const UNIMPLEMENTED = 12;

/**
 * `sourceTaskStatus` for the OpenAPI transport: one gRPC channel per dm-master member, opened on first
 * use, with DM's TLS settings when `tls` is set (the CA, the client certificate and key). With several
 * members (`a:8261,b:8261`: any member forwards to the leader) it starts at the one that answered last and
 * moves on while a member cannot be reached. Every failure to get a QueryStatus answer is a
 * SourceStatusUnavailable naming the cause; a method dm-master does not implement is remembered.
 */
export function grpcSourceStatus(ep: DmEndpoint): (sourceId: string) => Promise<SourceTasksStatus> {
    const members = ep.address.split(",");
    const clients = new Map<string, GrpcJs.Client>();
    let at = 0;
    let unimplemented: SourceStatusUnavailable | undefined;
    const timeoutMs = ep.requestTimeoutMs ?? 10_000;

    const open = (member: string): GrpcJs.Client => {
        // Loaded on first use: a preview that never reads a source's status does not pay for it.
        const grpc = require("@grpc/grpc-js") as typeof GrpcJs;
        const pem = (s: string | undefined) => (s ? Buffer.from(s) : null);
        const credentials = ep.tls
            ? grpc.credentials.createSsl(pem(ep.tls.ca), pem(ep.tls.key), pem(ep.tls.cert))
            : grpc.credentials.createInsecure();
        return new grpc.Client(member, credentials, { "grpc.max_receive_message_length": MAX_ANSWER_BYTES });
    };

    /** The answer's bytes, or the gRPC code and why not. */
    const call = (member: string, sourceId: string) =>
        new Promise<Buffer | { code: number; why: string }>((resolve) => {
            let client = clients.get(member);
            try {
                client ??= open(member);
            } catch (err) {
                return resolve({ code: -1, why: `no gRPC channel: ${(err as Error).message}` });
            }
            clients.set(member, client);
            const request = encodeQueryStatusListRequest({ sources: [sourceId] });
            const pass = (b: Buffer) => b;
            client.makeUnaryRequest(METHOD, pass, pass, request, { deadline: Date.now() + timeoutMs }, (err, value) =>
                resolve(
                    err
                        ? { code: err.code, why: `code ${err.code}: ${oneLine(err.details || err.message)}` }
                        : (value ?? Buffer.alloc(0)),
                ),
            );
        });

    return async (sourceId) => {
        if (unimplemented) {
            throw unimplemented;
        }
        const failures: string[] = [];
        for (let k = 0; k < members.length; k++) {
            const i = (at + k) % members.length;
            const got = await call(members[i], sourceId);
            if (Buffer.isBuffer(got)) {
                at = i;
                let reply: PbQueryStatusListResponse;
                try {
                    reply = decodeQueryStatusListResponse(got);
                } catch (err) {
                    throw new SourceStatusUnavailable(
                        `dm-master at ${members[i]} answered gRPC QueryStatus with bytes that are not DM's QueryStatusListResponse (${(err as Error).message})`,
                        sourceId,
                    );
                }
                return sourceTasksFromPb(sourceId, reply, members[i]);
            }
            failures.push(`${members.length > 1 ? `${members[i]}: ` : ""}${got.why}`);
            const e = new SourceStatusUnavailable(
                `dm-master at ${members.length > 1 ? ep.address : members[i]} did not answer gRPC QueryStatus (${failures.join("; ")})`,
                sourceId,
            );
            if (got.code === UNIMPLEMENTED) {
                unimplemented = e;
            }
            if (got.code !== UNAVAILABLE) {
                throw e;
            }
        }
        throw new SourceStatusUnavailable(
            `dm-master at ${ep.address} did not answer gRPC QueryStatus (${failures.join("; ")})`,
            sourceId,
        );
    };
}
