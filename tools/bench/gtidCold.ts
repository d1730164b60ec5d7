/**
 * One parse of a MySQL GTID set file in a fresh process, as `dm-switch gtid check` makes it: nothing
 * compiled or warmed up yet. `tsx tools/bench/gtidCold.ts scanner|exact FILE` prints the milliseconds.
 * Run by `npm run bench:gtid`.
 */
import * as fs from "node:fs";
import { parseMysql, parseMysqlExact } from "../../components/gtid/mysql";

const [which, file] = process.argv.slice(2);
const text = fs.readFileSync(file, "utf8");
const parse = which === "exact" ? parseMysqlExact : parseMysql;
const t0 = performance.now();
parse(text);
console.log((performance.now() - t0).toFixed(1));
