/**
 * Edits a DM task file before start-task, touching only the lines it must so the user's file stays as
 * written: `mysql-instances[].meta` ← gtid-S (tiflow#11648: the precheck checks the file's meta even
 * when the syncer resumes from the checkpoint) and a masked `target-database.password`. Pure.
 *
 * Handles block-style YAML (what people write and what `get-config task` prints) and JSON.
 */
import { StartTaskOptions } from "./types";

const indentOf = (line: string) => line.length - line.trimStart().length;
const isContent = (line: string) => line.trim() !== "" && !line.trimStart().startsWith("#");
const MASK = "******";

/** The task file with the options applied; throws TypeError naming what it could not find. */
export function editTaskFile(text: string, opts: StartTaskOptions): string {
    if (text.trimStart().startsWith("{")) {
        return editJson(text, opts);
    }
    let lines = text.split("\n");
    if (opts.binlogGtid && Object.keys(opts.binlogGtid).length > 0) {
        lines = setMeta(lines, opts.binlogGtid);
    }
    if (opts.targetPassword !== undefined) {
        lines = setTargetPassword(lines, opts.targetPassword);
    }
    return lines.join("\n");
}

/** The value of the top-level `name:` of a task file. */
export function taskNameOf(text: string): string | undefined {
    if (text.trimStart().startsWith("{")) {
        const name = (JSON.parse(text) as { name?: unknown }).name;
        return typeof name === "string" ? name : undefined;
    }
    const m = /^name:\s*(.+?)\s*$/m.exec(text);
    return m ? m[1].replace(/^(["'])(.*)\1$/, "$2") : undefined;
}

function editJson(text: string, opts: StartTaskOptions): string {
    const task = JSON.parse(text) as {
        "mysql-instances"?: { "source-id"?: string; meta?: unknown }[];
        "target-database"?: { password?: string };
    };
    for (const [source, gtid] of Object.entries(opts.binlogGtid ?? {})) {
        const inst = (task["mysql-instances"] ?? []).find((i) => i["source-id"] === source);
        if (!inst) {
            throw new TypeError(`task file has no mysql-instances entry for source ${source}`);
        }
        inst.meta = { "binlog-gtid": compact(gtid) };
    }
    if (opts.targetPassword !== undefined && task["target-database"]?.password === MASK) {
        task["target-database"].password = opts.targetPassword;
    }
    return JSON.stringify(task, null, 2);
}

/** GTID sets come with newlines after commas (MySQL); a task file wants one line. */
const compact = (gtid: string) => gtid.replace(/\s+/g, "");

/** [start, end) of the block under a top-level key, or undefined. */
function topBlock(lines: string[], key: string): [number, number] | undefined {
    const start = lines.findIndex((l) => new RegExp(`^${key}:\\s*(#.*)?$`).test(l));
    if (start < 0) {
        return undefined;
    }
    let end = start + 1;
    // A list under a top-level key may start at column 0 ("- source-id: …"), as Go's YAML prints it.
    while (end < lines.length && (!isContent(lines[end]) || indentOf(lines[end]) > 0 || lines[end].startsWith("-"))) {
        end++;
    }
    return [start, end];
}

function setMeta(lines: string[], gtids: Record<string, string>): string[] {
    const block = topBlock(lines, "mysql-instances");
    if (!block) {
        throw new TypeError("task file has no block-style mysql-instances list");
    }
    const [start, end] = block;
    const items: [number, number][] = [];
    let itemIndent = -1;
    for (let i = start + 1; i < end; i++) {
        const l = lines[i];
        if (!isContent(l)) {
            continue;
        }
        if (itemIndent < 0 && l.trimStart().startsWith("- ")) {
            itemIndent = indentOf(l);
        }
        if (indentOf(l) === itemIndent && l.trimStart().startsWith("- ")) {
            items.push([i, end]);
            if (items.length > 1) {
                items[items.length - 2][1] = i;
            }
        }
    }
    const out = [...lines];
    const edits: { at: number; remove: number; insert: string[] }[] = [];
    const found = new Set<string>();
    for (const [s, e] of items) {
        const keyIndent = itemIndent + 2;
        const keyLine = (i: number) => (i === s ? " ".repeat(keyIndent) + lines[i].trimStart().slice(2) : lines[i]);
        let source: string | undefined;
        let meta: [number, number] | undefined;
        for (let i = s; i < e; i++) {
            const l = keyLine(i);
            if (!isContent(l) || indentOf(l) !== keyIndent) {
                continue;
            }
            const m = /^\s*source-id:\s*(.+?)\s*$/.exec(l);
            if (m) {
                source = m[1].replace(/^(["'])(.*)\1$/, "$2");
            }
            if (/^\s*meta:/.test(l)) {
                let j = i + 1;
                while (j < e && (!isContent(lines[j]) || indentOf(lines[j]) > keyIndent)) {
                    j++;
                }
                meta = [i, j];
            }
        }
        if (source === undefined || gtids[source] === undefined) {
            continue;
        }
        found.add(source);
        const pad = " ".repeat(keyIndent);
        const insert = [`${pad}meta:`, `${pad}  binlog-gtid: ${JSON.stringify(compact(gtids[source]))}`];
        if (meta && meta[0] === s) {
            // "- meta:" opens the item: keep the list marker.
            insert[0] = `${" ".repeat(itemIndent)}- meta:`;
        }
        edits.push(meta ? { at: meta[0], remove: meta[1] - meta[0], insert } : { at: s + 1, remove: 0, insert });
    }
    for (const source of Object.keys(gtids)) {
        if (!found.has(source)) {
            throw new TypeError(`task file has no mysql-instances entry for source ${source}`);
        }
    }
    for (const ed of edits.sort((a, b) => b.at - a.at)) {
        out.splice(ed.at, ed.remove, ...ed.insert);
    }
    return out;
}

function setTargetPassword(lines: string[], password: string): string[] {
    const block = topBlock(lines, "target-database");
    if (!block) {
        return lines;
    }
    const out = [...lines];
    for (let i = block[0] + 1; i < block[1]; i++) {
        const m = /^(\s*)password:\s*(.*?)\s*$/.exec(lines[i]);
        if (m && m[2].replace(/^(["'])(.*)\1$/, "$2") === MASK) {
            out[i] = `${m[1]}password: ${JSON.stringify(password)}`;
        }
    }
    return out;
}
