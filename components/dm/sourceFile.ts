/**
 * DM's own configuration file of a source (`dmctl get-config source`), edited for `operate-source
 * create`: only the fields dm-switch sets are rewritten, every other line stays as DM printed it, so a
 * source re-created by an address switch or a change of its settings keeps what the stack does not set
 * (`case-sensitive`, `filters`, `purge`, `checker`, `from.session`, `from.security`, `server-id`,
 * `relay-dir`, …). DM's OpenAPI cannot do this: `GET /api/v1/sources/{s}` answers only some fields and
 * `POST /api/v1/sources` fills the others with defaults. Pure.
 *
 * Handles the block-style YAML DM generates (yaml.v2): top-level `key: value` lines and a `from:` block.
 */
import { DmSourceConfig } from "./types";

/** How DM masks a password; a stored source file holds this, never the password. */
export const PASSWORD_MASK = "******";

const q = (s: string) => JSON.stringify(s);
const indentOf = (line: string) => line.length - line.trimStart().length;
const isContent = (line: string) => line.trim() !== "" && !line.trimStart().startsWith("#");
const keyRe = (key: string) => new RegExp(`^${key.replace(/[.-]/g, (c) => `\\${c}`)}:(\\s|$)`);

/** [start, end) of the lines under the top-level `from:` (its children), or undefined when there is none. */
function fromBlock(lines: string[]): [number, number] | undefined {
    const at = lines.findIndex((l) => /^from:\s*(#.*)?$/.test(l));
    if (at < 0) {
        if (lines.some((l) => /^from:\s*\S/.test(l))) {
            throw new TypeError("the source file's from: is not a block of key: value lines");
        }
        return undefined;
    }
    let end = at + 1;
    while (end < lines.length && (!isContent(lines[end]) || indentOf(lines[end]) > 0)) {
        end++;
    }
    return [at + 1, end];
}

/**
 * Sets `key: value` among the lines [start, end) at `indent`: replaces the key's line (and the deeper lines
 * of a block value under it) or inserts the line at `start`. Returns the new lines.
 */
function setKey(lines: string[], start: number, end: number, indent: number, key: string, value: string): string[] {
    const re = keyRe(key);
    const i = lines.findIndex((l, n) => n >= start && n < end && indentOf(l) === indent && re.test(l.trimStart()));
    const line = `${" ".repeat(indent)}${key}: ${value}`;
    if (i < 0) {
        return [...lines.slice(0, start), line, ...lines.slice(start)];
    }
    let next = i + 1;
    while (next < end && (!isContent(lines[next]) || indentOf(lines[next]) > indent)) {
        next++;
    }
    return [...lines.slice(0, i), line, ...lines.slice(next)];
}

function topValue(lines: string[], key: string): string | undefined {
    const line = lines.find((l) => indentOf(l) === 0 && keyRe(key).test(l));
    return line === undefined ? undefined : unquote(line.slice(line.indexOf(":") + 1).trim());
}

function fromValue(lines: string[], key: string): string | undefined {
    const block = fromBlock(lines);
    if (!block) {
        return undefined;
    }
    const children = lines.slice(block[0], block[1]).filter(isContent);
    const indent = children.length > 0 ? indentOf(children[0]) : 2;
    const line = children.find((l) => indentOf(l) === indent && keyRe(key).test(l.trimStart()));
    return line === undefined ? undefined : unquote(line.slice(line.indexOf(":") + 1).trim());
}

function unquote(v: string): string {
    if (v.startsWith('"') && v.endsWith('"') && v.length >= 2) {
        try {
            return JSON.parse(v) as string;
        } catch {
            return v.slice(1, -1);
        }
    }
    if (v.startsWith("'") && v.endsWith("'") && v.length >= 2) {
        return v.slice(1, -1).replace(/''/g, "'");
    }
    return v;
}

/** The address a source file reads from (`from.host`, `from.port`), as far as the file says. */
export function sourceFileAddress(text: string): { host?: string; port?: number } {
    const lines = text.split("\n");
    const port = fromValue(lines, "port");
    return { host: fromValue(lines, "host"), port: port === undefined ? undefined : Number(port) };
}

/** The user a source file reads as (`from.user`). */
export function sourceFileUser(text: string): string | undefined {
    return fromValue(text.split("\n"), "user");
}

/** The source id a source file names. */
export function sourceFileId(text: string): string | undefined {
    return topValue(text.split("\n"), "source-id");
}

/** The file with `from.password` masked: what may be kept in state. A file without a password is returned as it is. */
export function maskSourceFile(text: string): string {
    const lines = text.split("\n");
    const block = fromBlock(lines);
    if (!block || fromValue(lines, "password") === undefined) {
        return text;
    }
    const indent = indentOf(lines.slice(block[0], block[1]).find(isContent)!);
    return setKey(lines, block[0], block[1], indent, "password", `'${PASSWORD_MASK}'`).join("\n");
}

/**
 * DM's source file `base` with the fields dm-switch sets taken from `cfg`: `source-id`, `flavor`,
 * `enable-gtid`, `enable-relay`, `from.host`, `from.port`, `from.user`, `from.password`. When the address
 * changes, `relay-binlog-name` and `relay-binlog-gtid` are emptied (they name a position on the server the
 * file read from; `cfg.relayBinlogGtid` sets the latter). Everything else is kept line for line.
 * Throws TypeError when `base` is not a source file of `cfg.id`.
 */
export function overlaySourceFile(base: string, cfg: DmSourceConfig): string {
    let lines = base.replace(/\r\n/g, "\n").split("\n");
    const id = topValue(lines, "source-id");
    if (id !== undefined && id !== cfg.id) {
        throw new TypeError(`the source file is source ${JSON.stringify(id)}'s, not ${JSON.stringify(cfg.id)}'s`);
    }
    if (id === undefined && !fromBlock(lines)) {
        throw new TypeError("the source file has neither source-id nor from: it is not DM's configuration of a source");
    }
    const was = sourceFileAddress(base);
    const moved = was.host !== cfg.host || was.port !== cfg.port;
    const top: [string, string][] = [
        ["source-id", q(cfg.id)],
        ["flavor", q(cfg.flavor)],
        ["enable-gtid", String(cfg.enableGtid)],
        ["enable-relay", String(cfg.enableRelay ?? false)],
        ...(moved ? ([["relay-binlog-name", '""']] as [string, string][]) : []),
        ...(cfg.relayBinlogGtid !== undefined
            ? ([["relay-binlog-gtid", q(cfg.relayBinlogGtid)]] as [string, string][])
            : moved
              ? ([["relay-binlog-gtid", '""']] as [string, string][])
              : []),
    ];
    for (const [key, value] of top) {
        const end = lines.length && lines[lines.length - 1] === "" ? lines.length - 1 : lines.length;
        const exists = lines.some((l) => indentOf(l) === 0 && keyRe(key).test(l));
        lines = exists
            ? setKey(lines, 0, lines.length, 0, key, value)
            : [...lines.slice(0, end), `${key}: ${value}`, ...lines.slice(end)];
    }
    let block = fromBlock(lines);
    if (!block) {
        const end = lines.length && lines[lines.length - 1] === "" ? lines.length - 1 : lines.length;
        lines = [...lines.slice(0, end), "from:", ...lines.slice(end)];
        block = fromBlock(lines)!;
    }
    const first = lines.slice(block[0], block[1]).find(isContent);
    const indent = first ? indentOf(first) : 2;
    // Inserted at the block's start in reverse, so that missing keys read host, port, user, password.
    for (const [key, value] of [
        ["password", q(cfg.password)],
        ["user", q(cfg.user)],
        ["port", String(cfg.port)],
        ["host", q(cfg.host)],
    ] as const) {
        const b = fromBlock(lines)!;
        lines = setKey(lines, b[0], b[1], indent, key, value);
    }
    return lines.join("\n");
}
