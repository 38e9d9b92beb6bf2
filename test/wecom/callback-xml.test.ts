// The receiver's XML: WeCom's shapes read, everything else refused.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { CallbackXmlError, parseCallbackXml } from '../../src/wecom/callback-xml.ts';

const test = suite('callback xml');

test('an envelope and an event, with CDATA, plain text, whitespace and a declaration', () => {
  const envelope = parseCallbackXml('<?xml version="1.0"?>\n<xml> <ToUserName><![CDATA[ww1436e0e65a779aee]]></ToUserName>\n<Encrypt><![CDATA[abc+/=]]></Encrypt><AgentID></AgentID></xml>\n');
  assert.equal(Object.fromEntries(envelope), { ToUserName: 'ww1436e0e65a779aee', Encrypt: 'abc+/=', AgentID: '' });
  const event = parseCallbackXml('<xml><CreateTime>1700000000</CreateTime><ChangeType><![CDATA[delete_user]]></ChangeType><UserID>a&amp;b&#x4e2d;&#25991;</UserID></xml>');
  assert.equal(Object.fromEntries(event), { CreateTime: '1700000000', ChangeType: 'delete_user', UserID: 'a&b中文' });
});

test('nested fields are named by their path', () => {
  const fields = parseCallbackXml('<xml><BatchJob><JobId><![CDATA[j1]]></JobId><ErrCode>0</ErrCode></BatchJob></xml>');
  assert.equal(Object.fromEntries(fields), { 'BatchJob.JobId': 'j1', 'BatchJob.ErrCode': '0' });
});

test('refused: declarations, entities, attributes, mismatched or unclosed tags, repeats, mixed content, depth, trailing content', () => {
  const bad = {
    doctype: '<!DOCTYPE xml [<!ENTITY a "b">]><xml><A>&a;</A></xml>',
    'unknown entity': '<xml><A>&a;</A></xml>',
    'bare ampersand': '<xml><A>a & b</A></xml>',
    attribute: '<xml><A x="1">v</A></xml>',
    'self-closing': '<xml><A/></xml>',
    mismatched: '<xml><A>v</B></xml>',
    unclosed: '<xml><A>v</A>',
    'unclosed CDATA': '<xml><A><![CDATA[v</A></xml>',
    repeated: '<xml><A>1</A><A>2</A></xml>',
    mixed: '<xml><A>text<B>v</B></A></xml>',
    deep: '<xml><A><B><C><D>v</D></C></B></A></xml>',
    trailing: '<xml><A>v</A></xml><xml></xml>',
    'another root': '<root><A>v</A></root>',
    comment: '<xml><!-- c --><A>v</A></xml>',
    empty: '',
    'not xml': '{"Encrypt":"x"}',
    'too many elements': `<xml>${Array.from({ length: 300 }, (_, i) => `<F${i}>v</F${i}>`).join('')}</xml>`,
  };
  for (const [why, text] of Object.entries(bad)) {
    assert.throws(() => parseCallbackXml(text), (error: unknown) => error instanceof CallbackXmlError, why);
  }
});

test.run();
