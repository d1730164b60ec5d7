import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import {
    contains,
    equals,
    Flavor,
    formatGtidSet,
    GtidParseError,
    GtidSet,
    parseGtidSet,
    subtract,
    union,
} from "../../components/gtid";

// Generated sets come from a few UUIDs, tags and number ranges (small, around 2^53, near 2^63-2) so that
// they overlap often; each interval is short so that a naive model can list every member.
const UUIDS = [
    "3e11fa47-71ca-11e1-9e33-c80aa9429562",
    "4f22ab58-82db-22f2-af44-d91bb0530673",
    "0a0b0c0d-0000-0000-0000-000000000001",
];
const TAGS = ["", "alpha", "b_2"];
const BASES = [1n, 2n ** 53n - 4n, 2n ** 63n - 13n]; // the last reaches 2^63-2, the largest MySQL GNO

const interval = fc.record({
    base: fc.constantFrom(...BASES),
    offset: fc.integer({ min: 0, max: 8 }),
    length: fc.integer({ min: 0, max: 3 }),
});
const element = fc.record({
    uuid: fc.constantFrom(...UUIDS),
    upper: fc.boolean(),
    tag: fc.constantFrom(...TAGS),
    intervals: fc.array(interval, { minLength: 1, maxLength: 4 }),
    sep: fc.constantFrom(",", ",\n", " , "),
});
/** MySQL text in varied spelling (case, whitespace, order, repeats) and its members `key#n`. */
const mysqlText = fc.array(element, { maxLength: 5 }).map((els) => {
    const members = new Set<string>();
    const text = els
        .map((e, i) => {
            const key = e.tag === "" ? e.uuid : `${e.uuid}:${e.tag}`;
            const ivs = e.intervals.map(({ base, offset, length }) => {
                const s = base + BigInt(offset);
                for (let k = 0n; k <= BigInt(length); k++) {
                    members.add(`${key}#${s + k}`);
                }
                return length === 0 ? `${s}` : `${s}-${s + BigInt(length)}`;
            });
            const uuid = e.upper ? e.uuid.toUpperCase() : e.uuid;
            return `${i === 0 ? "" : e.sep}${uuid}${e.tag === "" ? "" : `:${e.upper ? e.tag.toUpperCase() : e.tag}`}:${ivs.join(":")}`;
        })
        .join("");
    return { text, members };
});
const mysqlSet = mysqlText.map((m) => parseGtidSet("mysql", m.text));

/** MariaDB text and its model: domain → highest seq. */
const mariadbText = fc
    .array(
        fc.record({
            domain: fc.integer({ min: 0, max: 2 }),
            server: fc.integer({ min: 1, max: 3 }),
            seq: fc.oneof(fc.bigInt({ min: 0n, max: 30n }), fc.constant(2n ** 64n - 1n)),
        }),
        {
            maxLength: 6,
        },
    )
    .map((gs) => {
        const model = new Map<number, bigint>();
        for (const g of gs) {
            if (g.seq > 0n && (model.get(g.domain) ?? 0n) < g.seq) {
                model.set(g.domain, g.seq);
            }
        }
        return { text: gs.map((g) => `${g.domain}-${g.server}-${g.seq}`).join(", "), model };
    });
const mariadbSet = mariadbText.map((m) => parseGtidSet("mariadb", m.text));

const sets: [Flavor, fc.Arbitrary<GtidSet>][] = [
    ["mysql", mysqlSet],
    ["mariadb", mariadbSet],
];
const runs = { numRuns: 300 };

for (const [flavor, arb] of sets) {
    test(`${flavor}: contains is reflexive`, () =>
        fc.assert(
            fc.property(arb, (a) => contains(a, a)),
            runs,
        ));

    test(`${flavor}: contains is transitive`, () => {
        fc.assert(
            fc.property(arb, arb, arb, (a, b, c) => {
                // Random triples rarely chain; build chains too: a ∪ b ∪ c ⊇ b ∪ c ⊇ c.
                const bc = union(b, c);
                const abc = union(a, bc);
                assert.ok(contains(abc, bc) && contains(bc, c) && contains(abc, c));
                if (contains(a, b) && contains(b, c)) {
                    assert.ok(contains(a, c));
                }
            }),
            runs,
        );
    });

    test(`${flavor}: a union contains both sides`, () =>
        fc.assert(
            fc.property(arb, arb, (a, b) => contains(union(a, b), a) && contains(union(a, b), b)),
            runs,
        ));

    test(`${flavor}: contains(a, b) exactly when subtract(b, a) is empty`, () => {
        fc.assert(
            fc.property(arb, arb, (a, b) => contains(a, b) === (formatGtidSet(subtract(b, a)) === "")),
            runs,
        );
    });

    test(`${flavor}: subtract(b, a) is what a ∪ subtract(b, a) needs to contain b`, () => {
        fc.assert(
            fc.property(arb, arb, (a, b) => contains(union(a, subtract(b, a)), b) && contains(b, subtract(b, a))),
            runs,
        );
    });

    test(`${flavor}: parse(format(x)) equals x, and format is a fixed point`, () => {
        fc.assert(
            fc.property(arb, (x) => {
                const text = formatGtidSet(x);
                const again = parseGtidSet(flavor, text);
                return equals(again, x) && formatGtidSet(again) === text;
            }),
            runs,
        );
    });
}

test("mysql: operations agree with a naive model of members", () => {
    const members = (s: GtidSet) => {
        const out = new Set<string>();
        for (const el of formatGtidSet(s)
            .split(",")
            .filter((x) => x !== "")) {
            let key = el.slice(0, 36);
            for (const part of el.slice(37).split(":")) {
                if (/^[a-z_]/.test(part)) {
                    key = `${el.slice(0, 36)}:${part}`;
                    continue;
                }
                const [s0, e0 = s0] = part.split("-").map(BigInt);
                for (let k = s0; k <= e0; k++) {
                    out.add(`${key}#${k}`);
                }
            }
        }
        return out;
    };
    fc.assert(
        fc.property(mysqlText, mysqlText, (ma, mb) => {
            const a = parseGtidSet("mysql", ma.text);
            const b = parseGtidSet("mysql", mb.text);
            assert.deepEqual(members(a), ma.members);
            assert.equal(
                contains(a, b),
                [...mb.members].every((m) => ma.members.has(m)),
            );
            assert.deepEqual(members(subtract(a, b)), new Set([...ma.members].filter((m) => !mb.members.has(m))));
            assert.deepEqual(members(union(a, b)), new Set([...ma.members, ...mb.members]));
        }),
        runs,
    );
});

test("mariadb: contains agrees with the per-domain model", () => {
    fc.assert(
        fc.property(mariadbText, mariadbText, (ma, mb) => {
            const want = [...mb.model].every(([d, seq]) => (ma.model.get(d) ?? 0n) >= seq);
            return contains(parseGtidSet("mariadb", ma.text), parseGtidSet("mariadb", mb.text)) === want;
        }),
        runs,
    );
});

// Fuzz: random text never crashes the parsers — it parses, or raises the typed error pointing inside the text.
const ALPHABET = [..."0123456789abcdefABCDEFxyz_-:, \n\t"];
/** A valid text with one character inserted, deleted or replaced: mostly near-misses of real sets. */
const mutated = fc
    .tuple(fc.oneof(mysqlText, mariadbText), fc.nat(), fc.constantFrom(...ALPHABET), fc.constantFrom(0, 1, 2))
    .map(([{ text }, at, c, op]) => {
        const i = text.length === 0 ? 0 : at % text.length;
        return text.slice(0, i) + (op === 1 ? "" : c) + text.slice(op === 0 ? i : i + 1);
    });
const gtidish = fc.oneof(
    mutated,
    fc.string({ unit: fc.constantFrom(...ALPHABET), maxLength: 80 }),
    fc
        .array(
            fc.oneof(
                fc.constantFrom(...UUIDS, ":", "-", ",", "0", "1-5", "9223372036854775807", "tag", " "),
                fc.string({ maxLength: 3 }),
            ),
            { maxLength: 12 },
        )
        .map((p) => p.join("")),
    fc.string({ unit: "binary", maxLength: 40 }),
);
for (const flavor of ["mysql", "mariadb"] as const) {
    test(`${flavor}: random text parses or raises GtidParseError`, () => {
        fc.assert(
            fc.property(gtidish, (text) => {
                try {
                    const set = parseGtidSet(flavor, text);
                    assert.ok(equals(parseGtidSet(flavor, formatGtidSet(set)), set));
                } catch (e) {
                    if (!(e instanceof GtidParseError)) {
                        throw e;
                    }
                    assert.ok(e.position >= 0 && e.position <= text.length && e.index >= 1, e.message);
                    assert.ok(e.message.includes(`of the ${flavor} GTID set: `), e.message);
                }
            }),
            { numRuns: 2000 },
        );
    });
}
