/**
 * The JUnit XML renderer: whatever a log or a failure holds (markup, quotes,
 * control characters, lone surrogates), the document stays well-formed for a
 * strict parser (python3's expat) and says the same thing back.
 */
import { execFileSync } from 'node:child_process';
import fc from 'fast-check';
import { XMLParser } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { renderJunit } from '../../src/render/junit.js';
import type { SuiteResult } from '../../src/script/test-suite.js';

/** Parse with expat (strict XML 1.0): the test cases' names, failure messages and logs, or the parse error. */
type Parsed = { cases: Array<{ name: string; failure: string | null; out: string }> };

/** Parse documents with expat (strict XML 1.0) in one python3: per document, its cases' names, failure messages and logs. */
function expatAll(docs: string[]): Parsed[] {
  const py = `
import sys, json, xml.dom.minidom as m
t = lambda e: ''.join(n.data for n in e.childNodes if n.nodeType in (3, 4))
out = []
for x in json.load(sys.stdin):
    d = m.parseString(x.encode('utf-8'))
    cases = []
    for c in d.getElementsByTagName('testcase'):
        f = c.getElementsByTagName('failure')
        o = c.getElementsByTagName('system-out')
        cases.append({'name': c.getAttribute('name'), 'failure': f[0].getAttribute('message') if f else None, 'out': t(o[0]) if o else ''})
    out.append({'cases': cases})
print(json.dumps(out))
`;
  return JSON.parse(execFileSync('python3', ['-c', py], { input: JSON.stringify(docs) }).toString()) as Parsed[];
}

const expat = (xml: string): Parsed => expatAll([xml])[0] as Parsed;

const suite = (failure: string, log: string, file = 'a.lab'): SuiteResult => ({
  results: [
    { file, status: 'failed', ms: 12, failure, log },
    { file: 'ok.lab', status: 'passed', ms: 3, log: 'fine\n' },
  ],
  skipped: ['later.lab'],
  ms: 20,
});

describe('renderJunit', () => {
  it('one testcase per file, the failure with FILE:LINE, the log in system-out, counts on the suite', () => {
    const xml = renderJunit(suite('a.lab:3: expect c1 "PONG" timed out', 'c1 ← "<b>&amp;</b>"\n'), new Date(0));
    const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(xml) as {
      testsuites: { testsuite: { tests: string; failures: string; skipped: string; testcase: Array<Record<string, unknown>> } };
    };
    const ts = doc.testsuites.testsuite;
    expect([ts.tests, ts.failures, ts.skipped]).toEqual(['3', '1', '1']);
    expect(ts.testcase.map((c) => c.name)).toEqual(['a.lab', 'ok.lab', 'later.lab']);
    const parsed = expat(xml);
    expect(parsed.cases[0]).toEqual({ name: 'a.lab', failure: 'a.lab:3: expect c1 "PONG" timed out', out: 'c1 ← "<b>&amp;</b>"\n' });
  });

  it('hostile text: control characters and lone surrogates are written visibly; the XML stays well-formed', () => {
    const nasty = 'x\u0000\u0001\u001b[31m\ud800]]></system-out><!--\uffff"\'&\r\n';
    const parsed = expat(renderJunit(suite(`b.lab:1: ${nasty}`, nasty, `we"ird<&>.lab`), new Date(0)));
    expect(parsed.cases[0]?.name).toBe('we"ird<&>.lab');
    expect(parsed.cases[0]?.failure).toContain('\\u{1b}[31m\\u{d800}]]></system-out><!--\\u{ffff}"\'&');
    expect(parsed.cases[0]?.out).toContain('\\u{0}\\u{1}');
  });

  it('property: any failure text and log give a document expat accepts, with the text back where XML allows it', () => {
    const strings = fc.string({ unit: 'binary', maxLength: 40 });
    const docs = fc.sample(fc.tuple(strings, strings), 60);
    // Every document through one python3 (expat), in order; a malformed one throws there.
    const parsed = expatAll(docs.map(([f, l]) => renderJunit(suite(f, l), new Date(0))));
    const allowed = (s: string): boolean => !/[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]/u.test(s);
    for (const [i, [f, l]] of docs.entries()) {
      if (allowed(f)) expect(parsed[i]?.cases[0]?.failure).toBe(f);
      if (allowed(l)) expect(parsed[i]?.cases[0]?.out).toBe(l);
    }
  });
});
