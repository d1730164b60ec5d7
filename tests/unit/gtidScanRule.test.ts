import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { checkSwitch, contains, GtidParseError } from "../../components/gtid";
import { MysqlGtidSet, parseMysqlExact } from "../../components/gtid/mysql";
import { SCAN_MIN_LENGTH, scanSwitchRule } from "../../components/gtid/mysqlScan";

// scanSwitchRule answers the switch rule where the scanner read the texts, comparing gtid-P and gtid-E with
// gtid-S instead of parsing what they share. A wrong "true" would let a switch lose data, so every answer
// is held to the exact parser's sets: it must be theirs, or undefined (step aside). On what servers print
// it must not step aside.

const A = "3e11fa47-71ca-11e1-9e33-c80aa9429562";
const B = "4f22ab58-82db-22f2-af44-d91bb0530673";
const C = "0000aaaa-1111-2222-3333-000000000001";
const D = "0000aaaa-1111-2222-3333-000000000002";
/** Whitespace that takes a text past the scanner's threshold without changing its set. */
const PAD = "\n".repeat(SCAN_MIN_LENGTH);

/** The rule on the exact parser's sets; a GtidParseError when a text does not parse. */
function exactRule(syncer: string, purged: string, executed: string): boolean | GtidParseError {
    let sets: MysqlGtidSet[];
    try {
        sets = [syncer, purged, executed].map(parseMysqlExact);
    } catch (e) {
        assert.ok(e instanceof GtidParseError, `the exact parser threw ${String(e)}`);
        return e;
    }
    const [s, p, e] = sets;
    return contains(s, p) && contains(e, s);
}

/** Asserts the fast path gives the exact answer or steps aside; returns its answer. */
function agrees(syncer: string, purged: string, executed: string): boolean | undefined {
    const fast = scanSwitchRule(syncer, purged, executed);
    const exact = exactRule(syncer, purged, executed);
    if (fast !== undefined) {
        assert.ok(!(exact instanceof GtidParseError), `the fast path answered ${fast} on text that does not parse`);
        assert.equal(fast, exact, `fast ${fast}, exact ${String(exact)}`);
    }
    return fast;
}

test("short texts go to the exact parser", () => {
    assert.equal(scanSwitchRule(`${A}:1-5`, "", `${A}:1-9`), undefined);
});

// [name, gtid-S, gtid-P, gtid-E, the rule]: sets in the servers' form, which the fast path must answer itself.
const cases: [string, string, string, string, boolean][] = [
    [
        "the same set three times",
        `${A}:1-50:60-70,\n${B}:1-5`,
        `${A}:1-50:60-70,\n${B}:1-5`,
        `${A}:1-50:60-70,\n${B}:1-5`,
        true,
    ],
    ["E ahead in the last interval", `${A}:1-50:60-70`, `${A}:1-20`, `${A}:1-50:60-75`, true],
    ["E ahead by an interval", `${A}:1-50:60-70`, "", `${A}:1-50:60-70:80-90`, true],
    ["S ahead in the last interval", `${A}:1-50:60-75`, "", `${A}:1-50:60-70`, false],
    ["S ahead by an interval", `${A}:1-50:60-70:80`, "", `${A}:1-50:60-70`, false],
    ["a number that is a prefix of the other: 1-5 in 1-50", `${A}:1-5`, "", `${A}:1-50`, true],
    ["a number that is a prefix of the other: 1-50 in 1-5", `${A}:1-50`, "", `${A}:1-5`, false],
    ["a single GTID in a range starting at it", `${A}:1:7`, "", `${A}:1-3:7`, true],
    ["a range in a single GTID that starts it", `${A}:1-3:7`, "", `${A}:1:7`, false],
    ["E holds S's last interval inside a longer one", `${A}:1-5:10-12`, "", `${A}:1-5:8-20`, true],
    ["E's intervals differ from the first one on", `${A}:3-5:10-12`, "", `${A}:1-7:9-20`, true],
    ["E lacks a UUID of S", `${A}:1-5,\n${B}:1`, "", `${A}:1-9`, false],
    ["E has a UUID S lacks", `${A}:1-5`, "", `${B}:1-3,\n${A}:1-9`, true],
    [
        "UUIDs in another order and case",
        `${A}:1-5,\n${B}:1-2`,
        `${B.toUpperCase()}:1`,
        `${B}:1-2,\n${A.toUpperCase()}:1-5`,
        true,
    ],
    ["P purged what S lacks", `${A}:1-50`, `${A}:1-60`, `${A}:1-90`, false],
    ["P purged a UUID S lacks", `${A}:1-50`, `${B}:1-3`, `${A}:1-90,\n${B}:1-3`, false],
    ["P's last interval inside S's", `${A}:1-50:60-70`, `${A}:1-50:60-65`, `${A}:1-50:60-70`, true],
    ["P ends in a gap of S", `${A}:1-50:60-70`, `${A}:1-55`, `${A}:1-70`, false],
    ["nothing purged, nothing executed", `${A}:1`, "", "", false],
    ["empty sets", "", "", "", true],
];
for (const [name, syncer, purged, executed, rule] of cases) {
    test(`the fast path answers the rule itself: ${name}`, () => {
        for (const [s, p, e] of [
            [PAD + syncer, purged, executed],
            [syncer, purged, executed + PAD],
            [syncer + PAD, PAD + purged, PAD + executed],
        ]) {
            assert.equal(agrees(s, p, e), rule);
            assert.equal(checkSwitch({ flavor: "mysql", syncer: s, purged: p, executed: e }).ok, rule);
        }
    });
}

// [name, gtid-S, gtid-P, gtid-E]: the fast path cannot take its shortcuts on these; it must step aside.
const stepsAside: [string, string, string, string][] = [
    ["S names a UUID twice", `${A}:1-5,\n${A}:7-9`, "", `${A}:1-9`],
    ["S's intervals unsorted", `${A}:7-9:1-5`, "", `${A}:1-9`],
    ["S's intervals adjacent", `${A}:1-5:6-9`, "", `${A}:1-9`],
    ["E's intervals adjacent after what it shares with S", `${A}:1-5`, "", `${A}:1-5:6-9`],
    ["E names a UUID twice", `${A}:1-5`, "", `${A}:1-3,\n${A}:4-5`],
    ["P's intervals unsorted after what it shares with S", `${A}:1-5:10-20`, `${A}:1-5:12:11`, `${A}:1-20`],
    ["a tag", `${A}:1-5`, "", `${A}:1-5:tag:1`],
    ["a malformed E", `${A}:1-5`, "", `${A}:1-5:9-7`],
    ["a malformed P that shares a prefix with S", `${A}:1-5:7-9`, `${A}:1-5:7-`, `${A}:1-9`],
];
for (const [name, syncer, purged, executed] of stepsAside) {
    test(`the fast path steps aside: ${name}`, () => {
        assert.equal(scanSwitchRule(PAD + syncer, purged, executed), undefined);
        agrees(PAD + syncer, purged, executed);
    });
}

test("a malformed set still gets the exact parser's error from checkSwitch", () => {
    assert.throws(
        () => checkSwitch({ flavor: "mysql", syncer: `${A}:1-5:7-9${PAD}`, purged: "", executed: `${A}:1-5:9-7` }),
        (e: unknown) =>
            e instanceof GtidParseError && e.argument === "executed" && /ends before it starts/.test(e.message),
    );
});

/** One UUID's canonical intervals: sorted, apart by at least one missing number. */
const intervals = fc
    .array(fc.tuple(fc.integer({ min: 1, max: 30 }), fc.integer({ min: 0, max: 12 })), { minLength: 1, maxLength: 7 })
    .map((steps) => {
        const out: [number, number][] = [];
        let next = 1;
        for (const [gap, length] of steps) {
            const first = next + gap - 1;
            out.push([first, first + length]);
            next = first + length + 2;
        }
        return out;
    });

type Runs = [number, number][];

/** How a set derived from another changes one UUID's intervals. */
const change = fc.oneof(
    { weight: 3, arbitrary: fc.constant<{ kind: "same" }>({ kind: "same" }) },
    // Keep the first `keep` intervals, the last of them cut by `cut` (what an older position looks like).
    {
        weight: 4,
        arbitrary: fc.record({ kind: fc.constant("older" as const), keep: fc.nat(), cut: fc.nat({ max: 15 }) }),
    },
    // The last interval ends later: by a few, or ten times (so that one number is a prefix of the other).
    {
        weight: 2,
        arbitrary: fc.record({
            kind: fc.constant("newer" as const),
            by: fc.oneof(fc.integer({ min: 1, max: 3 }), fc.constant(-10)),
        }),
    },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant("other" as const), runs: intervals }) },
    { weight: 1, arbitrary: fc.constant<{ kind: "absent" }>({ kind: "absent" }) },
);

function derive(runs: Runs, c: Change): Runs | undefined {
    switch (c.kind) {
        case "same":
            return runs;
        case "absent":
            return undefined;
        case "other":
            return c.runs;
        case "older": {
            const kept = runs.slice(0, 1 + (c.keep % runs.length));
            const [first, last] = kept[kept.length - 1];
            kept[kept.length - 1] = [first, Math.max(first, last - c.cut)];
            return kept;
        }
        case "newer": {
            const out = runs.slice();
            const [first, last] = out[out.length - 1];
            out[out.length - 1] = [first, c.by < 0 ? last * 10 : last + c.by];
            return out;
        }
    }
}
type Change =
    | { kind: "same" }
    | { kind: "absent" }
    | { kind: "other"; runs: Runs }
    | { kind: "older"; keep: number; cut: number }
    | { kind: "newer"; by: number };

/** A set's text: its UUIDs in the given order, some in uppercase, with servers' separators. */
function text(set: Map<string, Runs>, order: string[], upper: boolean, sep: string): string {
    return order
        .filter((u) => set.has(u))
        .map(
            (u) =>
                `${upper && u === order[0] ? u.toUpperCase() : u}:${set
                    .get(u)!
                    .map(([f, l]) => (f === l ? `${f}` : `${f}-${l}`))
                    .join(":")}`,
        )
        .join(sep);
}

const UUIDS = [A, B, C, D];
/** gtid-E, then gtid-S derived from it and gtid-P from gtid-S, one change per UUID each. */
const related = fc
    .record({
        executed: fc.tuple(...UUIDS.map(() => fc.option(intervals, { freq: 5 }))),
        syncer: fc.tuple(...UUIDS.map(() => change)),
        purged: fc.tuple(...UUIDS.map(() => change)),
        order: fc.shuffledSubarray(UUIDS, { minLength: 4, maxLength: 4 }),
        upper: fc.boolean(),
        sep: fc.constantFrom(",", ",\n", ", "),
        pad: fc.integer({ min: 0, max: 2 }),
    })
    .map((r) => {
        const e = new Map<string, Runs>();
        const s = new Map<string, Runs>();
        const p = new Map<string, Runs>();
        UUIDS.forEach((u, k) => {
            const runs = r.executed[k];
            if (runs === null) {
                return;
            }
            e.set(u, runs);
            const sr = derive(runs, r.syncer[k] as Change);
            if (sr === undefined) {
                return;
            }
            s.set(u, sr);
            const pr = derive(sr, r.purged[k] as Change);
            if (pr !== undefined) {
                p.set(u, pr);
            }
        });
        const texts = [s, p, e].map((set) => text(set, r.order, r.upper, r.sep));
        texts[r.pad] = PAD + texts[r.pad];
        return texts as [string, string, string];
    });

test("property: on related sets in the servers' form the fast path answers, and answers as the exact parser", () => {
    let held = 0;
    fc.assert(
        fc.property(related, ([s, p, e]) => {
            const canonical = [s, p, e].every(isCanonical);
            const fast = agrees(s, p, e);
            if (canonical) {
                assert.notEqual(fast, undefined, "stepped aside on canonical sets");
            }
            held += fast === true ? 1 : 0;
        }),
        { numRuns: 400 },
    );
    // The generator must reach both answers, not only refusals.
    assert.ok(held > 40, `only ${held} of 400 related sets satisfied the rule`);
});

/** Whether every element's intervals are sorted and apart (what the derivations above may break). */
function isCanonical(t: string): boolean {
    return t
        .trim()
        .split(/,\s*/)
        .filter((x) => x !== "")
        .every((el) => {
            let end = 0;
            for (const r of el.slice(37).split(":")) {
                const [f, l = f] = r.split("-").map(Number);
                if (f <= end + 1) {
                    return false;
                }
                end = l;
            }
            return true;
        });
}

test("property: one character of a related set changed, the fast path gives the exact answer or steps aside", () => {
    const noise = fc.constantFrom(..."0123456789:-, \n\tabcdefABCDEFgxz_é\u0131\u0000".split(""));
    fc.assert(
        fc.property(related, fc.nat({ max: 2 }), fc.nat(), noise, fc.boolean(), (texts, which, at, c, insert) => {
            const t = texts[which].replace(/^\n+/, "");
            if (t === "") {
                return;
            }
            const i = at % t.length;
            const changed = texts.slice() as [string, string, string];
            changed[which] = PAD + t.slice(0, i) + c + t.slice(insert ? i : i + 1);
            agrees(...changed);
        }),
        { numRuns: 600 },
    );
});

test("property: elements of megabytes compared across the scanner's chunks", () => {
    // gtid-E: one UUID of 80,000 intervals (≈ 1.3 MB: several 256 KB chunks); gtid-S stops at interval
    // `at`, cut or not; gtid-P is gtid-S up to `purgedAt`; sometimes one interval of gtid-S grows by one.
    const n = 80_000;
    const runs: Runs = Array.from({ length: n }, (_, j) => [10 * j + 1, 10 * j + 5]);
    const e = `${A}:${runs.map(([f, l]) => `${f}-${l}`).join(":")},\n${B}:1-9`;
    fc.assert(
        fc.property(
            fc.nat({ max: n - 1 }),
            fc.nat({ max: n - 1 }),
            fc.nat({ max: 4 }),
            fc.option(fc.nat({ max: n - 1 })),
            (at, purgedAt, cut, grown) => {
                const s0 = runs.slice(0, at + 1).map(([f, l], j) => [f, j === at ? l - cut : l] as [number, number]);
                const s1 =
                    grown === null || grown > at
                        ? s0
                        : s0.map(([f, l], j) => [f, j === grown ? l + 1 : l] as [number, number]);
                const fmt = (r: Runs) => `${A}:${r.map(([f, l]) => (f === l ? `${f}` : `${f}-${l}`)).join(":")}`;
                const s = `${fmt(s1)},\n${B}:1-9`;
                const p = fmt(s1.slice(0, Math.min(purgedAt, at) + 1));
                const fast = agrees(s, p, e);
                assert.equal(
                    fast,
                    s1.every(([, l], j) => l <= runs[j][1]),
                );
            },
        ),
        { numRuns: 25 },
    );
});

test("many elements across the scanner's chunks, the chunks ending at every place of an element", () => {
    // 20,000 UUIDs (≈ 1.1 MB, four 256 KB chunks). Per UUID, gtid-E equals gtid-S, is ahead in its last
    // interval, or writes its first interval otherwise (nothing shared). Leading spaces shift where the
    // chunks end: in a UUID, in an interval, between elements.
    const id = (k: number) => `0000aaaa-1111-2222-3333-${k.toString(16).padStart(12, "0")}`;
    const n = 20_000;
    const s: string[] = [];
    const e: string[] = [];
    for (let k = 0; k < n; k++) {
        const last = 100 + (k % 97);
        s.push(`${id(k)}:1-${last}:${last + 5}-${last + 9}`);
        e.push(
            [
                `${id(k)}:1-${last}:${last + 5}-${last + 9}`,
                `${id(k)}:1-${last}:${last + 5}-${last + 12}`,
                `${id(k)}:1-${last + 1}:${last + 5}-${last + 9}`,
            ][k % 3],
        );
    }
    const syncer = s.join(",\n");
    const executed = e.join(",\n");
    for (let shift = 0; shift < 56; shift += 5) {
        assert.equal(agrees(syncer, `${id(0)}:1-50`, " ".repeat(shift) + executed), true, `shift ${shift}`);
    }
    // One UUID behind: refused.
    const behind = executed
        .replace(`${id(n - 1)}:1-`, `${id(n - 1)}:2-`)
        .replace(/-(\d+)$/, (_, x) => `-${Number(x) - 1}`);
    assert.equal(agrees(syncer, "", behind), false);
});
