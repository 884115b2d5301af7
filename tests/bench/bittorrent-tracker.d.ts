/** The part of bittorrent-tracker 11's server the bench uses (the package ships no types). */
declare module 'bittorrent-tracker/server' {
  import type { EventEmitter } from 'node:events';
  import type http from 'node:http';

  export interface ServerOptions {
    http?: boolean;
    udp?: boolean;
    ws?: boolean;
    stats?: boolean;
  }

  export default class Server extends EventEmitter {
    constructor(opts?: ServerOptions);
    /** The HTTP server the WebSocket tracker listens on (created even with `http: false` when `ws` is on). */
    http: http.Server | null;
    listen(port: number, hostname: string, onListening: () => void): void;
    close(cb?: () => void): void;
  }
}
