import assert from "node:assert/strict";
import { test } from "node:test";
import { FlagSpec, helpText, parseFlags, UsageError } from "../../components/cli/args";
import { CommandIo, commands, main } from "../../components/cli/main";

const SPEC = {
    flavor: { type: "string", required: true, choices: ["mysql", "mariadb"], description: "the flavor" },
    name: { type: "string", description: "a name", placeholder: "<n>" },
    json: { type: "boolean", description: "JSON out" },
} as const satisfies Record<string, FlagSpec>;

const parsed: [string, string[], object][] = [
    [
        "--name value and --name=value",
        ["--flavor", "mysql", "--name=x=y"],
        { flavor: "mysql", name: "x=y", json: false },
    ],
    [
        "an empty value, quoted or after '='",
        ["--flavor=mariadb", "--name", ""],
        { flavor: "mariadb", name: "", json: false },
    ],
    ["a boolean flag", ["--json", "--flavor", "mysql"], { flavor: "mysql", name: undefined, json: true }],
];
for (const [name, argv, want] of parsed) {
    test(`parses ${name}`, () => assert.deepEqual(parseFlags(argv, SPEC), { help: false, values: want }));
}

const rejected: [string, string[], string][] = [
    ["an unknown flag", ["--flavour", "mysql"], "--flavour: unknown flag; the flags are --flavor, --name, --json"],
    ["a value outside the choices", ["--flavor", "pg"], `--flavor: must be mysql or mariadb, got "pg"`],
    ["a missing value", ["--flavor"], `--flavor: needs a value: --flavor <flavor> (quote an empty value: --flavor "")`],
    [
        "a flag where the value should be",
        ["--name", "--json"],
        `--name: needs a value: --name <n> (quote an empty value: --name "")`,
    ],
    ["a repeated flag", ["--flavor", "mysql", "--flavor", "mysql"], "--flavor: given twice; give it once"],
    ["a value given to a boolean", ["--flavor", "mysql", "--json=yes"], "--json: takes no value; write --json alone"],
    ["a missing required flag", ["--json"], "--flavor: is required: the flavor"],
    [
        "a stray word",
        ["--flavor", "mysql", "oops"],
        `"oops": unexpected argument; every value follows its flag (e.g. --flavor <value>)`,
    ],
    ["a prototype name", ["--constructor", "x"], "--constructor: unknown flag; the flags are --flavor, --name, --json"],
];
for (const [name, argv, message] of rejected) {
    test(`rejects ${name}`, () =>
        assert.throws(
            () => parseFlags(argv, SPEC),
            (e: unknown) => e instanceof UsageError && e.message === message,
        ));
}

test("--help wins over everything else", () => assert.deepEqual(parseFlags(["--bogus", "-h"], SPEC), { help: true }));

test("help lists the usage line and every flag", () => {
    assert.equal(
        helpText("x", "Does x.", SPEC),
        "usage: x --flavor <flavor> [--name <n>] [--json]\n\nDoes x.\n\n  --flavor <flavor>  the flavor\n  --name <n>         a name\n  --json             JSON out\n",
    );
});

function io() {
    const seen = { out: "", err: "" };
    const sink: CommandIo = { out: (t) => void (seen.out += t), err: (t) => void (seen.err += t), env: {} };
    return { seen, sink };
}

test("dm-switch --help and dm-switch gtid --help list the commands", async () => {
    for (const argv of [["--help"], ["gtid", "-h"]]) {
        const { seen, sink } = io();
        assert.equal(await main(argv, sink), 0);
        assert.match(seen.out, /^usage: dm-switch <command> \[flags\]/);
        assert.match(seen.out, /\n {2}gtid check {2}/);
    }
});

test("no command, or half of one, exits 2 and says what is missing", async () => {
    const none = io();
    assert.equal(await main([], none.sink), 2);
    assert.match(none.seen.err, /^dm-switch: no command given\n/);
    const half = io();
    assert.equal(await main(["gtid"], half.sink), 2);
    assert.match(half.seen.err, /^dm-switch: "gtid" needs one more word: gtid check\n/);
});

test("a command that throws exits 1 with the command named", async () => {
    commands["explode now"] = { summary: "test only", run: async () => Promise.reject(new Error("boom")) };
    try {
        const { seen, sink } = io();
        assert.equal(await main(["explode", "now"], sink), 1);
        assert.match(seen.err, /^dm-switch explode now: unexpected failure: Error: boom\n/);
    } finally {
        delete commands["explode now"];
    }
});
