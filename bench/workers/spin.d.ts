/** `iterations` steps of pure integer arithmetic; returns a checksum so the loop cannot be optimised away. */
export declare function spin(iterations: number): number;
