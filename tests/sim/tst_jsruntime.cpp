#include "js/jsruntime.h"

#include <QTest>

using namespace roomscope;
using namespace roomscope::js;

namespace {

constexpr SimTime kStart = 1'767'225'600'000'000; // 2026-01-01T00:00:00Z

/// A simulation with one runtime, and console lines collected.
struct Fixture
{
    Simulation simulation { 7, kStart };
    Runtime runtime { simulation, simulation.random("js") };
    QStringList console;

    Fixture()
    {
        runtime.setConsoleSink([this](const QString &level, const QString &text) {
            console << level + QLatin1Char(' ') + text;
        });
    }

    /// Evaluates `expression`, runs pending jobs, and returns String(result), or the error.
    QString eval(const QString &expression)
    {
        const QString script = QStringLiteral(
                "globalThis.__result = undefined;\n"
                "Promise.resolve().then(() => (%1)).then((v) => { globalThis.__result = String(v); },"
                " (e) => { globalThis.__result = 'threw ' + e.name + ': ' + e.message; });\n")
                                       .arg(expression);
        const Status evaluated = runtime.realm().evaluateScript(QStringLiteral("test.js"), script.toUtf8());
        if (!evaluated)
            return QStringLiteral("error: ") + evaluated.error().message;
        runtime.runJobs();
        RealmScope scope(runtime.realm());
        JSContext *context = runtime.realm().context();
        JS::RootedObject global(context, runtime.realm().global());
        JS::RootedValue value(context);
        JS_GetProperty(context, global, "__result", &value);
        return toQString(context, value);
    }
};

} // namespace

class JsRuntimeTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void expressions_data();
    void expressions();
    void parseUrlParts();
    void randomIsSeeded();
    void timersRunInVirtualTime();
    void intervalRepeatsUntilCleared();
    void consoleReachesSink();
};

void JsRuntimeTest::expressions_data()
{
    QTest::addColumn<QString>("expression");
    QTest::addColumn<QString>("expected");

    QTest::newRow("encoder") << "Array.from(new TextEncoder().encode('h\\u00e9')).join()" << "104,195,169";
    QTest::newRow("decoder") << "new TextDecoder().decode(new Uint8Array([0xe2, 0x82, 0xac]))" << "\u20ac";
    QTest::newRow("decoder replaces invalid") << "new TextDecoder().decode(new Uint8Array([0x61, 0xff])).length" << "2";
    QTest::newRow("decoder fatal")
            << "new TextDecoder('utf-8', { fatal: true }).decode(new Uint8Array([0xff]))"
            << "threw TypeError: The encoded data was not valid.";
    QTest::newRow("decoder label")
            << "new TextDecoder('latin1')"
            << "threw RangeError: Failed to construct 'TextDecoder': The encoding label provided ('latin1') is invalid.";
    QTest::newRow("btoa") << "btoa('hello')" << "aGVsbG8=";
    QTest::newRow("atob") << "atob('aGVsbG8=')" << "hello";
    QTest::newRow("atob invalid")
            << "atob('a')" << "threw InvalidCharacterError: The string to be decoded is not correctly encoded.";
    QTest::newRow("btoa wide") << "btoa('\\u20ac')" << "threw InvalidCharacterError: Invalid character";
    QTest::newRow("url parts")
            << "(() => { const u = new URL('https://Example.com:443/a/b?x=1&y=two%20words#top'); return [u.href, u.host, u.pathname, u.search, u.hash, u.origin].join(' '); })()"
            << "https://example.com/a/b?x=1&y=two%20words#top example.com /a/b ?x=1&y=two%20words #top https://example.com";
    QTest::newRow("url search param") << "new URL('http://h/p?y=two+words&z=%E2%82%AC').searchParams.get('y')" << "two words";
    QTest::newRow("url search param utf8") << "new URL('http://h/p?z=%E2%82%AC').searchParams.get('z')" << "\u20ac";
    QTest::newRow("url missing param") << "new URL('http://h/p').searchParams.get('roomId')" << "null";
    QTest::newRow("url base") << "new URL('../c?d', 'https://h/a/b/').href" << "https://h/a/c?d";
    QTest::newRow("url root path") << "new URL('http://localhost:8787').href" << "http://localhost:8787/";
    QTest::newRow("url invalid") << "new URL('not a url')" << "threw TypeError: Invalid URL string.";
    QTest::newRow("url set search param")
            << "(() => { const u = new URL('http://h/p?a=1'); u.searchParams.set('b', 'x y'); return u.href; })()"
            << "http://h/p?a=1&b=x+y";
    QTest::newRow("search params") << "new URLSearchParams({ a: '1 2', b: '&' }).toString()" << "a=1+2&b=%26";
    QTest::newRow("search params entries") << "[...new URLSearchParams('?a=1&b=2&a=3').getAll('a')].join()" << "1,3";
    QTest::newRow("headers case") << "new Headers({ 'Content-Type': 'text/plain' }).get('content-type')" << "text/plain";
    QTest::newRow("headers append") << "(() => { const h = new Headers(); h.append('X-A', '1'); h.append('x-a', '2'); return h.get('X-A'); })()" << "1, 2";
    QTest::newRow("headers invalid") << "new Headers({ 'bad name': 'x' })" << "threw TypeError: Invalid header name.";
    QTest::newRow("response text") << "new Response('hi', { status: 201 }).text()" << "hi";
    QTest::newRow("response status") << "new Response('hi', { status: 201 }).status" << "201";
    QTest::newRow("response default type") << "new Response('hi').headers.get('content-type')" << "text/plain;charset=UTF-8";
    QTest::newRow("response json type") << "Response.json({ a: 1 }).headers.get('content-type')" << "application/json";
    QTest::newRow("response json body") << "Response.json({ a: [1, 2] }).text()" << "{\"a\":[1,2]}";
    QTest::newRow("response bad status")
            << "new Response('x', { status: 99 })"
            << "threw RangeError: Responses may only be constructed with status codes in the range 200 to 599, inclusive.";
    QTest::newRow("body used twice")
            << "(async () => { const r = new Response('x'); await r.text(); return r.text(); })()"
            << "threw TypeError: Body has already been used. It can only be used once. Use tee() first if you need to read it twice.";
    QTest::newRow("request") << "(() => { const r = new Request('http://h/put?k=1', { method: 'post', body: 'v' }); return r.method + ' ' + r.url; })()" << "POST http://h/put?k=1";
    QTest::newRow("request body") << "new Request('http://h/', { method: 'PUT', body: '{\"x\":2}' }).json().then((v) => v.x)" << "2";
    QTest::newRow("request get body")
            << "new Request('http://h/', { body: 'x' })"
            << "threw TypeError: Request with a GET or HEAD method cannot have a body.";
    QTest::newRow("structured clone")
            << "(() => { const a = { m: new Map([[1, { d: new Date(5) }]]) }; a.self = a; const c = structuredClone(a); return [c !== a, c.self === c, c.m.get(1).d.getTime()].join(); })()"
            << "true,true,5";
    QTest::newRow("structured clone function")
            << "structuredClone({ f() {} }).name"
            << "threw DataCloneError: f() {} could not be cloned.";
    QTest::newRow("uuid format") << "/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(crypto.randomUUID())" << "true";
    QTest::newRow("random values") << "crypto.getRandomValues(new Uint8Array(4)).length" << "4";
    QTest::newRow("random values quota")
            << "crypto.getRandomValues(new Uint8Array(65537))"
            << "threw QuotaExceededError: The ArrayBufferView's byte length (65537) exceeds the number of bytes of entropy available via this API (65536)";
    QTest::newRow("fetch reaches no network")
            << "typeof fetch" << "function";
}

void JsRuntimeTest::expressions()
{
    QFETCH(QString, expression);
    QFETCH(QString, expected);
    Fixture fixture;
    QCOMPARE(fixture.eval(expression), expected);
}

void JsRuntimeTest::parseUrlParts()
{
    const std::optional<UrlParts> parts = parseUrl(QStringLiteral("ws://user:pw@127.0.0.1:9000/ws?roomId=a"), {});
    QVERIFY(parts.has_value());
    QCOMPARE(parts->href, QStringLiteral("ws://user:pw@127.0.0.1:9000/ws?roomId=a"));
    QCOMPARE(parts->host, QStringLiteral("127.0.0.1:9000"));
    QCOMPARE(parts->port, QStringLiteral("9000"));
    QCOMPARE(parts->username, QStringLiteral("user"));
    QCOMPARE(parts->origin, QStringLiteral("ws://127.0.0.1:9000"));
    QVERIFY(!parseUrl(QStringLiteral("/relative"), {}).has_value());
    QVERIFY(!parseUrl(QStringLiteral("http://"), {}).has_value());
}

void JsRuntimeTest::randomIsSeeded()
{
    Fixture first;
    Fixture second;
    const QString expression = QStringLiteral("[crypto.randomUUID(), Math.random()].join(' ')");
    const QString a = first.eval(expression);
    QCOMPARE(second.eval(expression), a);
    QVERIFY(first.eval(expression) != a);
}

void JsRuntimeTest::timersRunInVirtualTime()
{
    Fixture fixture;
    QCOMPARE(fixture.eval(QStringLiteral(
                     "(globalThis.fired = [], setTimeout((x) => fired.push(x + '@' + Date.now()), 100, 'a'),"
                     " globalThis.cancelled = setTimeout(() => fired.push('b'), 50), clearTimeout(cancelled), fired.length)")),
             QStringLiteral("0"));
    fixture.simulation.runUntil(kStart + milliseconds(99));
    QCOMPARE(fixture.eval(QStringLiteral("fired.join()")), QString());
    fixture.simulation.runUntil(kStart + milliseconds(100));
    QCOMPARE(fixture.eval(QStringLiteral("fired.join()")), QStringLiteral("a@1767225600100"));
    QCOMPARE(fixture.runtime.pendingTimers(), 0);
}

void JsRuntimeTest::intervalRepeatsUntilCleared()
{
    Fixture fixture;
    fixture.eval(QStringLiteral(
            "(globalThis.ticks = 0, globalThis.handle = setInterval(() => { if (++ticks === 3) clearInterval(handle); }, 100))"));
    fixture.simulation.runUntil(kStart + seconds(2));
    QCOMPARE(fixture.eval(QStringLiteral("ticks")), QStringLiteral("3"));
    QCOMPARE(fixture.runtime.pendingTimers(), 0);
    QVERIFY(!fixture.simulation.hasPendingEvents());
}

void JsRuntimeTest::consoleReachesSink()
{
    Fixture fixture;
    fixture.eval(QStringLiteral("console.log('count', 3, { a: [1, 'x'] }), console.error(new TypeError('bad'))"));
    QCOMPARE(fixture.console.size(), 2);
    QCOMPARE(fixture.console.at(0), QStringLiteral("log count 3 { a: [ 1, \"x\" ] }"));
    QVERIFY2(fixture.console.at(1).startsWith(QStringLiteral("error TypeError: bad")),
             qPrintable(fixture.console.at(1)));
}

QTEST_GUILESS_MAIN(JsRuntimeTest)
#include "tst_jsruntime.moc"
