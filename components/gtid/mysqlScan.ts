/**
 * The fast path of the MySQL parser for large sets: mysqlScan.c, compiled to WebAssembly and embedded
 * (mysqlScanWasm.ts), reads a server's `gtid_executed` of megabytes 3–5× faster than the exact parser in
 * mysql.ts, and answers the switch rule on such sets without building them (`scanSwitchRule`). Pure: no
 * I/O, one lazily made WebAssembly instance.
 *
 * It accepts only what servers print (`uuid:a-b:c,\nuuid2:d-e`: whitespace only between elements, no tags,
 * numbers of at most 15 digits, ASCII); for any other text, every malformed one included, it answers
 * `undefined` and the exact parser reads the text. Tests hold the two to the same answer
 * (tests/unit/gtidScan.test.ts, tests/unit/gtidScanRule.test.ts).
 *
 * Memory: the instance's memory grows to about 12 bytes per character of the texts scanned at once (room
 * for each text as UTF-8 while it is checked to be ASCII, and for the most intervals such a text can
 * hold); the operating system backs only what a scan touches — the texts, and 16 bytes per interval
 * written — and the memory stays with the instance, for the next scan, for the life of the process.
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
/** u32 per element in the scanner's output (mysqlScan.c ELEMENT). */
const ELEMENT = 5;

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
    scan_start(againstReference: number): void;
    scan(p: number, n: number, limit: number, elements: number, runs: number): number;
    scan_elements(): number;
    reference(text: number, count: number, elements: number, runs: number, table: number, size: number): number;
    within_reference(
        supElements: number,
        supRuns: number,
        subCount: number,
        subElements: number,
        subRuns: number,
    ): number;
    reference_within(
        supCount: number,
        supElements: number,
        supRuns: number,
        subCount: number,
        subElements: number,
        subRuns: number,
        marks: number,
    ): number;
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

/** Where one text was scanned: its place in the memory, and how many elements it has. */
interface Scanned {
    textAt: number;
    elementsAt: number;
    runsAt: number;
    count: number;
}

type Place = Omit<Scanned, "count">;

/**
 * Places for scanning texts of these lengths one after the other from `base`: for each, the text (room
 * for 3 bytes per character, then 16 zero bytes), its intervals (at most one per 2 characters, two
 * doubles each) and its elements (at most one per 37 characters, ELEMENT u32 each).
 */
function layout(base: number, lengths: readonly number[]): { places: Place[]; end: number } {
    const places: Place[] = [];
    let at = base;
    for (const n of lengths) {
        const runsAt = (at + 3 * n + 16 + 7) & ~7;
        const elementsAt = runsAt + 16 * ((n >> 1) + 1);
        places.push({ textAt: at, elementsAt, runsAt });
        at = (elementsAt + 4 * ELEMENT * (Math.ceil(n / 37) + 1) + 7) & ~7;
    }
    return { places, end: at };
}

/**
 * Scans `text` into its place, in full or against the reference (memory already reserved); undefined when
 * the text is not in the servers' form.
 */
function scanAt(s: Scanner, text: string, place: Place, against: boolean): Scanned | undefined {
    const n = text.length;
    const bytes = Buffer.from(s.memory.buffer);
    // As UTF-8: a text of ASCII characters only takes exactly n bytes (Latin-1 would fold other characters onto ASCII).
    if (bytes.write(text, place.textAt, 3 * n, "utf8") !== n) {
        return undefined;
    }
    bytes.fill(0, place.textAt + n, place.textAt + n + 16);
    s.x.scan_start(against ? 1 : 0);
    for (let limit = CHUNK; ; limit += CHUNK) {
        const r = s.x.scan(place.textAt, n, limit, place.elementsAt, place.runsAt);
        if (r < 0) {
            return undefined;
        }
        if (r === 0) {
            return { ...place, count: s.x.scan_elements() };
        }
    }
}

/**
 * The set in `text` as the exact parser builds it (transaction source → canonical runs), or undefined when
 * the text is not in the servers' form (or is short): then `parseMysqlText` must read it.
 */
export function scanMysql(text: string): Map<string, Runs> | undefined {
    const s = text.length >= SCAN_MIN_LENGTH ? instance() : null;
    if (s === null) {
        return undefined;
    }
    const { places, end } = layout(s.x.heap_base(), [text.length]);
    const scanned = end <= MEMORY_MAX && reserve(s.memory, end) ? scanAt(s, text, places[0], false) : undefined;
    if (scanned === undefined) {
        return undefined;
    }
    const sids = new Map<string, Runs>();
    const count = scanned.count;
    if (count === 0) {
        return sids;
    }
    const buffer = s.memory.buffer;
    const elements = new Uint32Array(buffer, scanned.elementsAt, ELEMENT * count);
    const all = new Float64Array(buffer, scanned.runsAt, 2 * elements[ELEMENT * count - ELEMENT + 1]).slice();
    let from = 0;
    for (let e = 0; e < ELEMENT * count; e += ELEMENT) {
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

/**
 * The switch rule on texts of MySQL sets — gtid-S ⊇ gtid-P and gtid-E ⊇ gtid-S — answered in the scanner's
 * memory without building the sets: gtid-S is scanned in full, gtid-P and gtid-E against it (mysqlScan.c),
 * so that what they share with gtid-S is compared, not parsed. True when both hold, false when one does
 * not, undefined when it cannot tell: every text short (the exact parser is quick there), a text not in
 * the servers' form, or a set needing the exact parser's normalizing (unsorted or adjacent intervals, a
 * UUID named twice).
 */
export function scanSwitchRule(syncer: string, purged: string, executed: string): boolean | undefined {
    const texts = [syncer, purged, executed];
    const s = texts.some((t) => t.length >= SCAN_MIN_LENGTH) ? instance() : null;
    if (s === null) {
        return undefined;
    }
    const { places, end } = layout(
        s.x.heap_base(),
        texts.map((t) => t.length),
    );
    const S = end <= MEMORY_MAX && reserve(s.memory, end) ? scanAt(s, syncer, places[0], false) : undefined;
    if (S === undefined) {
        return undefined;
    }
    // After the texts: gtid-S's UUIDs hashed (a power of two above twice their count), then a mark per element.
    const size = 2 ** Math.ceil(Math.log2(2 * S.count + 1));
    const marksAt = end + 4 * size;
    const top = marksAt + 4 * S.count;
    if (top > MEMORY_MAX || !reserve(s.memory, top)) {
        return undefined;
    }
    new Uint32Array(s.memory.buffer, end, size + S.count).fill(0);
    if (s.x.reference(S.textAt, S.count, S.elementsAt, S.runsAt, end, size) < 0) {
        return undefined;
    }
    const P = scanAt(s, purged, places[1], true);
    if (P === undefined) {
        return undefined;
    }
    const E = scanAt(s, executed, places[2], true);
    if (E === undefined) {
        return undefined;
    }
    const results = [
        s.x.within_reference(S.elementsAt, S.runsAt, P.count, P.elementsAt, P.runsAt),
        s.x.reference_within(E.count, E.elementsAt, E.runsAt, S.count, S.elementsAt, S.runsAt, marksAt),
    ];
    return results.includes(-1) ? undefined : !results.includes(0);
}
