// The Durable Object namespace binding: ID derivation and parsing, names inside the object,
// jurisdictions, stubs and location hints, tested through DurableObjectNamespace and through
// `ctx.id` inside a running object.

#include "dofixture.h"

#include <QRegularExpression>
#include <QTest>

using namespace roomscope;
using namespace roomscope::testing;

namespace {

const QString kNoName = QStringLiteral("(no name)");

/// Reports its own ID and name, and keeps one stored value: `/id`, `/name`, `/put?value=`,
/// `/get`.
class IdObject : public DurableObjectBehaviour
{
public:
    explicit IdObject(DurableObjectState &ctx)
        : m_ctx(ctx)
    {
    }

    Task<Result<HttpResponse>> fetch(HttpRequest request) override
    {
        const QString path = request.url.path();
        if (path == QLatin1String("/id"))
            co_return HttpResponse::text(200, m_ctx.id().toString().toUtf8());
        if (path == QLatin1String("/name")) {
            const std::optional<QString> &name = m_ctx.id().name();
            co_return HttpResponse::text(200, (name ? *name : kNoName).toUtf8());
        }
        if (path == QLatin1String("/put")) {
            const Status stored = co_await m_ctx.storage().put(
                QStringLiteral("v"), request.queryItem(u"value").toUtf8());
            if (!stored)
                co_return stored.error();
            co_return HttpResponse::text(200, "stored");
        }
        if (path == QLatin1String("/get")) {
            const Result<std::optional<QByteArray>> value
                = co_await m_ctx.storage().get(QStringLiteral("v"));
            if (!value)
                co_return value.error();
            co_return HttpResponse::text(200, value->value_or("(missing)"));
        }
        co_return HttpResponse::text(404, "no route");
    }

private:
    DurableObjectState &m_ctx;
};

BehaviourFactory idFactory()
{
    return [](DurableObjectState &ctx) { return std::make_unique<IdObject>(ctx); };
}

/// A namespace of IdObject whose uniqueKey is "worker-<className>", as Miniflare derives it.
struct IdFixture : DurableObjectFixture
{
    explicit IdFixture(const QString &className = QStringLiteral("RoomDO"))
        : DurableObjectFixture(idFactory(), StorageBackend::Sqlite, {}, className)
    {
    }
};

bool isLowerHexId(const QString &text)
{
    static const QRegularExpression pattern(QStringLiteral("^[0-9a-f]{64}$"));
    return pattern.match(text).hasMatch();
}

/// Awaits a fetch through a stub that this coroutine owns, so the stub outlives the call.
Task<Result<HttpResponse>> fetchThrough(DurableObjectStub stub, HttpRequest request)
{
    co_return co_await stub.fetch(std::move(request));
}

/// The body of a successful response, or the error as JavaScript prints it.
QByteArray bodyOrError(const Result<HttpResponse> &response)
{
    return response ? response->body : response.error().toString().toUtf8();
}

QByteArray fetchBody(
    DurableObjectFixture &fixture, const DurableObjectStub &stub, const QString &pathAndQuery)
{
    return bodyOrError(runTask(
        fixture.simulation, fetchThrough(stub, DurableObjectFixture::request(pathAndQuery))));
}

/// A stub for `name` reached the way `source` names: "idFromName", "getByName", "idFromString"
/// (the string form of the named ID) or "newUniqueId".
DurableObjectStub stubFor(DurableObjectFixture &fixture, const QString &source, const QString &name)
{
    DurableObjectNamespace &ns = *fixture.ns;
    if (source == QLatin1String("getByName"))
        return ns.getByName(name, fixture.lhr).value();
    if (source == QLatin1String("idFromString"))
        return ns.get(ns.idFromString(ns.idFromName(name).toString()).value(), fixture.lhr).value();
    if (source == QLatin1String("newUniqueId"))
        return ns.get(ns.newUniqueId().value(), fixture.lhr).value();
    return ns.get(ns.idFromName(name), fixture.lhr).value();
}

/// A name of exactly `bytes` bytes of UTF-8: two-byte "é" characters, then "x" if `bytes` is odd.
QString nameOfUtf8Bytes(int bytes)
{
    QString name(bytes / 2, QChar(0x00e9));
    if (bytes % 2)
        name += QLatin1Char('x');
    return name;
}

} // namespace

class DoNamespaceTest : public QObject
{
    Q_OBJECT

private slots:
    void idFromNameMatchesWorkerd_data();
    void idFromNameMatchesWorkerd();
    void idFromStringRejects_data();
    void idFromStringRejects();
    void idFromStringWithProperMac();
    void idNamesThroughNamespace();
    void idEqualityAndUniqueIds();
    void jurisdiction_data();
    void jurisdiction();
    void stubFetchRejectsRelativeUrl();
    void nameInsideObject_data();
    void nameInsideObject();
    void everyIdFormReachesOneObject();
    void unicodeSpellingsAreDifferentObjects();
    void getByNameEqualsGetIdFromName();
    void locationHint_data();
    void locationHint();
};

void DoNamespaceTest::idFromNameMatchesWorkerd_data()
{
    QTest::addColumn<QString>("className");
    QTest::addColumn<QString>("name");
    QTest::addColumn<QString>("expected");

    // IDs that workerd derives for Miniflare's uniqueKey "worker-<ClassName>".
    QTest::newRow("room-1")
        << QStringLiteral("RoomDO") << QStringLiteral("room-1")
        << QStringLiteral("b46ac3e5988656dbb1f078b8feeecc5ca6de93ac9a8f56b8a6e0b1f4508ced6b");
    QTest::newRow("room-2")
        << QStringLiteral("RoomDO") << QStringLiteral("room-2")
        << QStringLiteral("b4b146d7f54205d73e4fc1cd81f0278fae953eae8f92bce51ed2b535014ba5eb");
    QTest::newRow("empty name")
        << QStringLiteral("RoomDO") << QString()
        << QStringLiteral("52b0bcca7b0ff9a42436bafac1dfb58e42f71f885ed8dfe5a656a91274f909c8");
    QTest::newRow("room-1 of another class")
        << QStringLiteral("NoAlarmDO") << QStringLiteral("room-1")
        << QStringLiteral("1668bdc8efe5a0584c59bcf66dc5acf82ebb98ab71cbb2b5baa948ebf9b03809");
}

void DoNamespaceTest::idFromNameMatchesWorkerd()
{
    QFETCH(QString, className);
    QFETCH(QString, name);
    QFETCH(QString, expected);

    IdFixture fixture(className);
    QCOMPARE(fixture.ns->idFromName(name).toString(), expected);
    const DurableObjectStub stub = fixture.ns->getByName(name, fixture.lhr).value();
    QCOMPARE(stub.id().toString(), expected);

    // Inside the object, ctx.id is the same ID.
    QCOMPARE(fetchBody(fixture, stub, QStringLiteral("/id")), expected.toUtf8());
}

void DoNamespaceTest::idFromStringRejects_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<QString>("message");

    const QString notHex = QStringLiteral("Invalid Durable Object ID: must be 64 hex digits");
    QTest::newRow("two letters") << QStringLiteral("zz") << notHex;
    const QString room1
        = QStringLiteral("b46ac3e5988656dbb1f078b8feeecc5ca6de93ac9a8f56b8a6e0b1f4508ced6b");
    QTest::newRow("63 digits") << room1.chopped(1) << notHex;
    // room-1 of the class NoAlarmDO: well formed, but its mac belongs to another namespace.
    QTest::newRow("ID of another namespace")
        << QStringLiteral("1668bdc8efe5a0584c59bcf66dc5acf82ebb98ab71cbb2b5baa948ebf9b03809")
        << QStringLiteral("Durable Object ID is not valid for this namespace.");
}

void DoNamespaceTest::idFromStringRejects()
{
    QFETCH(QString, text);
    QFETCH(QString, message);

    IdFixture fixture;
    const Result<DurableObjectId> parsed = fixture.ns->idFromString(text);

    QVERIFY(!parsed.ok());
    QCOMPARE(parsed.error().kind, Error::Kind::TypeError);
    QCOMPARE(parsed.error().message, message);
    QVERIFY(fixture.ns->objects().empty());
}

void DoNamespaceTest::idFromStringWithProperMac()
{
    // workerd's own ID test uses the uniqueKey "deadbeef" x 8 and the base "deadbeef" x 4. The
    // second half of the ID is the mac of that base under that key.
    DurableObjectFixture fixture(idFactory());
    DurableObjectClass objectClass;
    objectClass.name = QStringLiteral("DeadBeef");
    objectClass.factory = idFactory();
    DurableObjectNamespace deadbeef(fixture.simulation, fixture.locations,
        QStringLiteral("DEADBEEF"), std::move(objectClass), QStringLiteral("deadbeef").repeated(8));
    const QString text
        = QStringLiteral("deadbeefdeadbeefdeadbeefdeadbeefc335032d41fad7e866a20ac74f98d442");

    const Result<DurableObjectId> parsed = deadbeef.idFromString(text);
    QVERIFY(parsed.ok());
    QCOMPARE(parsed->toString(), text);
    QVERIFY(!parsed->name().has_value());

    const DurableObjectStub stub = deadbeef.get(*parsed, fixture.lhr).value();
    QCOMPARE(fetchBody(fixture, stub, QStringLiteral("/id")), text.toUtf8());
    QCOMPARE(fetchBody(fixture, stub, QStringLiteral("/name")), kNoName.toUtf8());
    // The fixture's namespace has another key, so the same text is foreign there.
    QCOMPARE(fixture.ns->idFromString(text).error().message,
        QStringLiteral("Durable Object ID is not valid for this namespace."));
}

void DoNamespaceTest::idNamesThroughNamespace()
{
    IdFixture fixture;
    const DurableObjectId named = fixture.ns->idFromName(QStringLiteral("room-1"));
    const DurableObjectId parsed = fixture.ns->idFromString(named.toString()).value();
    const DurableObjectId unique = fixture.ns->newUniqueId().value();

    QCOMPARE(named.name(), std::optional<QString>(QStringLiteral("room-1")));
    QVERIFY(!parsed.name().has_value());
    QVERIFY(!unique.name().has_value());
    QCOMPARE(fixture.ns->getByName(QStringLiteral("room-1"), fixture.lhr)->id().name(),
        std::optional<QString>(QStringLiteral("room-1")));
}

void DoNamespaceTest::idEqualityAndUniqueIds()
{
    IdFixture fixture;
    DurableObjectNamespace &ns = *fixture.ns;
    QVERIFY(ns.idFromName(QStringLiteral("a")).equals(ns.idFromName(QStringLiteral("a"))));
    QVERIFY(!ns.idFromName(QStringLiteral("a")).equals(ns.idFromName(QStringLiteral("b"))));

    const DurableObjectId first = ns.newUniqueId().value();
    const DurableObjectId second = ns.newUniqueId().value();
    QVERIFY(!first.equals(second));
    QVERIFY(isLowerHexId(first.toString()));
    QVERIFY(isLowerHexId(second.toString()));
    QVERIFY(ns.idFromString(first.toString())->equals(first));

    // Making IDs constructs nothing, and each unique ID then reaches its own object.
    QVERIFY(ns.objects().empty());
    const DurableObjectStub firstStub = ns.get(first, fixture.lhr).value();
    const DurableObjectStub secondStub = ns.get(second, fixture.lhr).value();
    QCOMPARE(fetchBody(fixture, firstStub, QStringLiteral("/id")), first.toString().toUtf8());
    QCOMPARE(fetchBody(fixture, secondStub, QStringLiteral("/id")), second.toString().toUtf8());
    QCOMPARE(ns.objects().size(), size_t(2));
    QCOMPARE(ns.find(first)->constructorRuns(), quint64(1));
    QCOMPARE(ns.find(second)->constructorRuns(), quint64(1));
}

void DoNamespaceTest::jurisdiction_data()
{
    QTest::addColumn<bool>("local");
    QTest::addColumn<QString>("jurisdiction");
    QTest::addColumn<QString>("message"); // empty when the jurisdiction is allowed

    const QString notImplemented
        = QStringLiteral("Jurisdiction restrictions are not implemented in workerd.");
    QTest::newRow("local eu") << true << QStringLiteral("eu") << notImplemented;
    QTest::newRow("local fedramp") << true << QStringLiteral("fedramp") << notImplemented;
    QTest::newRow("production eu") << false << QStringLiteral("eu") << QString();
    QTest::newRow("production fedramp") << false << QStringLiteral("fedramp") << QString();
}

void DoNamespaceTest::jurisdiction()
{
    QFETCH(bool, local);
    QFETCH(QString, jurisdiction);
    QFETCH(QString, message);

    IdFixture fixture;
    fixture.ns->setLocal(local);
    const Status checked = fixture.ns->checkJurisdiction(jurisdiction);
    const Result<DurableObjectId> unique = fixture.ns->newUniqueId(jurisdiction);

    if (message.isEmpty()) {
        QVERIFY(checked.ok());
        QVERIFY(unique.ok());
        QVERIFY(isLowerHexId(unique->toString()));
    } else {
        QVERIFY(!checked.ok());
        QCOMPARE(checked.error().kind, Error::Kind::Error);
        QCOMPARE(checked.error().message, message);
        QVERIFY(!unique.ok());
        QCOMPARE(unique.error().kind, Error::Kind::Error);
        QCOMPARE(unique.error().message, message);
    }
    // Without a jurisdiction, newUniqueId() works in both modes.
    QVERIFY(fixture.ns->newUniqueId().ok());
}

void DoNamespaceTest::stubFetchRejectsRelativeUrl()
{
    IdFixture fixture;
    const DurableObjectStub stub = fixture.stub(QStringLiteral("room-1"));
    HttpRequest relative;
    relative.url = QUrl(QStringLiteral("/id"));

    const Result<HttpResponse> response = runTask(fixture.simulation, fetchThrough(stub, relative));

    QVERIFY(!response.ok());
    QCOMPARE(response.error().kind, Error::Kind::TypeError);
    QCOMPARE(response.error().message, QStringLiteral("Invalid URL: /id"));
    // The request never left the caller: nothing was routed or constructed.
    QCOMPARE(fixture.ns->find(stub.id()), nullptr);
    // The stub is not broken by it.
    QCOMPARE(fetchBody(fixture, stub, QStringLiteral("/id")),
        QByteArray("b46ac3e5988656dbb1f078b8feeecc5ca6de93ac9a8f56b8a6e0b1f4508ced6b"));
}

void DoNamespaceTest::nameInsideObject_data()
{
    QTest::addColumn<QString>("source");
    QTest::addColumn<QString>("name");
    QTest::addColumn<bool>("named"); // whether ctx.id.name is set inside the object

    const QString room = QStringLiteral("room-1");
    QTest::newRow("a: idFromName") << QStringLiteral("idFromName") << room << true;
    QTest::newRow("b: getByName") << QStringLiteral("getByName") << room << true;
    QTest::newRow("c: idFromString of a") << QStringLiteral("idFromString") << room << false;
    QTest::newRow("u: newUniqueId") << QStringLiteral("newUniqueId") << QString() << false;
    QTest::newRow("empty name") << QStringLiteral("getByName") << QString() << true;
    QTest::newRow("composed e-acute")
        << QStringLiteral("getByName") << QStringLiteral("\u00e9") << true;
    QTest::newRow("e and combining acute")
        << QStringLiteral("getByName") << QStringLiteral("e\u0301") << true;
    QTest::newRow("1024 bytes") << QStringLiteral("getByName") << nameOfUtf8Bytes(1024) << true;
    QTest::newRow("1025 bytes") << QStringLiteral("getByName") << nameOfUtf8Bytes(1025) << false;
    // 513 characters but 1,026 bytes: the limit counts UTF-8 bytes.
    QTest::newRow("513 two-byte characters")
        << QStringLiteral("idFromName") << nameOfUtf8Bytes(1026) << false;
    QTest::newRow("1025 ASCII bytes")
        << QStringLiteral("idFromName") << QString(1025, QLatin1Char('n')) << false;
}

void DoNamespaceTest::nameInsideObject()
{
    QFETCH(QString, source);
    QFETCH(QString, name);
    QFETCH(bool, named);

    IdFixture fixture;
    const DurableObjectStub stub = stubFor(fixture, source, name);

    // The first request constructs the instance, whose ctx.id comes from this stub's ID.
    const QByteArray inside = fetchBody(fixture, stub, QStringLiteral("/name"));
    QCOMPARE(inside, named ? name.toUtf8() : kNoName.toUtf8());
    QCOMPARE(fetchBody(fixture, stub, QStringLiteral("/id")), stub.id().toString().toUtf8());
    QCOMPARE(stub.id().name().has_value(), named);

    DurableObject *object = fixture.ns->find(stub.id());
    QVERIFY(object);
    QCOMPARE(object->name(), named ? name : QString());
    QCOMPARE(object->constructorRuns(), quint64(1));
}

void DoNamespaceTest::everyIdFormReachesOneObject()
{
    IdFixture fixture;
    DurableObjectNamespace &ns = *fixture.ns;
    const DurableObjectId a = ns.idFromName(QStringLiteral("room-1"));
    const DurableObjectId b = ns.idFromName(QStringLiteral("room-1"));
    const DurableObjectId c = ns.idFromString(a.toString()).value();
    QVERIFY(a.equals(b));
    QVERIFY(a.equals(c));

    const DurableObjectStub viaA = ns.get(a, fixture.lhr).value();
    const DurableObjectStub viaB = ns.get(b, fixture.lhr).value();
    const DurableObjectStub viaC = ns.get(c, fixture.sjc).value();
    QCOMPARE(
        fetchBody(fixture, viaA, QStringLiteral("/put?value=written-via-a")), QByteArray("stored"));
    QCOMPARE(fetchBody(fixture, viaB, QStringLiteral("/get")), QByteArray("written-via-a"));
    QCOMPARE(fetchBody(fixture, viaC, QStringLiteral("/get")), QByteArray("written-via-a"));

    QCOMPARE(ns.objects().size(), size_t(1));
    DurableObject *object = ns.find(a);
    QCOMPARE(ns.find(c), object);
    QCOMPARE(object->constructorRuns(), quint64(1));
    QCOMPARE(object->requestsHandled(), quint64(3));
    // The instance was constructed through a, so its ctx.id keeps the name.
    QCOMPARE(fetchBody(fixture, viaC, QStringLiteral("/name")), QByteArray("room-1"));
}

void DoNamespaceTest::unicodeSpellingsAreDifferentObjects()
{
    // Names are not normalized: U+00E9 and "e" + U+0301 are two names, two IDs, two objects.
    IdFixture fixture;
    const DurableObjectStub composed = fixture.stub(QStringLiteral("\u00e9"));
    const DurableObjectStub decomposed = fixture.stub(QStringLiteral("e\u0301"));
    QCOMPARE(composed.id().toString(),
        QStringLiteral("aa3f1f423022aeec57c66f389b8ad644f5859e17f0baf2d26db395aa774decf6"));
    QCOMPARE(decomposed.id().toString(),
        QStringLiteral("25f19e33748cd64e95f4e0f13e2d8883882f3a3b9db1355a559e542b6d9ebda1"));

    QCOMPARE(
        fetchBody(fixture, composed, QStringLiteral("/put?value=composed")), QByteArray("stored"));
    QCOMPARE(fetchBody(fixture, decomposed, QStringLiteral("/get")), QByteArray("(missing)"));
    QCOMPARE(fetchBody(fixture, composed, QStringLiteral("/get")), QByteArray("composed"));
    QCOMPARE(fixture.ns->objects().size(), size_t(2));
}

void DoNamespaceTest::getByNameEqualsGetIdFromName()
{
    IdFixture fixture;
    DurableObjectNamespace &ns = *fixture.ns;
    const DurableObjectStub byName = ns.getByName(QStringLiteral("room-1"), fixture.lhr).value();
    const DurableObjectStub byId
        = ns.get(ns.idFromName(QStringLiteral("room-1")), fixture.lhr).value();

    QVERIFY(byName.id().equals(byId.id()));
    QCOMPARE(byName.id().name(), byId.id().name());
    QCOMPARE(fetchBody(fixture, byName, QStringLiteral("/put?value=1")), QByteArray("stored"));
    QCOMPARE(fetchBody(fixture, byId, QStringLiteral("/get")), QByteArray("1"));
    QCOMPARE(ns.objects().size(), size_t(1));
    QCOMPARE(ns.find(byId.id())->constructorRuns(), quint64(1));
}

void DoNamespaceTest::locationHint_data()
{
    QTest::addColumn<QString>("hint");
    QTest::addColumn<bool>("mapRegion"); // whether setRegion maps the hint to SJC
    QTest::addColumn<bool>("local");
    QTest::addColumn<bool>("existing"); // whether a request without hint constructed it first
    QTest::addColumn<QString>("location");

    const QString lhr = QStringLiteral("LHR");
    const QString sjc = QStringLiteral("SJC");
    QTest::newRow("scenario location") << sjc << false << false << false << sjc;
    QTest::newRow("mapped region") << QStringLiteral("wnam") << true << false << false << sjc;
    QTest::newRow("unmapped region") << QStringLiteral("wnam") << false << false << false << lhr;
    QTest::newRow("unknown hint") << QStringLiteral("atlantis") << false << false << false << lhr;
    QTest::newRow("existing object") << sjc << false << false << true << lhr;
    QTest::newRow("existing object, region")
        << QStringLiteral("wnam") << true << false << true << lhr;
    QTest::newRow("local mode") << sjc << false << true << false << lhr;
    QTest::newRow("local mode, region") << QStringLiteral("wnam") << true << true << false << lhr;
}

void DoNamespaceTest::locationHint()
{
    QFETCH(QString, hint);
    QFETCH(bool, mapRegion);
    QFETCH(bool, local);
    QFETCH(bool, existing);
    QFETCH(QString, location);

    IdFixture fixture;
    fixture.ns->setLocal(local);
    if (mapRegion)
        fixture.ns->setRegion(hint, fixture.sjc);
    if (existing)
        QCOMPARE(fetchBody(fixture, fixture.stub(QStringLiteral("room-1")), QStringLiteral("/id"))
                     .size(),
            64);

    StubOptions options;
    options.locationHint = hint;
    const DurableObjectStub stub
        = fixture.ns->getByName(QStringLiteral("room-1"), fixture.lhr, options).value();
    const SimTime sentAt = fixture.simulation.now();
    QCOMPARE(fetchBody(fixture, stub, QStringLiteral("/name")), QByteArray("room-1"));

    const DurableObject *object = fixture.ns->find(stub.id());
    QVERIFY(object);
    QCOMPARE(fixture.locations.name(object->location()), location);
    QCOMPARE(object->constructorRuns(), quint64(1));
    // The caller is in LHR: 2 ms each way to an object there, 40 ms each way to SJC.
    const SimDuration roundTrip
        = location == QLatin1String("SJC") ? milliseconds(80) : milliseconds(4);
    QCOMPARE(fixture.simulation.now() - sentAt, roundTrip);
}

QTEST_GUILESS_MAIN(DoNamespaceTest)
#include "tst_donamespace.moc"
