import assert from "node:assert/strict";
import { test } from "node:test";
import { contains, Flavor, formatGtidSet, GtidParseError, parseGtidSet, subtract, union } from "../../components/gtid";

const A = "3e11fa47-71ca-11e1-9e33-c80aa9429562";
const canon = (text: string) => formatGtidSet(parseGtidSet("mariadb", text));
const at = (flavor: Flavor, index: number, element: string, position: number, reason: string) =>
    `element ${index} ${JSON.stringify(element)} at offset ${position} of the ${flavor} GTID set: ${reason}`;

const mariadbCases: [string, string, string][] = [
    ["the empty text is the empty set", "", ""],
    ["a position stays as it is", "0-1-42", "0-1-42"],
    ["a state is sorted by domain, then server", "1-2-7,0-2-50,0-1-42", "0-1-42,0-2-50,1-2-7"],
    ["whitespace around elements is accepted", " 0-1-42 ,\n1-2-7 ", "0-1-42,1-2-7"],
    ["a repeated (domain, server) keeps the highest seq", "0-1-5,0-1-9,0-1-7", "0-1-9"],
    ["DM's 'from scratch' position d-s-0 is empty", "0-0-0", ""],
    ["seq 2^64 - 1 stays exact", "0-1-18446744073709551615", "0-1-18446744073709551615"],
    ["ids up to 2^32 - 1 are accepted", "4294967295-4294967295-1", "4294967295-4294967295-1"],
];
for (const [name, text, want] of mariadbCases) {
    test(`mariadb: ${name}`, () => assert.equal(canon(text), want));
}

const malformed: [Flavor, string, string, string][] = [
    [
        "mariadb",
        "a MySQL set",
        `${A}:1-5`,
        at(
            "mariadb",
            1,
            `${A}:1-5`,
            0,
            "this is a MySQL GTID set (uuid:interval), not a MariaDB one: give the source's flavor as mysql",
        ),
    ],
    [
        "mariadb",
        "two parts only",
        "0-1-5,0-1",
        at("mariadb", 2, "0-1", 6, "expected domain-server-seq, three decimal numbers joined by '-' (e.g. 0-1-42)"),
    ],
    [
        "mariadb",
        "a negative seq",
        "0-1--1",
        at("mariadb", 1, "0-1--1", 0, "expected domain-server-seq, three decimal numbers joined by '-' (e.g. 0-1-42)"),
    ],
    [
        "mariadb",
        "a trailing comma",
        "0-1-5,",
        at("mariadb", 2, "", 6, `empty element (two commas in a row, or a comma at an end): remove the extra ","`),
    ],
    [
        "mariadb",
        "two commas",
        "0-1-5, ,1-1-1",
        at("mariadb", 2, "", 7, `empty element (two commas in a row, or a comma at an end): remove the extra ","`),
    ],
    [
        "mariadb",
        "a domain id beyond 2^32 - 1",
        "4294967296-1-1",
        at("mariadb", 1, "4294967296-1-1", 0, "domain id 4294967296 is larger than 4294967295"),
    ],
    [
        "mariadb",
        "a server id beyond 2^32 - 1",
        "0-4294967296-1",
        at("mariadb", 1, "0-4294967296-1", 0, "server id 4294967296 is larger than 4294967295"),
    ],
    [
        "mariadb",
        "a seq beyond 2^64 - 1",
        "0-1-18446744073709551616",
        at(
            "mariadb",
            1,
            "0-1-18446744073709551616",
            0,
            "sequence number 18446744073709551616 is larger than 18446744073709551615",
        ),
    ],
];
for (const [flavor, name, text, message] of malformed) {
    test(`${flavor}: rejects ${name}`, () => {
        assert.throws(
            () => parseGtidSet(flavor, text),
            (e: unknown) => e instanceof GtidParseError && e.message === message,
        );
    });
}

// MariaDB containment is per domain (see components/gtid/mariadb.ts); both edges of that choice.
const mariadbContains: [string, string, string, boolean][] = [
    ["a later seq from the same server contains an earlier one", "0-1-50", "0-1-42", true],
    ["an earlier seq does not contain a later one", "0-1-41", "0-1-42", false],
    ["after a failover, 0-2-50 contains 0-1-42 (seq grows across servers in a domain)", "0-2-50", "0-1-42", true],
    ["after a failover, 0-2-30 does not contain 0-1-42", "0-2-30", "0-1-42", false],
    ["a position ahead contains a Gtid_list naming old servers", "0-2-60", "0-1-42,0-2-50", true],
    ["a position behind the last server does not", "0-1-45", "0-1-42,0-2-50", false],
    ["a missing domain is not contained", "1-1-100", "0-1-1", false],
    ["every domain must be reached", "0-1-50,1-2-3", "0-1-50,1-2-4", false],
    ["DM's 'from scratch' position is contained in anything", "", "0-1-0", true],
    ["the empty set contains nothing else", "", "0-1-1", false],
];
for (const [name, a, b, want] of mariadbContains) {
    test(`mariadb contains: ${name}`, () =>
        assert.equal(contains(parseGtidSet("mariadb", a), parseGtidSet("mariadb", b)), want));
}

test("mariadb subtract lists the entries beyond the other side's position in their domain", () => {
    const syncer = parseGtidSet("mariadb", "0-1-42,1-2-7,2-3-1");
    const executed = parseGtidSet("mariadb", "0-2-30,1-2-9");
    assert.equal(formatGtidSet(subtract(syncer, executed)), "0-1-42,2-3-1");
    assert.equal(formatGtidSet(subtract(executed, syncer)), "1-2-9");
});

test("mariadb union keeps every server with its highest seq", () => {
    assert.equal(
        formatGtidSet(union(parseGtidSet("mariadb", "0-1-42,0-2-5"), parseGtidSet("mariadb", "0-2-50,1-1-1"))),
        "0-1-42,0-2-50,1-1-1",
    );
});
