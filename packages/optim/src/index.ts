/**
 * @packageDocumentation
 * Not filled yet: see the open issues.
 */
export {}
