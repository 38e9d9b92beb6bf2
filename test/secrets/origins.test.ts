import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { assertSecretMayGo, OriginNotAllowed, originOf, parseAllowedOrigins, WECOM_API_ORIGIN } from '../../src/secrets/origins.ts';

const test = suite('where a Secret may be sent');

/** The refusal for sending Secret casdoor/acme-wecom to `url`, or undefined when allowed. */
function refusal(url: string, annotation?: string, builtIn: readonly string[] = [WECOM_API_ORIGIN]): OriginNotAllowed | undefined {
  try {
    assertSecretMayGo({ namespace: 'casdoor', secret: 'acme-wecom', annotation, url, builtIn });
    return undefined;
  } catch (error) {
    if (error instanceof OriginNotAllowed) return error;
    throw error;
  }
}

test('origins are compared after normalising: case, default port, trailing slash, path', () => {
  assert.is(originOf('https://Door.Example.com:443/'), 'https://door.example.com');
  assert.is(originOf('HTTPS://door.example.com/api/login?x=1'), 'https://door.example.com');
  assert.is(originOf('http://127.0.0.1:80'), 'http://127.0.0.1');
  assert.is(originOf('http://127.0.0.1:8099/'), 'http://127.0.0.1:8099');
  assert.is(originOf('http://[::1]:8099'), 'http://[::1]:8099');
  assert.is(originOf('ftp://door.example.com'), undefined);
  assert.is(originOf('not a url'), undefined);
  assert.is(refusal('https://door.example.com/api', 'https://Door.Example.com:443/'), undefined);
  assert.is(refusal('https://DOOR.example.com:443', ' https://door.example.com , http://127.0.0.1:8099'), undefined);
});

test("WeCom's API needs no annotation for WeCom secrets, and only it", () => {
  assert.is(refusal('https://qyapi.weixin.qq.com'), undefined);
  assert.is(refusal('https://qyapi.weixin.qq.com/cgi-bin/'), undefined);
  assert.ok(refusal('https://qyapi.weixin.qq.com', undefined, []), 'a Casdoor credential gets no built-in origin');
});

test('look-alikes of an allowed origin do not match', () => {
  const lookAlikes = [
    'https://qyapi.weixin.qq.com.evil.example',
    'https://evil.example/qyapi.weixin.qq.com',
    'https://qyapi.weixin.qq.com@evil.example',
    'https://qyapi.weixin.qq.com:password@evil.example',
    'https://evil.example?https://qyapi.weixin.qq.com',
    'https://evil.example#https://qyapi.weixin.qq.com',
    'https://qyapi.weixin.qq.com:8443',
    'http://qyapi.weixin.qq.com',
    'https://qyapi.weixin.qq.com.',
    'https://xqyapi.weixin.qq.com',
  ];
  for (const url of lookAlikes) {
    assert.ok(refusal(url), `${url} was allowed`);
    assert.ok(refusal(url, 'https://qyapi.weixin.qq.com, https://door.example.com'), `${url} was allowed by the annotation`);
  }
  assert.ok(refusal('https://qyapi.weixin.qq.com.', 'https://qyapi.weixin.qq.com'), 'a trailing dot is another origin');
  assert.ok(refusal('http://localhost:8099', 'http://127.0.0.1:8099'), 'localhost is not 127.0.0.1');
  assert.ok(refusal('http://127.0.0.1:8100', 'http://127.0.0.1:8099'), 'another port');
  assert.ok(refusal('https://127.0.0.1:8099', 'http://127.0.0.1:8099'), 'https vs http');
});

test('addresses and encodings are compared as the connection would see them', () => {
  assert.is(refusal('http://[::1]:8099/x', 'http://[::1]:8099'), undefined, 'an IPv6 entry');
  assert.ok(refusal('http://[::1]:8099', 'http://127.0.0.1:8099'));
  assert.is(originOf('http://0x7f.1:8099'), 'http://127.0.0.1:8099', 'IPv4 in another notation is the address it names');
  assert.is(refusal('http://0x7f.1:8099', 'http://127.0.0.1:8099'), undefined);
  assert.is(originOf('https://%65vil.example'), 'https://evil.example', 'a percent-encoded host is decoded first');
  assert.ok(refusal('https://%65vil.example', 'https://door.example.com'));
  assert.is(originOf('https://例え.jp'), 'https://xn--r8jz45g.jp', 'an IDN becomes punycode');
});

test('a host that is not a plain name or address is refused, so the printed command stays one shell word', () => {
  for (const url of ["https://x'&&halt&&'.evil.example", 'https://a,b.example', 'https://a*b.example', 'https://a$b.example', 'https://a!b.example', 'https://a"b.example']) {
    assert.is(originOf(url), undefined, url);
    const error = refusal(url, 'https://door.example.com');
    assert.ok(error, url);
    assert.not.match(error.message, 'kubectl annotate', 'no command is offered for such a host');
    assert.ok(refusal(url, url), `${url} allowed by listing itself`);
  }
  assert.ok('malformed' in parseAllowedOrigins("https://x'&&halt&&'.evil.example"));
});

test('the refusal names the Secret and the origin, gives the command, and keeps what is listed', () => {
  const error = refusal('https://proxy.corp.example/wecom', 'http://127.0.0.1:8099');
  assert.ok(error);
  assert.is(error.reason, 'URLNotAllowed');
  assert.match(error.message, 'Secret casdoor/acme-wecom may not be sent to https://proxy.corp.example');
  assert.match(error.message, "kubectl annotate secret acme-wecom -n casdoor casdoor.org/allowed-urls='http://127.0.0.1:8099,https://proxy.corp.example' --overwrite");
  assert.match(refusal('https://proxy.corp.example')!.message, "casdoor.org/allowed-urls='https://proxy.corp.example' --overwrite");
});

test('a malformed annotation is reported as such, and allows nothing', () => {
  for (const annotation of ['door.example.com', 'https://door.example.com/api', 'https://user@door.example.com', 'https://door.example.com?x', 'ftp://door.example.com', 'https://door.example.com, *']) {
    const parsed = parseAllowedOrigins(annotation);
    assert.ok('malformed' in parsed, annotation);
    const error = refusal('https://door.example.com', annotation);
    assert.ok(error, `${annotation} allowed a send`);
    assert.match(error.message, 'annotation casdoor.org/allowed-urls of Secret casdoor/acme-wecom is malformed');
  }
  assert.equal(parseAllowedOrigins(undefined), { origins: new Set() });
  assert.equal(parseAllowedOrigins(' , '), { origins: new Set() });
});

test.run();
