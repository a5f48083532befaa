/**
 * The pure renderers of the kernel's view: state notes (RFC 9293 names),
 * timers, `.show` lines and `.ls --tcp` cells.
 */
import { describe, expect, it } from 'vitest';
import { LS_TCP_HEADER, TCP_STATE_NOTES, describeState, explainTcpState, formatLeft, kernelLsCells, kernelShowLines } from '../../src/render/kernel.js';
import type { SsSocket } from '../../src/protocols/ss.js';
import { commandRig } from '../helpers/commands.js';

const EST: SsSocket = { state: 'ESTABLISHED', recvQ: 5000, sendQ: 12, local: { host: '127.0.0.1', port: 1 }, peer: { host: '127.0.0.1', port: 2 }, rttMs: 0.0371, rttVarMs: 0.02, cwnd: 10, retrans: { now: 1, total: 3 } };

describe('state notes', () => {
  it('every state a lesson reaches has one, naming RFC 9293\'s spelling', () => {
    const rfc: Record<string, string> = { FIN_WAIT1: 'FIN-WAIT-1', FIN_WAIT2: 'FIN-WAIT-2', CLOSE_WAIT: 'CLOSE-WAIT', LAST_ACK: 'LAST-ACK', TIME_WAIT: 'TIME-WAIT', CLOSING: 'CLOSING', SYN_SENT: 'SYN-SENT', ESTABLISHED: 'ESTABLISHED' };
    for (const [state, name] of Object.entries(rfc)) expect(TCP_STATE_NOTES[state as keyof typeof TCP_STATE_NOTES]).toContain(`(RFC 9293: ${name})`);
  });

  it('a state by socklab\'s, RFC 9293\'s or ss\'s name, any case; nothing for other words', () => {
    expect(explainTcpState('TIME_WAIT')).toBe(TCP_STATE_NOTES.TIME_WAIT);
    expect(explainTcpState('time-wait')).toBe(TCP_STATE_NOTES.TIME_WAIT);
    expect(explainTcpState('FIN-WAIT-1')).toBe(TCP_STATE_NOTES.FIN_WAIT1);
    expect(explainTcpState('fin_wait2')).toBe(TCP_STATE_NOTES.FIN_WAIT2);
    expect(explainTcpState('ESTAB')).toBe(TCP_STATE_NOTES.ESTABLISHED);
    expect(explainTcpState('SYN-RECV')).toBe(TCP_STATE_NOTES.SYN_RECEIVED);
    for (const word of ['on', 'off', 'loud', 'constructor', '__proto__', 'TIME']) expect(explainTcpState(word), word).toBeUndefined();
  });

  it('.explain STATE prints the note; .explain on and off still work', async () => {
    const rig = commandRig();
    await rig.ok('.explain close-wait');
    expect(rig.printed).toEqual([TCP_STATE_NOTES.CLOSE_WAIT]);
    expect(rig.settings.explain).toBe(false);
    await rig.ok('.explain on');
    expect(rig.settings.explain).toBe(true);
    const error = await rig.fail('.explain TIME_WAITING');
    expect(error.message).toBe('.explain takes on or off (or a TCP state such as TIME_WAIT), not "TIME_WAITING"');
  });
});

describe('timers, .show lines and .ls cells', () => {
  it('time left and the timer named in words', () => {
    expect(formatLeft(40)).toBe('40ms');
    expect(formatLeft(59_000)).toBe('59s');
    expect(formatLeft(64_000)).toBe('1m04s');
    expect(describeState({ ...EST, state: 'TIME_WAIT', timer: { name: 'timewait', ms: 52_000, retries: 0 } })).toBe('TIME_WAIT, 52s left');
    expect(describeState({ ...EST, state: 'SYN_SENT', timer: { name: 'on', ms: 504, retries: 1 } })).toBe('SYN_SENT, retransmit timer 504ms (1 sent)');
    expect(describeState({ ...EST, timer: { name: 'persist', ms: 40, retries: 0 } })).toBe('ESTABLISHED, zero-window probe timer 40ms');
    expect(describeState({ ...EST, timer: { name: 'off', ms: 0, retries: 0 } })).toBe('ESTABLISHED');
  });

  it('.show: state, queues, rtt, cwnd, retransmits; the note with explain', () => {
    expect(kernelShowLines(EST, false)).toEqual([
      ['kernel', 'ESTABLISHED  (ss)'],
      ['  queues', 'recv-q 4.9 KiB not read yet, send-q 12 B not acknowledged'],
      ['  rtt', '0.037 ms ± 0.02 ms'],
      ['  cwnd', '10 segments'],
      ['  retransmits', '3 (1 of them in flight now)'],
    ]);
    expect(kernelShowLines(EST, true).at(-1)).toEqual(['  why', TCP_STATE_NOTES.ESTABLISHED]);
  });

  it('.ls --tcp: six cells; empty for what is not TCP, - when the kernel has nothing', () => {
    expect(LS_TCP_HEADER).toHaveLength(6);
    expect(kernelLsCells(EST, true)).toEqual(['ESTABLISHED', '4.9 KiB', '12 B', '0.037 ms', '10', '3']);
    expect(kernelLsCells(undefined, true)).toEqual(['-', '', '', '', '', '']);
    expect(kernelLsCells(EST, false)).toEqual(['', '', '', '', '', '']);
  });
});
