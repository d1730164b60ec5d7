/**
 * The one error the GTID parsers throw. Pure: no I/O.
 */

import type { Flavor } from "../model";

// Which server family a GTID text comes from: MySQL (`uuid:1-5`) or MariaDB (`domain-server-seq`).
export type { Flavor } from "../model";

/** The longest element text an error message quotes; longer elements are cut with "…". */
const QUOTE_MAX = 80;

/**
 * A GTID text that cannot be parsed. The message names the offending element (quoted, cut at 80
 * characters), its number and character offset in the text, what is wrong and how to write it instead,
 * for example: `element 2 "3e11fa47-…:5-3" at offset 40 of the mysql GTID set: interval 5-3 ends before
 * it starts: write 3-5`. Callers that know which input the text was (gtid-S, a CLI flag) use
 * {@link GtidParseError.forArgument} to prefix it.
 */
export class GtidParseError extends Error {
    override readonly name = "GtidParseError";
    /** The flavor the text was parsed as. */
    readonly flavor: Flavor;
    /** The offending element: the text between two commas, trimmed (cut at 80 characters). */
    readonly element: string;
    /** 1-based number of the element among the comma-separated elements. */
    readonly index: number;
    /** 0-based character offset of the element in the whole text. */
    readonly position: number;
    /** What is wrong with the element and the remedy, without the location. */
    readonly reason: string;
    /** Which input held the text (`syncer`, `purged`, `executed`, a flag name); undefined when unknown. */
    readonly argument?: string;

    /** The message without the argument prefix: where in the text, and what is wrong. */
    readonly detail: string;

    /**
     * @param f.argument which input held the text; `f.label` (default: the argument) starts the message.
     */
    constructor(f: {
        flavor: Flavor;
        element: string;
        index: number;
        position: number;
        reason: string;
        argument?: string;
        label?: string;
    }) {
        const element = f.element.length > QUOTE_MAX ? `${f.element.slice(0, QUOTE_MAX - 1)}…` : f.element;
        const detail = `element ${f.index} ${JSON.stringify(element)} at offset ${f.position} of the ${f.flavor} GTID set: ${f.reason}`;
        const prefix = f.label ?? f.argument;
        super(prefix === undefined ? detail : `${prefix}: ${detail}`);
        this.flavor = f.flavor;
        this.element = element;
        this.index = f.index;
        this.position = f.position;
        this.reason = f.reason;
        this.argument = f.argument;
        this.detail = detail;
    }

    /**
     * The same error for a known input: `argument` is recorded, and `label` (default: the argument)
     * starts the message, e.g. `forArgument("executed", "executed (gtid-E)")`.
     */
    forArgument(argument: string, label: string = argument): GtidParseError {
        const { flavor, element, index, position, reason } = this;
        return new GtidParseError({ flavor, element, index, position, reason, argument, label });
    }
}
