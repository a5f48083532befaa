/**
 * Node's escaped certificate names read back as the raw text the peer wrote,
 * so the renderers show them in the one notation of the terminal table
 * (review2 #11). The inputs are what Node 20's X509Certificate prints.
 */
import { describe, expect, it } from 'vitest';
import { splitAltNames, unescapeDistinguishedName } from '../../src/protocols/cert-text.js';

describe('unescapeDistinguishedName', () => {
  it.each([
    ['CN=localhost', 'CN=localhost'],
    ['CN=evil\\1B[31mRED\\1B]0\\;pwn\\07\u202e\\<script\\>', 'CN=evil\x1b[31mRED\x1b]0;pwn\x07\u202e<script>'],
    ['O=Org\\, Inc.', 'O=Org, Inc.'],
    ['CN=\\C3\\A9t\u00e9', 'CN=\u00e9t\u00e9'],
    ['CN=a\\\\b\\"c\\+d', 'CN=a\\b"c+d'],
    ['CN=\\FF', 'CN=\ufffd'],
  ])('%j → %j', (node, raw) => {
    expect(unescapeDistinguishedName(node)).toBe(raw);
  });
});

describe('splitAltNames', () => {
  it('reads quoted names (\\u00XX bytes as UTF-8, \\" and \\\\) and keeps plain ones', () => {
    expect(splitAltNames('DNS:"evil\\u001b[2Jhost", DNS:ok.example, IP Address:127.0.0.1, DNS:"a\\u002c b:c\\u00c3\\u00a9"')).toEqual([
      'DNS:evil\x1b[2Jhost',
      'DNS:ok.example',
      'IP Address:127.0.0.1',
      'DNS:a, b:c\u00e9',
    ]);
    expect(splitAltNames('DNS:"q\\"\\\\z", URI:"x\\u202ey"')).toEqual(['DNS:q"\\z', 'URI:x\u202ey']);
    expect(splitAltNames(undefined)).toEqual([]);
    expect(splitAltNames('')).toEqual([]);
  });

  it('text it cannot read is kept as Node wrote it', () => {
    expect(splitAltNames('DNS:"unterminated, DNS:b')).toEqual(['DNS:"unterminated', 'DNS:b']);
    expect(splitAltNames('nocolon')).toEqual(['nocolon']);
  });
});
