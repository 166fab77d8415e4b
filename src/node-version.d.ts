// Types for node-version.js (plain JavaScript so the CLI launcher can run it without tsx).
export declare const MINIMUM_NODE_VERSION: string;
export declare function unsupportedNodeMessage(version: string): string | undefined;
