/**
 * Flag parsing shared by the `dm-switch` commands: `--name value` and `--name=value`, boolean flags,
 * required flags, allowed values and `--help`. Every mistake becomes a {@link UsageError} whose message
 * starts with the flag at fault (`--flavor: must be mysql or mariadb, got "x"`); the commands exit 2 on it.
 */

/** How one flag is written and checked. */
export interface FlagSpec {
    /** "string" flags take a value (`--name value`, `--name=value`, `--name=` for ""); "boolean" flags take none. */
    type: "string" | "boolean";
    /** One line for `--help`: what the value is and where to get it. */
    description: string;
    /** The command cannot run without it. @default false */
    required?: boolean;
    /** The only values accepted, listed in the error otherwise. @default any value */
    choices?: readonly string[];
    /** How the value is shown in `--help`. @default "<name>" */
    placeholder?: string;
}

/** What a set of flag specs parses to: a string (undefined when absent) or a boolean per flag. */
export type FlagValues<S extends Record<string, FlagSpec>> = {
    [K in keyof S]: S[K]["type"] extends "boolean"
        ? boolean
        : S[K]["required"] extends true
          ? string
          : string | undefined;
};

/** A command line that cannot be run as written; the message starts with the flag at fault. */
export class UsageError extends Error {
    override readonly name = "UsageError";
}

/**
 * Parses `argv` (the words after the command name) against `spec`.
 * @returns `{ help: true }` when `--help` or `-h` is present (nothing else is checked then), else the values.
 * @throws UsageError for an unknown flag, a missing or repeated one, a missing value, a value not among
 *   `choices`, or a word that belongs to no flag.
 */
export function parseFlags<S extends Record<string, FlagSpec>>(
    argv: readonly string[],
    spec: S,
): { help: true } | { help: false; values: FlagValues<S> } {
    if (argv.includes("--help") || argv.includes("-h")) {
        return { help: true };
    }
    const given = new Map<string, string | boolean>();
    for (let i = 0; i < argv.length; i++) {
        const word = argv[i];
        if (!word.startsWith("--")) {
            throw new UsageError(
                `${JSON.stringify(word)}: unexpected argument; every value follows its flag (e.g. --${Object.keys(spec)[0]} <value>)`,
            );
        }
        const eq = word.indexOf("=");
        const name = word.slice(2, eq < 0 ? undefined : eq);
        const flag = Object.prototype.hasOwnProperty.call(spec, name) ? spec[name] : undefined;
        if (flag === undefined) {
            throw new UsageError(
                `--${name}: unknown flag; the flags are ${Object.keys(spec)
                    .map((k) => `--${k}`)
                    .join(", ")}`,
            );
        }
        if (given.has(name)) {
            throw new UsageError(`--${name}: given twice; give it once`);
        }
        if (flag.type === "boolean") {
            if (eq >= 0) {
                throw new UsageError(`--${name}: takes no value; write --${name} alone`);
            }
            given.set(name, true);
            continue;
        }
        let value: string;
        if (eq >= 0) {
            value = word.slice(eq + 1);
        } else if (i + 1 < argv.length && !argv[i + 1].startsWith("--")) {
            value = argv[++i];
        } else {
            throw new UsageError(
                `--${name}: needs a value: --${name} ${flag.placeholder ?? `<${name}>`} (quote an empty value: --${name} "")`,
            );
        }
        if (flag.choices !== undefined && !flag.choices.includes(value)) {
            throw new UsageError(`--${name}: must be ${orList(flag.choices)}, got ${JSON.stringify(value)}`);
        }
        given.set(name, value);
    }
    const values: Record<string, string | boolean | undefined> = {};
    for (const [name, flag] of Object.entries(spec)) {
        const value = given.get(name);
        if (value === undefined && flag.required) {
            throw new UsageError(`--${name}: is required: ${flag.description}`);
        }
        values[name] = flag.type === "boolean" ? value === true : value;
    }
    return { help: false, values: values as FlagValues<S> };
}

/** "a", "a or b", "a, b or c". */
function orList(items: readonly string[]): string {
    return items.length <= 1 ? (items[0] ?? "") : `${items.slice(0, -1).join(", ")} or ${items[items.length - 1]}`;
}

/** The usage line and one line per flag, for `--help`. */
export function helpText(command: string, summary: string, spec: Record<string, FlagSpec>): string {
    const show = (name: string, f: FlagSpec) =>
        f.type === "boolean" ? `--${name}` : `--${name} ${f.placeholder ?? `<${name}>`}`;
    const usage = Object.entries(spec)
        .map(([name, f]) => (f.required ? show(name, f) : `[${show(name, f)}]`))
        .join(" ");
    const rows = Object.entries(spec).map(([name, f]) => [show(name, f), f.description]);
    const width = Math.max(...rows.map(([left]) => left.length));
    return [
        `usage: ${command} ${usage}`,
        "",
        summary,
        "",
        ...rows.map(([left, right]) => `  ${left.padEnd(width)}  ${right}`),
        "",
    ].join("\n");
}
