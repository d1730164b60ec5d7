/**
 * The fast path of the MySQL parser for large sets: mysqlScan.c, compiled to WebAssembly and embedded
 * (mysqlScanWasm.ts), reads a server's `gtid_executed` of megabytes 3–5× faster than the exact parser in
 * mysql.ts. Pure: no I/O, one lazily made WebAssembly instance.
 *
 * It accepts only what servers print (`uuid:a-b:c,\nuuid2:d-e`: whitespace only between elements, no tags,
 * numbers of at most 15 digits, ASCII); for any other text, every malformed one included, it answers
 * `undefined` and the exact parser reads the text. Tests hold the two to the same answer
 * (tests/unit/gtidScan.test.ts).
 *
 * Memory: the instance's memory grows to about 12 bytes per character of the largest text scanned (room
 * for the text as UTF-8 while it is checked to be ASCII, and for the most intervals such a text can hold);
 * the operating system backs only what a scan touches — the text, and 16 bytes per interval — and the
 * memory stays with the instance, for the next scan, for the life of the process.
 */
import { MYSQL_SCAN_WASM } from "./mysqlScanWasm";
import { normalize, Runs, runsUnion } from "./runs";

/** Shorter texts go straight to the exact parser (a few milliseconds at most) and take no scanner memory. */
export const SCAN_MIN_LENGTH = 1 << 16;
/** Bytes scanned per call (see mysqlScan.c on why the scan is cut into calls). */
const CHUNK = 1 << 18;
const PAGE = 1 << 16;
/** Beyond this, memory offsets leave the 32-bit range the scanner addresses: the exact parser reads it. */
const MEMORY_MAX = 2 ** 31;
const UUID_LENGTH = 36;
const UPPER = 1;
const UNSORTED = 2;

/** A WebAssembly memory: the part of its API used here. */
interface WasmMemory {
    readonly buffer: ArrayBuffer;
    grow(pages: number): number;
}

/** The part of the WebAssembly JavaScript API used here (the ES2022 library and @types/node 22 do not declare it). */
declare const WebAssembly: {
    Memory: new (descriptor: { initial: number }) => WasmMemory;
    Module: new (bytes: Uint8Array) => object;
    Instance: new (module: object, imports: Record<string, Record<string, unknown>>) => { exports: unknown };
};

interface ScanExports {
    heap_base(): number;
    scan_start(): void;
    scan(p: number, n: number, limit: number, elements: number, runs: number): number;
    scan_elements(): number;
}

interface Scanner {
    memory: WasmMemory;
    x: ScanExports;
}

/** The instance; null once making it failed (no WebAssembly here): the exact parser does all the work. */
let scanner: Scanner | null | undefined;

function instance(): Scanner | null {
    if (scanner === undefined) {
        try {
            const memory = new WebAssembly.Memory({ initial: 4 });
            const module = new WebAssembly.Module(Buffer.from(MYSQL_SCAN_WASM, "base64"));
            const x = new WebAssembly.Instance(module, { env: { memory } }).exports as ScanExports;
            scanner = { memory, x };
        } catch {
            scanner = null;
        }
    }
    return scanner;
}

/** Grows the memory to `bytes`; false when it cannot. */
function reserve(memory: WasmMemory, bytes: number): boolean {
    const have = memory.buffer.byteLength;
    if (bytes <= have) {
        return true;
    }
    try {
        memory.grow(Math.ceil((bytes - have) / PAGE));
        return true;
    } catch {
        return false;
    }
}

/**
 * The set in `text` as the exact parser builds it (transaction source → canonical runs), or undefined when
 * the text is not in the servers' form (or is short): then `parseMysqlText` must read it.
 */
export function scanMysql(text: string): Map<string, Runs> | undefined {
    const n = text.length;
    const s = n >= SCAN_MIN_LENGTH ? instance() : null;
    if (s === null) {
        return undefined;
    }
    // Layout: the text (room for 3 bytes per character, then 16 zero bytes), the intervals (at most one per
    // 2 characters, two doubles each), the elements (at most one per 37 characters, three u32 each).
    const base = s.x.heap_base();
    const runsAt = (base + 3 * n + 16 + 7) & ~7;
    const elementsAt = runsAt + 16 * ((n >> 1) + 1);
    const end = elementsAt + 12 * (Math.ceil(n / 37) + 1);
    if (end > MEMORY_MAX || !reserve(s.memory, end)) {
        return undefined;
    }
    const buffer = s.memory.buffer;
    const bytes = Buffer.from(buffer);
    // As UTF-8: a text of ASCII characters only takes exactly n bytes (Latin-1 would fold other characters onto ASCII).
    if (bytes.write(text, base, 3 * n, "utf8") !== n) {
        return undefined;
    }
    bytes.fill(0, base + n, base + n + 16);
    s.x.scan_start();
    for (let limit = CHUNK; ; limit += CHUNK) {
        const r = s.x.scan(base, n, limit, elementsAt, runsAt);
        if (r < 0) {
            return undefined;
        }
        if (r === 0) {
            break;
        }
    }
    const count = s.x.scan_elements();
    const sids = new Map<string, Runs>();
    if (count === 0) {
        return sids;
    }
    const elements = new Uint32Array(buffer, elementsAt, 3 * count);
    const all = new Float64Array(buffer, runsAt, 2 * elements[3 * count - 2]).slice();
    let from = 0;
    for (let e = 0; e < 3 * count; e += 3) {
        const at = elements[e];
        const key = text.slice(at, at + UUID_LENGTH);
        const to = elements[e + 1];
        let runs: Runs = all.subarray(2 * from, 2 * to);
        if ((elements[e + 2] & UNSORTED) !== 0) {
            runs = normalize(runs);
        }
        const sid = (elements[e + 2] & UPPER) !== 0 ? key.toLowerCase() : key;
        const had = sids.get(sid);
        sids.set(sid, had === undefined ? runs : runsUnion(had, runs));
        from = to;
    }
    return sids;
}
