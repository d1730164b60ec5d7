import assert from "node:assert/strict";
import { test } from "node:test";
import { dmAppliesTaggedGtids, gtidTags, parseDmStatus, taggedGtidRefusals } from "../../components/dm/capabilities";

/** dm-master's /status as DM at tiflow 2409e0b answered it (seen live). */
const STATUS_2409 = `Release Version: v9.0.0-beta.2.pre-38-g2409e0bd7e
Git Commit Hash: 2409e0bd7ee293ec761978f244a9d5b1c82afe59
Git Branch: master
UTC Build Time: 2026-12-06 19:21:19
Go Version: go1.26.8
Failpoint Build: false
`;
const STATUS_1D4A = `Release Version: v9.0.0-alpha-1d4a644
Git Commit Hash: 1d4a644a7d480e4403ac0e588da3200b07937d3c
Git Branch: None
`;
const U = "3e11fa47-71ca-11e1-9e33-c80aa9429562";

test("parses dm-master's /status", () => {
    assert.deepEqual(parseDmStatus(STATUS_2409), {
        release: "v9.0.0-beta.2.pre-38-g2409e0bd7e",
        gitHash: "2409e0bd7ee293ec761978f244a9d5b1c82afe59",
    });
    assert.deepEqual(parseDmStatus("Release Version: v8.5.6\n"), { release: "v8.5.6", gitHash: "" });
    assert.throws(() => parseDmStatus("<html>"), {
        message: `dm-master's /status did not say its "Release Version" (got "<html>").`,
    });
});

test("finds the tags of a MySQL GTID set, not its UUIDs or intervals", () => {
    assert.deepEqual(gtidTags(`${U}:1-5:MyTag:1-3:b_2:7,${U.replace("3e", "4e")}:1-9`), ["b_2", "mytag"]);
    assert.deepEqual(gtidTags(`${U}:1-5:7-9`), []);
    assert.deepEqual(gtidTags(""), []);
});

test("no DM build is known to apply tagged GTIDs; a release at or after the first that does is allowed", () => {
    const v = parseDmStatus(STATUS_2409);
    assert.equal(dmAppliesTaggedGtids(v), false);
    assert.equal(dmAppliesTaggedGtids(v, "v9.0.0"), false, "a pre-release sorts before its release");
    assert.equal(dmAppliesTaggedGtids({ release: "v9.0.0", gitHash: "" }, "v9.0.0"), true);
    assert.equal(dmAppliesTaggedGtids({ release: "v9.1.2", gitHash: "" }, "v9.0.0"), true);
    assert.equal(dmAppliesTaggedGtids({ release: "v8.5.6", gitHash: "" }, "v9.0.0"), false);
    assert.equal(
        dmAppliesTaggedGtids({ release: "nightly", gitHash: "" }, "v9.0.0"),
        false,
        "an unreadable version proves nothing",
    );
    assert.deepEqual(
        taggedGtidRefusals(
            { release: "v9.1.0", gitHash: "" },
            [{ side: "target replica", gtidSet: `${U}:t:1` }],
            "v9.0.0",
        ),
        [],
    );
});

test("refuses naming the server, its tags, the DM version and what that DM does with them", () => {
    const sets = [
        { side: "the source's upstream (127.0.0.1:13306)", gtidSet: `${U}:1-10` },
        { side: "target replica (127.0.0.1:13308)", gtidSet: `${U}:1-10:mytag:1-2:other:1` },
    ];
    const tail =
        "stop writing tagged transactions (SET GTID_NEXT='AUTOMATIC:<tag>') on the replication set, or use a DM that applies them.";
    assert.deepEqual(taggedGtidRefusals(parseDmStatus(STATUS_2409), sets), [
        `target replica (127.0.0.1:13308) holds tagged GTIDs (tags "mytag", "other"), and DM v9.0.0-beta.2.pre-38-g2409e0bd7e (2409e0b) drops those transactions silently (the task stays Running, the rows never reach the downstream): ${tail}`,
    ]);
    assert.deepEqual(
        taggedGtidRefusals(parseDmStatus(STATUS_1D4A), [{ side: "target replica", gtidSet: `${U}:x:1` }]),
        [
            `target replica holds tagged GTIDs (tag "x"), and DM v9.0.0-alpha-1d4a644 (1d4a644) cannot read MySQL ≥ 8.4 and fails on a tagged GTID (strconv.ParseInt: parsing "<tag>"): ${tail}`,
        ],
    );
    assert.deepEqual(
        taggedGtidRefusals({ release: "v8.5.6", gitHash: "" }, [
            { side: "the source's upstream", gtidSet: `${U}:x:1` },
        ]),
        [
            `the source's upstream holds tagged GTIDs (tag "x"), and DM v8.5.6 is not known to apply them (no DM build is; DM 2409e0b, the newest seen, drops them silently): ${tail}`,
        ],
    );
    assert.deepEqual(taggedGtidRefusals(parseDmStatus(STATUS_2409), [sets[0]]), [], "no tag, no refusal");
});
