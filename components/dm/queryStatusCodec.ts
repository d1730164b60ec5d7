/**
 * A protobuf codec for dm-master's `pb.Master/QueryStatus`, only the fields dm-switch reads. Field
 * numbers from DM's dm/proto/dmmaster.proto (QueryStatusListRequest, QueryStatusListResponse) and
 * dm/proto/dmworker.proto (QueryStatusResponse, SourceStatus, SubTaskStatus, SyncStatus, ProcessResult,
 * ProcessError, RelayStatus; enums Stage and UnitType). Every other field is skipped by its wire type, so
 * a dm-master that adds fields still decodes. Pure: no I/O.
 */

/** DM's `pb.Stage`, by number, as Go's String() names it (what the OpenAPI and dmctl print). */
const STAGE_NAMES: Record<number, string> = {
    0: "InvalidStage",
    1: "New",
    2: "Running",
    3: "Paused",
    4: "Stopped",
    5: "Finished",
    6: "Pausing",
    7: "Resuming",
    8: "Stopping",
};

/** DM's `pb.UnitType`, by number, as Go's String() names it. */
const UNIT_NAMES: Record<number, string> = {
    0: "InvalidUnit",
    1: "Check",
    2: "Dump",
    3: "Load",
    4: "Sync",
    100: "Relay",
};

/** Go's String() of an enum value it does not know is the number itself. */
export const stageName = (n: number) => STAGE_NAMES[n] ?? String(n);
export const unitName = (n: number) => UNIT_NAMES[n] ?? String(n);

export interface PbProcessError {
    errCode: number;
    errClass: string;
    errScope: string;
    errLevel: string;
    message: string;
    rawCause: string;
    workaround: string;
}

export interface PbProcessResult {
    errors: PbProcessError[];
}

export interface PbSyncStatus {
    masterBinlogGtid: string;
    syncerBinlogGtid: string;
    binlogType: string;
    /** uint64; a number while it is a safe integer, else the decimal text. */
    dumpIOTotalBytes: number | string;
}

export interface PbRelayStatus {
    relaySubDir: string;
    relayBinlogGtid: string;
    relayCatchUpMaster: boolean;
    stage: string;
    result?: PbProcessResult;
}

export interface PbSubTaskStatus {
    name: string;
    stage: string;
    unit: string;
    result?: PbProcessResult;
    /** Set when the subtask's status is the sync unit's (the `status` oneof's `sync`). */
    sync?: PbSyncStatus;
}

export interface PbSourceStatus {
    source: string;
    worker: string;
    result?: PbProcessResult;
    relayStatus?: PbRelayStatus;
}

export interface PbQueryStatusResponse {
    result: boolean;
    msg: string;
    sourceStatus?: PbSourceStatus;
    subTaskStatus: PbSubTaskStatus[];
}

export interface PbQueryStatusListResponse {
    result: boolean;
    msg: string;
    sources: PbQueryStatusResponse[];
}

/** A message that is not protobuf as expected (truncated, a wire type where another was declared). */
export class ProtobufError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "ProtobufError";
    }
}

// ---- encoding: QueryStatusListRequest {string name = 1; repeated string sources = 2;}

function varint(n: number): number[] {
    const out: number[] = [];
    let v = n;
    while (v >= 0x80) {
        out.push((v & 0x7f) | 0x80);
        v = Math.floor(v / 128);
    }
    out.push(v);
    return out;
}

function stringField(field: number, text: string): Buffer {
    const bytes = Buffer.from(text, "utf8");
    return Buffer.concat([Buffer.from([...varint((field << 3) | 2), ...varint(bytes.length)]), bytes]);
}

/** `QueryStatusListRequest`: `name` "" asks for every task; `sources` the sources to read. */
export function encodeQueryStatusListRequest(req: { name?: string; sources?: string[] }): Buffer {
    // proto3: a default ("") scalar is not written.
    const parts = [
        ...(req.name ? [stringField(1, req.name)] : []),
        ...(req.sources ?? []).map((s) => stringField(2, s)),
    ];
    return Buffer.concat(parts);
}

// ---- decoding

interface Field {
    no: number;
    /** Wire type 0: the value; unsigned, exact (a BigInt). */
    varint?: bigint;
    /** Wire type 2: the bytes. */
    bytes?: Buffer;
}

/** Every field of one message, in order; fixed-width values are skipped (nothing read here is fixed). */
function fields(buf: Buffer): Field[] {
    const out: Field[] = [];
    let pos = 0;
    const readVarint = (): bigint => {
        let result = 0n;
        let shift = 0n;
        for (;;) {
            if (pos >= buf.length) {
                throw new ProtobufError(`truncated varint at byte ${pos} of ${buf.length}`);
            }
            const b = buf[pos++];
            result |= BigInt(b & 0x7f) << shift;
            if ((b & 0x80) === 0) {
                // A 10th byte may carry bits past 64: protobuf drops them.
                return BigInt.asUintN(64, result);
            }
            shift += 7n;
            if (shift > 63n) {
                throw new ProtobufError(`varint longer than 10 bytes at byte ${pos}`);
            }
        }
    };
    while (pos < buf.length) {
        const key = readVarint();
        const no = Number(key >> 3n);
        const wire = Number(key & 7n);
        if (no === 0) {
            throw new ProtobufError(`field number 0 at byte ${pos}`);
        }
        switch (wire) {
            case 0:
                out.push({ no, varint: readVarint() });
                break;
            case 1:
            case 5: {
                const width = wire === 1 ? 8 : 4;
                if (pos + width > buf.length) {
                    throw new ProtobufError(`truncated fixed${width * 8} field ${no}`);
                }
                pos += width;
                break;
            }
            case 2: {
                const len = Number(readVarint());
                if (pos + len > buf.length) {
                    throw new ProtobufError(`field ${no} declares ${len} bytes, ${buf.length - pos} left`);
                }
                out.push({ no, bytes: buf.subarray(pos, pos + len) });
                pos += len;
                break;
            }
            default:
                throw new ProtobufError(`unsupported wire type ${wire} (field ${no})`);
        }
    }
    return out;
}

/** Reads a message's fields: the last value of a scalar wins, repeated fields accumulate (protobuf's merge). */
class Reader {
    constructor(private readonly all: Field[]) {}

    private last(no: number, kind: "varint" | "bytes"): Field | undefined {
        let found: Field | undefined;
        for (const f of this.all) {
            if (f.no === no) {
                if (f[kind] === undefined) {
                    throw new ProtobufError(
                        `field ${no} has the wrong wire type for a ${kind === "varint" ? "number" : "string or message"}`,
                    );
                }
                found = f;
            }
        }
        return found;
    }

    string(no: number): string {
        return this.last(no, "bytes")?.bytes?.toString("utf8") ?? "";
    }

    bool(no: number): boolean {
        return (this.last(no, "varint")?.varint ?? 0n) !== 0n;
    }

    /** An enum or int32 (negative values travel as 64-bit two's complement). */
    int32(no: number): number {
        return Number(BigInt.asIntN(32, this.last(no, "varint")?.varint ?? 0n));
    }

    uint64(no: number): number | string {
        const v = this.last(no, "varint")?.varint ?? 0n;
        return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString();
    }

    /** An embedded message: undefined when absent; several occurrences merge (concatenated bytes). */
    message<T>(no: number, decode: (buf: Buffer) => T): T | undefined {
        const parts = this.all.filter((f) => f.no === no);
        if (parts.length === 0) {
            return undefined;
        }
        if (parts.some((p) => p.bytes === undefined)) {
            throw new ProtobufError(`field ${no} has the wrong wire type for a message`);
        }
        return decode(Buffer.concat(parts.map((p) => p.bytes!)));
    }

    repeated<T>(no: number, decode: (buf: Buffer) => T): T[] {
        return this.all
            .filter((f) => f.no === no)
            .map((f) => {
                if (f.bytes === undefined) {
                    throw new ProtobufError(`field ${no} has the wrong wire type for a message`);
                }
                return decode(f.bytes);
            });
    }
}

const read = (buf: Buffer) => new Reader(fields(buf));

function processError(buf: Buffer): PbProcessError {
    const r = read(buf);
    return {
        errCode: r.int32(1),
        errClass: r.string(2),
        errScope: r.string(3),
        errLevel: r.string(4),
        message: r.string(5),
        rawCause: r.string(6),
        workaround: r.string(7),
    };
}

function processResult(buf: Buffer): PbProcessResult {
    return { errors: read(buf).repeated(2, processError) };
}

function syncStatus(buf: Buffer): PbSyncStatus {
    const r = read(buf);
    return {
        masterBinlogGtid: r.string(5),
        syncerBinlogGtid: r.string(7),
        binlogType: r.string(11),
        dumpIOTotalBytes: r.uint64(19),
    };
}

function relayStatus(buf: Buffer): PbRelayStatus {
    const r = read(buf);
    return {
        relaySubDir: r.string(3),
        relayBinlogGtid: r.string(5),
        relayCatchUpMaster: r.bool(6),
        stage: stageName(r.int32(7)),
        result: r.message(8, processResult),
    };
}

/** The `status` oneof: the last of its members (msg 6, check 7, dump 8, load 9, sync 10) decides. */
function subTaskStatus(buf: Buffer): PbSubTaskStatus {
    const all = fields(buf);
    const r = new Reader(all);
    const oneof = all.filter((f) => f.no >= 6 && f.no <= 10).pop();
    return {
        name: r.string(1),
        stage: stageName(r.int32(2)),
        unit: unitName(r.int32(3)),
        result: r.message(4, processResult),
        sync: oneof?.no === 10 ? r.message(10, syncStatus) : undefined,
    };
}

function sourceStatus(buf: Buffer): PbSourceStatus {
    const r = read(buf);
    return {
        source: r.string(1),
        worker: r.string(2),
        result: r.message(3, processResult),
        relayStatus: r.message(4, relayStatus),
    };
}

function queryStatusResponse(buf: Buffer): PbQueryStatusResponse {
    const r = read(buf);
    return {
        result: r.bool(1),
        msg: r.string(2),
        sourceStatus: r.message(3, sourceStatus),
        subTaskStatus: r.repeated(4, subTaskStatus),
    };
}

/** Decodes dm-master's `QueryStatusListResponse`; throws a ProtobufError on bytes that are not one. */
export function decodeQueryStatusListResponse(buf: Buffer): PbQueryStatusListResponse {
    const r = read(buf);
    return { result: r.bool(1), msg: r.string(2), sources: r.repeated(3, queryStatusResponse) };
}
