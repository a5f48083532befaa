/**
 * The endpoint kinds of socklab: importing this module registers each with
 * the core (src/session/endpoint.ts). A new kind is one module in this folder
 * and one line here.
 */
import './tcp-server.js';
import './tcp-socket.js';
import './udp.js';
import './relay.js';
