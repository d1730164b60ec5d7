import assert from "node:assert/strict";
import * as fs from "node:fs";
import { test } from "node:test";
import fc from "fast-check";
import { GtidParseError } from "../../components/gtid";
import { equalsMysql, formatMysql, MysqlGtidSet, parseMysql, parseMysqlExact } from "../../components/gtid/mysql";
import { SCAN_MIN_LENGTH, scanMysql } from "../../components/gtid/mysqlScan";
import { buildScanner, embeddedBytes, embeddedText, SCAN_EMBEDDED } from "../../tools/buildWasm";

// The WebAssembly scanner is a fast path: for every text it must give the exact parser's set or step
// aside (undefined). These tests hold it to that, and check that it does not step aside for what servers print.

const A = "3e11fa47-71ca-11e1-9e33-c80aa9429562";
const B = "4f22ab58-82db-22f2-af44-d91bb0530673";
/** Whitespace that takes a text past the scanner's threshold without changing its set. */
const PAD = "\n".repeat(SCAN_MIN_LENGTH);

/** The scanner's set and the exact parser's, for one text. */
function both(text: string): { scanned: MysqlGtidSet | undefined; exact: MysqlGtidSet | GtidParseError } {
    const sids = scanMysql(text);
    let exact: MysqlGtidSet | GtidParseError;
    try {
        exact = parseMysqlExact(text);
    } catch (e) {
        assert.ok(e instanceof GtidParseError, `the exact parser threw ${String(e)}`);
        exact = e;
    }
    return { scanned: sids === undefined ? undefined : new MysqlGtidSet(sids), exact };
}

/** Asserts the scanner agrees with the exact parser; returns whether it read the text itself. */
function agrees(text: string): boolean {
    const { scanned, exact } = both(text);
    if (scanned === undefined) {
        return false;
    }
    assert.ok(exact instanceof MysqlGtidSet, `the scanner accepted what the exact parser rejects: ${String(exact)}`);
    assert.ok(equalsMysql(scanned, exact), `scanned ${formatMysql(scanned)} ≠ exact ${formatMysql(exact)}`);
    return true;
}

test("the embedded module is the build of mysqlScan.c with the installed clang", () => {
    const { wasm, compiler } = buildScanner();
    const file = fs.readFileSync(SCAN_EMBEDDED, "utf8");
    assert.deepEqual(embeddedBytes(file), wasm, "mysqlScanWasm.ts is stale: run npm run build:wasm");
    assert.equal(file, embeddedText(wasm, compiler));
});

test("texts below the threshold go to the exact parser", () => {
    assert.equal(scanMysql(`${A}:1-5`), undefined);
    assert.equal(scanMysql(" ".repeat(SCAN_MIN_LENGTH - 1)), undefined);
    assert.deepEqual(scanMysql(" ".repeat(SCAN_MIN_LENGTH)), new Map());
});

// [name, text]: what servers print, which the scanner must read itself.
const serverForm: [string, string][] = [
    ["one UUID, gaps", `${A}:1-5:7-9:11`],
    ["servers' ',\\n' between UUIDs", `${A}:1-5,\n${B}:1-3`],
    ["uppercase UUID", `${A.toUpperCase()}:1-5,${B}:2`],
    ["the same UUID in two cases", `${A.toUpperCase()}:1-5,${A}:9`],
    ["a repeated UUID, in order", `${A}:1-3,${B}:1,${A}:5-7`],
    ["a repeated UUID, overlapping", `${A}:5-9,${A}:1-6`],
    ["unsorted intervals", `${A}:20-30:1-5:7`],
    ["adjacent intervals", `${A}:1-3:4-6:7`],
    ["overlapping intervals", `${A}:1-10:5-12:2-3`],
    ["15-digit numbers", `${A}:999999999999990-999999999999999`],
    ["leading zeros", `${A}:007-010`],
    ["a trailing comma and spaces", `${A}:1-5, \t,`],
    ["spaces before a comma", `${A}:1-5  ,${B}:1`],
];
for (const [name, text] of serverForm) {
    test(`the scanner reads ${name} as the exact parser does`, () => {
        assert.equal(agrees(PAD + text), true);
        assert.equal(agrees(text + PAD), true);
    });
}

// [name, text]: valid or not, outside the servers' form: the scanner must step aside.
const otherForms: [string, string][] = [
    ["a tag", `${A}:1-5:tag:1-3`],
    ["spaces around '-'", `${A}:1 - 5`],
    ["a space after ':'", `${A}: 1-5`],
    ["a space before ':'", `${A} :1-5`],
    ["a space before the next interval", `${A}:1-5 :7`],
    ["16 digits", `${A}:1000000000000000`],
    ["2^63 - 2", `${A}:9223372036854775806`],
    ["interval 0", `${A}:0`],
    ["an interval ending before it starts", `${A}:5-3`],
    ["a UUID with no interval", `${A},${B}:1`],
    ["a missing number", `${A}:1-`],
    ["a double colon", `${A}::1`],
    ["elements apart by a space only", `${A}:1-5 ${B}:1`],
    ["a short UUID", `${A.slice(1)}:1`],
    ["a MariaDB GTID", "0-1-42"],
    ["a non-ASCII digit look-alike (U+0131 folds to '1' in Latin-1)", `${A}:\u0131-5`],
    ["Latin-1 letters", `${A}:1-5,é`],
    ["a NUL", `${A}:1-5\u0000`],
];
for (const [name, text] of otherForms) {
    test(`the scanner steps aside for ${name}`, () => {
        assert.equal(both(PAD + text).scanned, undefined);
        assert.equal(both(text + PAD).scanned, undefined);
    });
}

test("a malformed large set gets the exact parser's error", () => {
    const good = Array.from({ length: 2000 }, (_, k) => `${uuid(k)}:1-${k + 1}`).join(",\n");
    const text = `${good},\n${A}:7-3`;
    assert.ok(text.length > SCAN_MIN_LENGTH);
    assert.throws(
        () => parseMysql(text),
        (e: unknown) =>
            e instanceof GtidParseError &&
            e.message ===
                `element 2001 "${A}:7-3" at offset ${text.length - 40} of the mysql GTID set: interval 7-3 ends before it starts: write 3-7`,
    );
});

test("chunks end inside elements and between them without changing the set", () => {
    // One element of 60,000 intervals (≈ 1 MB, several chunks), then many short ones.
    const long = `${A}:${Array.from({ length: 60_000 }, (_, j) => `${10 * j + 1}-${10 * j + 7}`).join(":")}`;
    const many = Array.from({ length: 20_000 }, (_, k) => `${uuid(k)}:${k + 1}:${k + 3}-${k + 9}`).join(",\n");
    assert.equal(agrees(`${long},\n${many}`), true);
    assert.equal(agrees(`${many},\n${long}`), true);
    const set = parseMysql(`${many},\n${long}`);
    assert.equal(set.sids.size, 20_001);
    assert.equal(set.sids.get(A)?.length, 120_000);
});

/** The k-th of a family of distinct valid UUIDs (none equals A or B). */
function uuid(k: number): string {
    return `0000aaaa-1111-2222-3333-${k.toString(16).padStart(12, "0")}`;
}

const UUIDS = [A, B, uuid(1)];
const element = fc.record({
    uuid: fc.constantFrom(...UUIDS),
    upper: fc.boolean(),
    intervals: fc.array(fc.tuple(fc.integer({ min: 1, max: 60 }), fc.integer({ min: 0, max: 4 })), {
        minLength: 1,
        maxLength: 6,
    }),
    sep: fc.constantFrom(",", ",\n", ",\r\n", "\n,", ", ,"),
});
/** A server-form text of a few elements, repeated past the threshold with shifted numbers. */
const serverText = fc.array(element, { minLength: 1, maxLength: 6 }).map((els) => {
    const one = (shift: number) =>
        els
            .map(
                (e) =>
                    `${e.upper ? e.uuid.toUpperCase() : e.uuid}:${e.intervals.map(([s, l]) => (l === 0 ? `${s + shift}` : `${s + shift}-${s + shift + l}`)).join(":")}${e.sep}`,
            )
            .join("");
    const parts: string[] = [];
    let length = 0;
    for (let shift = 0; length < SCAN_MIN_LENGTH; shift += 50) {
        parts.push(one(shift));
        length += parts[parts.length - 1].length;
    }
    return parts.join("");
});

test("property: on server-form text the scanner reads the text and gives the exact parser's set", () => {
    fc.assert(
        fc.property(serverText, (text) => {
            assert.equal(agrees(text), true);
        }),
        { numRuns: 60 },
    );
});

test("property: one character changed anywhere, the scanner gives the exact answer or steps aside", () => {
    const noise = fc.constantFrom(..."0123456789:-, \n\tabcdefABCDEFgxz_é\u0131\u0000".split(""));
    fc.assert(
        fc.property(serverText, fc.nat(), noise, fc.boolean(), (text, at, c, insert) => {
            const i = at % text.length;
            const changed = text.slice(0, i) + c + text.slice(insert ? i : i + 1);
            agrees(changed);
            const { exact } = both(changed);
            if (exact instanceof GtidParseError) {
                assert.throws(() => parseMysql(changed), { message: exact.message });
            } else {
                assert.ok(equalsMysql(parseMysql(changed), exact));
            }
        }),
        { numRuns: 300 },
    );
});
