import assert from "node:assert/strict";
import { test } from "node:test";
import {
    contains,
    equals,
    Flavor,
    formatGtidSet,
    fromServer,
    GtidParseError,
    isEmpty,
    parseGtidSet,
    subtract,
    union,
} from "../../components/gtid";

const A = "3e11fa47-71ca-11e1-9e33-c80aa9429562";
const B = "4f22ab58-82db-22f2-af44-d91bb0530673";
const C = "0a0b0c0d-0000-0000-0000-000000000001";
const canon = (flavor: Flavor, text: string) => formatGtidSet(parseGtidSet(flavor, text));

const formatCases: [string, string, string][] = [
    ["the empty text is the empty set", "", ""],
    ["whitespace only is the empty set", " \n\t", ""],
    ["a canonical set stays as it is", `${A}:1-5:7-9,${B}:3`, `${A}:1-5:7-9,${B}:3`],
    ["uppercase UUIDs become lowercase", `${A.toUpperCase()}:1-5`, `${A}:1-5`],
    ["servers' ',\\n' separators and spaces are accepted", `${A}:1-5,\n${B}:1-3 ,  ${C}:2`, `${C}:2,${A}:1-5,${B}:1-3`],
    ["whitespace around ':' and '-' is accepted", `${A} : 1 - 5 : 7`, `${A}:1-5:7`],
    ["UUIDs are sorted", `${B}:1,${A}:1`, `${A}:1,${B}:1`],
    ["overlapping intervals merge", `${A}:1-5:3-9`, `${A}:1-9`],
    ["adjacent intervals merge", `${A}:1-5:6-9:10`, `${A}:1-10`],
    ["unsorted intervals are sorted", `${A}:20-30:1-5:7`, `${A}:1-5:7:20-30`],
    ["a contained interval disappears", `${A}:1-100:5-7`, `${A}:1-100`],
    ["a repeated UUID merges", `${A}:1-3,${B}:1,${A.toUpperCase()}:4-6`, `${A}:1-6,${B}:1`],
    ["a one-transaction interval is printed as one number", `${A}:7-7`, `${A}:7`],
    ["empty elements are skipped, as MySQL does", `,${A}:1,,${B}:2,`, `${A}:1,${B}:2`],
    ["DM's 'from scratch' set uuid:0 is empty", `${A}:0`, ""],
    [
        "tags are lowercase, sorted, after the untagged intervals",
        `${A}:TagB:1-3:tag_a:5,${A}:1-2`,
        `${A}:1-2:tag_a:5:tagb:1-3`,
    ],
    ["intervals after a tag belong to that tag", `${A}:1:t:3:5-6`, `${A}:1:t:3:5-6`],
    ["a UUID with only tagged transactions", `${A}:t:1-3`, `${A}:t:1-3`],
    ["a tag and its untagged twin stay apart", `${A}:1-3,${A}:x:1-3`, `${A}:1-3:x:1-3`],
    ["a 32-character tag is accepted", `${A}:${"a".repeat(32)}:1`, `${A}:${"a".repeat(32)}:1`],
    ["2^53 + 1 stays exact", `${A}:9007199254740993`, `${A}:9007199254740993`],
    [
        "an interval across 2^53 stays exact",
        `${A}:9007199254740990-9007199254740995`,
        `${A}:9007199254740990-9007199254740995`,
    ],
    ["2^63 - 2, MySQL's largest, is accepted", `${A}:9223372036854775806`, `${A}:9223372036854775806`],
    ["big neighbours merge", `${A}:9007199254740993:9007199254740994`, `${A}:9007199254740993-9007199254740994`],
    ["leading zeros are dropped", `${A}:0001-00000000000000000005`, `${A}:1-5`],
];
for (const [name, text, want] of formatCases) {
    test(`mysql: ${name}`, () => assert.equal(canon("mysql", text), want));
}

const at = (flavor: Flavor, index: number, element: string, position: number, reason: string) =>
    `element ${index} ${JSON.stringify(element)} at offset ${position} of the ${flavor} GTID set: ${reason}`;
const malformed: [Flavor, string, string, string][] = [
    [
        "mysql",
        "an interval ending before it starts",
        `${A}:5-3`,
        at("mysql", 1, `${A}:5-3`, 0, "interval 5-3 ends before it starts: write 3-5"),
    ],
    [
        "mysql",
        "a UUID without interval",
        `${A}:1,${B}`,
        at("mysql", 2, B, 39, `UUID ${B} has no interval: write ${B}:1-5`),
    ],
    [
        "mysql",
        "a dangling ':'",
        `${A}:`,
        at(
            "mysql",
            1,
            `${A}:`,
            0,
            `expected a sequence number (a number from 1) or a tag after ":", found the end of the text: write uuid:1-5 or uuid:tag:1-5`,
        ),
    ],
    [
        "mysql",
        "a dangling '-'",
        `${A}:3-`,
        at(
            "mysql",
            1,
            `${A}:3-`,
            0,
            `expected the end of the interval (a number from 1) or a tag after ":", found the end of the text: write uuid:1-5 or uuid:tag:1-5`,
        ),
    ],
    [
        "mysql",
        "a short UUID",
        "3e11fa47-71ca-11e1-9e33:1-5",
        at(
            "mysql",
            1,
            "3e11fa47-71ca-11e1-9e33:1-5",
            0,
            "expected a server UUID (8-4-4-4-12 hexadecimal digits, e.g. 3e11fa47-71ca-11e1-9e33-c80aa9429562) followed by :interval",
        ),
    ],
    [
        "mysql",
        "a non-hex UUID",
        `${A.replace("3e", "3g")}:1`,
        at(
            "mysql",
            1,
            `${A.replace("3e", "3g")}:1`,
            0,
            "expected a server UUID (8-4-4-4-12 hexadecimal digits, e.g. 3e11fa47-71ca-11e1-9e33-c80aa9429562) followed by :interval",
        ),
    ],
    [
        "mysql",
        "sequence number 0 next to others",
        `${A}:0-5`,
        at(
            "mysql",
            1,
            `${A}:0-5`,
            0,
            `sequence number 0 is not a transaction (they start at 1): write uuid:1-5, or "" for the empty set`,
        ),
    ],
    [
        "mysql",
        "a number beyond 2^63 - 2",
        `${A}:1-9223372036854775807`,
        at(
            "mysql",
            1,
            `${A}:1-9223372036854775807`,
            0,
            "sequence number 9223372036854775807 is outside 1…9223372036854775806 (the range MySQL accepts)",
        ),
    ],
    [
        "mysql",
        "garbage after an interval",
        `${A}:1-5x`,
        at(
            "mysql",
            1,
            `${A}:1-5x`,
            0,
            `unexpected "x" after the intervals: separate elements with "," and intervals with ":"`,
        ),
    ],
    [
        "mysql",
        "a ';' instead of ','",
        `${A}:1;${B}:1`,
        at(
            "mysql",
            1,
            `${A}:1;${B}:1`,
            0,
            `unexpected ";" after the intervals: separate elements with "," and intervals with ":"`,
        ),
    ],
    [
        "mysql",
        "a negative number",
        `${A}:-1`,
        at(
            "mysql",
            1,
            `${A}:-1`,
            0,
            `expected a sequence number (a number from 1) or a tag after ":", found "-": write uuid:1-5 or uuid:tag:1-5`,
        ),
    ],
    [
        "mysql",
        "a tag without interval",
        `${A}:1:t`,
        at("mysql", 1, `${A}:1:t`, 0, `tag "t" has no interval: write uuid:t:1-5`),
    ],
    [
        "mysql",
        "a tag followed by a tag",
        `${A}:t:u:1`,
        at("mysql", 1, `${A}:t:u:1`, 0, `tag "t" has no interval: write uuid:t:1-5`),
    ],
    [
        "mysql",
        "a 33-character tag",
        `${A}:${"a".repeat(33)}:1`,
        at(
            "mysql",
            1,
            `${A}:${"a".repeat(33)}:1`,
            0,
            `tag "${"a".repeat(33)}" is longer than 32 characters (MySQL's limit)`,
        ),
    ],
    [
        "mysql",
        "a MariaDB position",
        "0-1-42",
        at(
            "mysql",
            1,
            "0-1-42",
            0,
            "this is a MariaDB GTID (domain-server-seq), not a MySQL one: give the source's flavor as mariadb",
        ),
    ],
];
for (const [flavor, name, text, message] of malformed) {
    test(`${flavor}: rejects ${name}`, () => {
        assert.throws(
            () => parseGtidSet(flavor, text),
            (e: unknown) => {
                assert.ok(e instanceof GtidParseError);
                assert.equal(e.message, message);
                return true;
            },
        );
    });
}

test("a parse error carries the element, its number and offset", () => {
    const text = `${A}:1-5,\n  ${B}:9-2`;
    assert.throws(
        () => parseGtidSet("mysql", text),
        (e: unknown) => {
            assert.ok(e instanceof GtidParseError);
            assert.deepEqual(
                [e.flavor, e.element, e.index, e.position, e.argument],
                ["mysql", `${B}:9-2`, 2, text.indexOf(B), undefined],
            );
            return true;
        },
    );
});

test("a long offending element is quoted cut at 80 characters", () => {
    const text = `${A}:1:2:3:4:5:6:7:8:9:10:11:12:13:14:15:16:17:18:19:20:21:22:23:24x`;
    assert.throws(
        () => parseGtidSet("mysql", text),
        (e: unknown) => e instanceof GtidParseError && e.element.length === 80 && e.element.endsWith("…"),
    );
});

const mysqlContains: [string, string, string, boolean][] = [
    ["a set contains itself", `${A}:1-5`, `${A}:1-5`, true],
    ["anything contains the empty set", "", "", true],
    ["the empty set contains nothing else", "", `${A}:1`, false],
    ["a wider interval contains a narrower one", `${A}:1-100`, `${A}:5-7:50`, true],
    ["a gap is not contained", `${A}:1-5:7-10`, `${A}:5-7`, false],
    ["adjacent intervals cover what spans them", `${A}:1-5:6-10`, `${A}:3-8`, true],
    ["every UUID must be covered", `${A}:1-10,${B}:1-10`, `${A}:1-3,${C}:1`, false],
    ["UUID case does not matter", `${A.toUpperCase()}:1-10`, `${A}:2`, true],
    ["an untagged set does not contain the tagged twin", `${A}:1-10`, `${A}:t:1`, false],
    ["a tagged set does not contain the untagged twin", `${A}:t:1-10`, `${A}:1`, false],
    ["tags match case-insensitively", `${A}:TAG:1-10`, `${A}:tag:5`, true],
    ["2^53 + 1 is not 2^53 + 2", `${A}:9007199254740993`, `${A}:9007199254740994`, false],
    ["2^53 + 1 is in an interval ending at 2^53 + 1", `${A}:1-9007199254740993`, `${A}:9007199254740993`, true],
    ["2^53 + 2 is not in an interval ending at 2^53 + 1", `${A}:1-9007199254740993`, `${A}:9007199254740994`, false],
    [
        "a set of many intervals contains a sparse subset",
        `${A}:${Array.from({ length: 500 }, (_, i) => `${i * 10 + 1}-${i * 10 + 5}`).join(":")}`,
        `${A}:3:2502-2504:4991`,
        true,
    ],
];
for (const [name, a, b, want] of mysqlContains) {
    test(`mysql contains: ${name}`, () =>
        assert.equal(contains(parseGtidSet("mysql", a), parseGtidSet("mysql", b)), want));
}

test("mysql subtract names exactly what is missing", () => {
    const executed = parseGtidSet("mysql", `${A}:1-50:60-100,${B}:1-10`);
    const syncer = parseGtidSet("mysql", `${A}:1-70:tag:1,${B}:1-12,${C}:1`);
    assert.equal(formatGtidSet(subtract(syncer, executed)), `${C}:1,${A}:51-59:tag:1,${B}:11-12`);
    assert.equal(formatGtidSet(subtract(executed, syncer)), `${A}:71-100`);
});

test("mysql union merges intervals across sets", () => {
    const u = union(parseGtidSet("mysql", `${A}:1-5:20`), parseGtidSet("mysql", `${A}:6-10:t:1,${B}:3`));
    assert.equal(formatGtidSet(u), `${A}:1-10:20:t:1,${B}:3`);
});

test("equals ignores spelling but not content", () => {
    assert.ok(equals(parseGtidSet("mysql", `${A.toUpperCase()}:1-3:4-5`), parseGtidSet("mysql", `${A}:1-5`)));
    assert.ok(!equals(parseGtidSet("mysql", `${A}:1-5`), parseGtidSet("mysql", `${A}:1-6`)));
    assert.ok(!equals(parseGtidSet("mariadb", "0-1-42,0-2-50"), parseGtidSet("mariadb", "0-2-50")));
    assert.ok(isEmpty(parseGtidSet("mariadb", "0-1-0")) && !isEmpty(parseGtidSet("mysql", `${A}:1`)));
});

test("sets of different flavors do not mix", () => {
    const msg = /cannot combine a mysql GTID set with a mariadb one: parse every set with the source's flavor/;
    assert.throws(() => contains(parseGtidSet("mysql", ""), parseGtidSet("mariadb", "")), msg);
    assert.throws(() => parseGtidSet("postgres" as Flavor, ""), /flavor must be "mysql" or "mariadb", got "postgres"/);
});

test("fromServer keeps what one server wrote: a MySQL server_uuid with its tags, a MariaDB server_id", () => {
    const mysql = parseGtidSet("mysql", `${A}:1-5:9,${A}:audit:1-2,${B}:1-7`);
    assert.equal(formatGtidSet(fromServer(mysql, A.toUpperCase())), `${A}:1-5:9:audit:1-2`);
    assert.equal(formatGtidSet(fromServer(mysql, B)), `${B}:1-7`);
    assert.equal(formatGtidSet(fromServer(mysql, "0000aaaa-1111-2222-3333-000000000001")), "");
    const mariadb = parseGtidSet("mariadb", "0-1-100,0-2-103,1-2-7,2-3-9");
    assert.equal(formatGtidSet(fromServer(mariadb, "2")), "0-2-103,1-2-7");
    assert.equal(formatGtidSet(fromServer(mariadb, "4")), "");
    // What a target wrote itself between two reads: replicated transactions (server 1) are not its own.
    const before = parseGtidSet("mariadb", "0-1-100,0-2-40");
    const after = parseGtidSet("mariadb", "0-1-105,0-2-103");
    assert.equal(formatGtidSet(fromServer(subtract(after, before), "2")), "0-2-103");
    assert.equal(formatGtidSet(fromServer(subtract(after, after), "2")), "");
    assert.throws(() => fromServer(mysql, "2"), /a MySQL server is named by its server_uuid, got "2"/);
    assert.throws(() => fromServer(mariadb, A), /a MariaDB server is named by its server_id/);
});
