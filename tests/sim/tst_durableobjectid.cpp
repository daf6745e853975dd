#include "durableobjectid.h"
#include "durableobjectnamespace.h"
#include "location.h"
#include "simulation.h"

#include <QRegularExpression>
#include <QTest>

#include <memory>
#include <optional>

using namespace roomscope;

namespace {

constexpr SimTime kStart = 1'767'225'600'000'000; // 2026-01-01T00:00:00Z

const QString kRoomKey = QStringLiteral("worker-RoomDO");

bool isLowerHexId(const QString &text)
{
    static const QRegularExpression pattern(QStringLiteral("^[0-9a-f]{64}$"));
    return pattern.match(text).hasMatch();
}

// A Durable Object class for the namespace tests: it returns its own ID and the path.
class EchoObject : public DurableObjectBehaviour
{
public:
    explicit EchoObject(DurableObjectState &ctx)
        : m_ctx(ctx)
    {
    }

    Task<Result<HttpResponse>> fetch(HttpRequest request) override
    {
        co_return HttpResponse::text(
            200, m_ctx.id().toString().toLatin1() + ' ' + request.url.path().toUtf8());
    }

private:
    DurableObjectState &m_ctx;
};

// Two locations 70 ms apart with 2 ms inside each and no jitter, and an echo namespace.
struct NamespaceFixture
{
    LocationMap locations;
    LocationId lhr = locations.add(QStringLiteral("LHR"));
    LocationId sjc = locations.add(QStringLiteral("SJC"));
    int constructed = 0;
    std::unique_ptr<DurableObjectNamespace> rooms;
    QList<TraceEvent> created;
    // Declared last so that it is destroyed first, with the coroutine frames that refer to
    // the members above.
    Simulation simulation { 1, kStart };

    NamespaceFixture()
    {
        locations.setLatency(lhr, lhr, milliseconds(2));
        locations.setLatency(sjc, sjc, milliseconds(2));
        locations.setLatency(lhr, sjc, milliseconds(70));
        locations.setJitterPercent(0);
        DurableObjectClass roomClass;
        roomClass.name = QStringLiteral("RoomDO");
        roomClass.factory = [this](DurableObjectState &ctx) {
            ++constructed;
            return std::make_unique<EchoObject>(ctx);
        };
        rooms = std::make_unique<DurableObjectNamespace>(simulation, locations,
            QStringLiteral("ROOMS"), std::move(roomClass), kRoomKey);
        simulation.trace().addSink([this](const TraceEvent &event) {
            if (event.kind == TraceKind::ObjectCreated)
                created << event;
        });
    }

    // Sends a request from `from` and stores the response and its arrival time when it comes.
    void send(LocationId from, const DurableObjectId &id, const QString &path,
        std::optional<HttpResponse> *response, SimTime *arrivedAt = nullptr)
    {
        HttpRequest request;
        request.url = QUrl(QStringLiteral("http://roomscope.invalid") + path);
        simulation.spawn(sendRequest(this, from, id, std::move(request), response, arrivedAt));
    }

    static Task<void> sendRequest(NamespaceFixture *fixture, LocationId from, DurableObjectId id,
        HttpRequest request, std::optional<HttpResponse> *response, SimTime *arrivedAt)
    {
        *response = co_await fixture->rooms->fetch(from, std::move(id), std::move(request));
        if (arrivedAt)
            *arrivedAt = fixture->simulation.now();
    }
};

} // namespace

class TestDurableObjectId : public QObject
{
    Q_OBJECT

private slots:
    void idFromNameVectors_data();
    void idFromNameVectors();
    void idFromStringInvalid_data();
    void idFromStringInvalid();
    void idFromStringOtherNamespace();
    void idFromStringProperMac();
    void idFromStringUpperCase();
    void idNames();
    void idEquality();
    void uniqueIdsDiffer();
    void unicodeSpellingsDiffer();

    void namespaceConstructsLazily();
    void namespaceOneInstancePerId();
    void namespaceNameFromFirstAccess();
    void namespacePlacesAtFirstCaller();
    void namespaceLocationHint();
    void namespaceUniqueIds();
};

void TestDurableObjectId::idFromNameVectors_data()
{
    QTest::addColumn<QString>("uniqueKey");
    QTest::addColumn<QString>("name");
    QTest::addColumn<QString>("expected");

    // IDs that workerd's local derivation produced for these names.
    QTest::newRow("room-1") << kRoomKey << QStringLiteral("room-1")
                            << "b46ac3e5988656dbb1f078b8feeecc5ca6de93ac9a8f56b8a6e0b1f4508ced6b";
    QTest::newRow("room-2") << kRoomKey << QStringLiteral("room-2")
                            << "b4b146d7f54205d73e4fc1cd81f0278fae953eae8f92bce51ed2b535014ba5eb";
    QTest::newRow("empty name")
        << kRoomKey << QString()
        << "52b0bcca7b0ff9a42436bafac1dfb58e42f71f885ed8dfe5a656a91274f909c8";
    QTest::newRow("room-1 in another namespace")
        << QStringLiteral("worker-NoAlarmDO") << QStringLiteral("room-1")
        << "1668bdc8efe5a0584c59bcf66dc5acf82ebb98ab71cbb2b5baa948ebf9b03809";
}

void TestDurableObjectId::idFromNameVectors()
{
    QFETCH(QString, uniqueKey);
    QFETCH(QString, name);
    QFETCH(QString, expected);

    const DurableObjectIdFactory factory(uniqueKey);
    const DurableObjectId id = factory.idFromName(name);

    QCOMPARE(id.toString(), expected);
    QCOMPARE(id.bytes().size(), 32);
    QVERIFY(!id.isNull());
    // Deriving again gives the same ID: no per-process hash seed is involved.
    QCOMPARE(DurableObjectIdFactory(uniqueKey).idFromName(name).toString(), expected);
}

void TestDurableObjectId::idFromStringInvalid_data()
{
    QTest::addColumn<QString>("text");

    QTest::newRow("two letters") << QStringLiteral("zz");
    QTest::newRow("empty") << QString();
    QTest::newRow("63 digits") << QString(63, QLatin1Char('a'));
    QTest::newRow("65 digits") << QString(65, QLatin1Char('a'));
    QTest::newRow("a non-hex letter")
        << QStringLiteral("g46ac3e5988656dbb1f078b8feeecc5ca6de93ac9a8f56b8a6e0b1f4508ced6b");
    QTest::newRow("a space inside")
        << QStringLiteral("b46ac3e5988656dbb1f078b8feeecc5ca6de93ac9a8f56b8a6e0b1f4508ced6 ");
    QTest::newRow("a 0x prefix") << QStringLiteral(
        "0x6ac3e5988656dbb1f078b8feeecc5ca6de93ac9a8f56b8a6e0b1f4508ced6b");
    QTest::newRow("a full-width digit")
        << QStringLiteral("\uff146ac3e5988656dbb1f078b8feeecc5ca6de93ac9a8f56b8a6e0b1f4508ced6b");
}

void TestDurableObjectId::idFromStringInvalid()
{
    QFETCH(QString, text);

    const Result<DurableObjectId> parsed = DurableObjectIdFactory(kRoomKey).idFromString(text);

    QVERIFY(!parsed.ok());
    QCOMPARE(parsed.error().kind, Error::Kind::TypeError);
    QCOMPARE(
        parsed.error().message, QStringLiteral("Invalid Durable Object ID: must be 64 hex digits"));
    QCOMPARE(parsed.error().toString(),
        QStringLiteral("TypeError: Invalid Durable Object ID: must be 64 hex digits"));
}

void TestDurableObjectId::idFromStringOtherNamespace()
{
    const DurableObjectIdFactory rooms(kRoomKey);
    const DurableObjectIdFactory noAlarm(QStringLiteral("worker-NoAlarmDO"));
    const QString foreign = noAlarm.idFromName(QStringLiteral("room-1")).toString();

    const Result<DurableObjectId> parsed = rooms.idFromString(foreign);

    QVERIFY(!parsed.ok());
    QCOMPARE(parsed.error().kind, Error::Kind::TypeError);
    QCOMPARE(parsed.error().message,
        QStringLiteral("Durable Object ID is not valid for this namespace."));
    QVERIFY(noAlarm.idFromString(foreign).ok());
}

void TestDurableObjectId::idFromStringProperMac()
{
    // workerd's own test derives the mac of the base deadbeef... under a uniqueKey of the same
    // 64 characters; the second half is that mac.
    const DurableObjectIdFactory factory(QStringLiteral("deadbeef").repeated(8));
    const QString text
        = QStringLiteral("deadbeefdeadbeefdeadbeefdeadbeefc335032d41fad7e866a20ac74f98d442");

    const Result<DurableObjectId> parsed = factory.idFromString(text);

    QVERIFY(parsed.ok());
    QCOMPARE(parsed->toString(), text);
    QVERIFY(!parsed->name().has_value());

    // One changed digit in the mac makes the ID foreign.
    QString tampered = text;
    tampered[63] = QLatin1Char('3');
    QVERIFY(!factory.idFromString(tampered).ok());
    QCOMPARE(factory.idFromString(tampered).error().message,
        QStringLiteral("Durable Object ID is not valid for this namespace."));
}

void TestDurableObjectId::idFromStringUpperCase()
{
    const DurableObjectIdFactory factory(kRoomKey);
    const QString lower
        = QStringLiteral("b46ac3e5988656dbb1f078b8feeecc5ca6de93ac9a8f56b8a6e0b1f4508ced6b");

    const Result<DurableObjectId> upper = factory.idFromString(lower.toUpper());
    QVERIFY(upper.ok());
    QCOMPARE(upper->toString(), lower);

    QString mixed = lower;
    for (qsizetype i = 0; i < mixed.size(); i += 2)
        mixed[i] = mixed[i].toUpper();
    const Result<DurableObjectId> mixedParsed = factory.idFromString(mixed);
    QVERIFY(mixedParsed.ok());
    QCOMPARE(mixedParsed->toString(), lower);
    QVERIFY(mixedParsed->equals(factory.idFromName(QStringLiteral("room-1"))));
}

void TestDurableObjectId::idNames()
{
    const DurableObjectIdFactory factory(kRoomKey);
    const DurableObjectId named = factory.idFromName(QStringLiteral("room-1"));
    QCOMPARE(named.name(), std::optional<QString>(QStringLiteral("room-1")));

    const Result<DurableObjectId> parsed = factory.idFromString(named.toString());
    QVERIFY(parsed.ok());
    QVERIFY(!parsed->name().has_value());

    Random random(3);
    QVERIFY(!factory.newUniqueId(random).name().has_value());

    // The empty name is a name, not the absence of one.
    QCOMPARE(factory.idFromName(QString()).name(), std::optional<QString>(QString()));
}

void TestDurableObjectId::idEquality()
{
    const DurableObjectIdFactory factory(kRoomKey);
    const DurableObjectId a = factory.idFromName(QStringLiteral("a"));

    QVERIFY(a.equals(factory.idFromName(QStringLiteral("a"))));
    QVERIFY(!a.equals(factory.idFromName(QStringLiteral("b"))));
    // Equality compares the ID only: a parsed copy has no name but is the same ID.
    const Result<DurableObjectId> parsed = factory.idFromString(a.toString());
    QVERIFY(parsed.ok());
    QVERIFY(a.equals(*parsed));
    QVERIFY(parsed->equals(a));
    // The same name in another namespace is another ID.
    QVERIFY(!a.equals(DurableObjectIdFactory(QStringLiteral("worker-Other")).idFromName("a")));
}

void TestDurableObjectId::uniqueIdsDiffer()
{
    const DurableObjectIdFactory factory(kRoomKey);
    Random random(11);
    const DurableObjectId first = factory.newUniqueId(random);
    const DurableObjectId second = factory.newUniqueId(random);

    QVERIFY(!first.equals(second));
    QVERIFY(isLowerHexId(first.toString()));
    QVERIFY(isLowerHexId(second.toString()));

    for (const DurableObjectId &id : { first, second }) {
        const Result<DurableObjectId> parsed = factory.idFromString(id.toString());
        QVERIFY(parsed.ok());
        QVERIFY(parsed->equals(id));
        QCOMPARE(parsed->toString(), id.toString());
    }
    // A unique ID is bound to its namespace like a named one.
    QVERIFY(!DurableObjectIdFactory(QStringLiteral("worker-Other"))
                 .idFromString(first.toString())
                 .ok());
}

void TestDurableObjectId::unicodeSpellingsDiffer()
{
    // "é" as one code point and as "e" plus a combining acute accent are different names:
    // names are not normalized.
    const DurableObjectIdFactory factory(kRoomKey);
    const DurableObjectId composed = factory.idFromName(QStringLiteral("\u00e9"));
    const DurableObjectId decomposed = factory.idFromName(QStringLiteral("e\u0301"));

    QVERIFY(!composed.equals(decomposed));
    QCOMPARE(composed.toString(),
        QStringLiteral("aa3f1f423022aeec57c66f389b8ad644f5859e17f0baf2d26db395aa774decf6"));
    QCOMPARE(decomposed.toString(),
        QStringLiteral("25f19e33748cd64e95f4e0f13e2d8883882f3a3b9db1355a559e542b6d9ebda1"));
}

void TestDurableObjectId::namespaceConstructsLazily()
{
    NamespaceFixture fixture;
    const DurableObjectId id = fixture.rooms->idFromName(QStringLiteral("room-1"));

    QCOMPARE(id.toString(),
        QStringLiteral("b46ac3e5988656dbb1f078b8feeecc5ca6de93ac9a8f56b8a6e0b1f4508ced6b"));
    QCOMPARE(fixture.rooms->find(id), nullptr);
    QVERIFY(fixture.rooms->objects().empty());
    QCOMPARE(fixture.constructed, 0);
    QVERIFY(fixture.created.isEmpty());

    std::optional<HttpResponse> response;
    SimTime arrivedAt = 0;
    fixture.send(fixture.lhr, id, QStringLiteral("/hello"), &response, &arrivedAt);

    // The object is placed when the request is routed to it; its constructor runs when the
    // request arrives.
    DurableObject *object = fixture.rooms->find(id);
    QVERIFY(object);
    QCOMPARE(object->createdAt(), kStart);
    QCOMPARE(fixture.constructed, 0);
    QVERIFY(fixture.created.isEmpty());
    QVERIFY(!response.has_value());

    fixture.simulation.runUntil(kStart + seconds(1));
    QCOMPARE(fixture.constructed, 1);
    QCOMPARE(fixture.created.size(), 1);
    QCOMPARE(fixture.created[0].time, kStart + milliseconds(2));
    QCOMPARE(fixture.created[0].subject, id.toString());
    QCOMPARE(fixture.created[0].actor, QStringLiteral("room room-1"));
    QCOMPARE(fixture.created[0].location, QStringLiteral("LHR"));
    QVERIFY(response.has_value());
    QCOMPARE(response->status, 200);
    QCOMPARE(response->body, id.toString().toLatin1() + " /hello");
    QCOMPARE(arrivedAt, kStart + milliseconds(4)); // 2 ms there and 2 ms back
    QCOMPARE(object->requestsHandled(), quint64(1));
    QCOMPARE(object->eventsInFlight(), 0);
}

void TestDurableObjectId::namespaceOneInstancePerId()
{
    NamespaceFixture fixture;
    const DurableObjectId byName = fixture.rooms->idFromName(QStringLiteral("room-1"));
    const Result<DurableObjectId> byString = fixture.rooms->idFromString(byName.toString());
    QVERIFY(byString.ok());

    std::optional<HttpResponse> first;
    std::optional<HttpResponse> second;
    std::optional<HttpResponse> third;
    fixture.send(fixture.lhr, byName, QStringLiteral("/a"), &first);
    fixture.send(fixture.sjc, *byString, QStringLiteral("/b"), &second);
    fixture.send(fixture.lhr, fixture.rooms->idFromName(QStringLiteral("room-1")),
        QStringLiteral("/c"), &third);
    fixture.simulation.runUntil(kStart + seconds(1));

    QCOMPARE(fixture.constructed, 1);
    QCOMPARE(fixture.rooms->objects().size(), size_t(1));
    QCOMPARE(fixture.created.size(), 1);
    DurableObject *object = fixture.rooms->find(byName);
    QVERIFY(object);
    QCOMPARE(fixture.rooms->find(*byString), object);
    QCOMPARE(object->requestsHandled(), quint64(3));
    QVERIFY(first && second && third);
    QCOMPARE(second->body, byName.toString().toLatin1() + " /b");

    // Another name is another object.
    std::optional<HttpResponse> other;
    fixture.send(fixture.lhr, fixture.rooms->idFromName(QStringLiteral("room-2")),
        QStringLiteral("/d"), &other);
    fixture.simulation.runUntil(kStart + seconds(2));
    QCOMPARE(fixture.constructed, 2);
    QCOMPARE(fixture.rooms->objects().size(), size_t(2));
}

void TestDurableObjectId::namespaceNameFromFirstAccess()
{
    NamespaceFixture fixture;
    const DurableObjectId byName = fixture.rooms->idFromName(QStringLiteral("room-1"));
    const Result<DurableObjectId> byString = fixture.rooms->idFromString(byName.toString());
    QVERIFY(byString.ok());

    // First reached by its string form, the object does not learn its name.
    std::optional<HttpResponse> response;
    fixture.send(fixture.lhr, *byString, QStringLiteral("/"), &response);
    fixture.send(fixture.lhr, byName, QStringLiteral("/"), &response);
    fixture.simulation.runUntil(kStart + seconds(1));

    DurableObject *object = fixture.rooms->find(byName);
    QVERIFY(object);
    QVERIFY(object->name().isEmpty());
    QCOMPARE(object->actorName(), QStringLiteral("object b46ac3e59886"));
    QCOMPARE(fixture.created[0].actor, QStringLiteral("object b46ac3e59886"));
}

void TestDurableObjectId::namespacePlacesAtFirstCaller()
{
    NamespaceFixture fixture;
    const DurableObjectId id = fixture.rooms->idFromName(QStringLiteral("room-1"));

    std::optional<HttpResponse> fromSjc;
    std::optional<HttpResponse> fromLhr;
    SimTime sjcArrival = 0;
    SimTime lhrArrival = 0;
    fixture.send(fixture.sjc, id, QStringLiteral("/"), &fromSjc, &sjcArrival);
    fixture.send(fixture.lhr, id, QStringLiteral("/"), &fromLhr, &lhrArrival);
    fixture.simulation.runUntil(kStart + seconds(1));

    DurableObject *object = fixture.rooms->find(id);
    QVERIFY(object);
    QCOMPARE(object->location(), fixture.sjc);
    QCOMPARE(fixture.created[0].location, QStringLiteral("SJC"));
    // The first caller is local to the object. The second crosses 70 ms each way.
    QCOMPARE(sjcArrival, kStart + milliseconds(4));
    QCOMPARE(lhrArrival, kStart + milliseconds(140));
}

void TestDurableObjectId::namespaceLocationHint()
{
    NamespaceFixture fixture;
    const DurableObjectId hinted = fixture.rooms->idFromName(QStringLiteral("hinted"));
    fixture.rooms->setLocationHint(hinted, fixture.lhr);
    QCOMPARE(fixture.rooms->find(hinted), nullptr); // a hint constructs nothing

    std::optional<HttpResponse> response;
    SimTime arrivedAt = 0;
    fixture.send(fixture.sjc, hinted, QStringLiteral("/"), &response, &arrivedAt);
    fixture.simulation.runUntil(kStart + seconds(1));

    DurableObject *object = fixture.rooms->find(hinted);
    QVERIFY(object);
    QCOMPARE(object->location(), fixture.lhr);
    QCOMPARE(arrivedAt, kStart + milliseconds(140));

    // A hint given after construction does not move the object.
    fixture.rooms->setLocationHint(hinted, fixture.sjc);
    fixture.send(fixture.sjc, hinted, QStringLiteral("/"), &response);
    fixture.simulation.runUntil(kStart + seconds(2));
    QCOMPARE(fixture.rooms->find(hinted)->location(), fixture.lhr);
    QCOMPARE(fixture.constructed, 1);
}

void TestDurableObjectId::namespaceUniqueIds()
{
    NamespaceFixture fixture;
    const DurableObjectId first = fixture.rooms->newUniqueId().value();
    const DurableObjectId second = fixture.rooms->newUniqueId().value();

    QVERIFY(!first.equals(second));
    QVERIFY(isLowerHexId(first.toString()));
    QVERIFY(!first.name().has_value());
    QVERIFY(fixture.rooms->idFromString(first.toString()).ok());
    QCOMPARE(fixture.rooms->find(first), nullptr);

    std::optional<HttpResponse> response;
    fixture.send(fixture.lhr, first, QStringLiteral("/"), &response);
    DurableObject *object = fixture.rooms->find(first);
    QVERIFY(object);
    QVERIFY(object->name().isEmpty());
    QCOMPARE(object->actorName(), QStringLiteral("object ") + first.toString().left(12));
}

QTEST_GUILESS_MAIN(TestDurableObjectId)
#include "tst_durableobjectid.moc"
