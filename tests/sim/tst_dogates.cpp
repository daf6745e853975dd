// Input gates, output gates, blockConcurrencyWhile and errors of the Durable Object runtime.

#include "dofixture.h"

#include <QJsonDocument>
#include <QTest>

using namespace roomscope;
using namespace roomscope::testing;

namespace {

int intValue(const std::optional<QByteArray> &value)
{
    return value ? value->toInt() : 0;
}

/// Counters written three ways: through storage (`/storage`), in memory around an outbound
/// fetch (`/memory`), and through storage around a fetch, optionally inside
/// blockConcurrencyWhile (`/fetch-between`, `/fetch-between?block`).
class CounterObject : public DurableObjectBehaviour
{
public:
    explicit CounterObject(DurableObjectState &ctx) : m_ctx(ctx) { }

    Task<Result<HttpResponse>> fetch(HttpRequest request) override
    {
        const QString path = request.url.path();
        if (path == QLatin1String("/storage")) {
            const auto value = co_await m_ctx.storage().get(QStringLiteral("n"));
            const int next = intValue(value.value()) + 1;
            co_await m_ctx.storage().put(QStringLiteral("n"), QByteArray::number(next));
            co_return HttpResponse::text(200, QByteArray::number(next));
        }
        if (path == QLatin1String("/memory")) {
            const int seen = m_memory;
            co_await m_ctx.fetch(FixtureUpstream::request(), milliseconds(5));
            m_memory = seen + 1;
            co_return HttpResponse::text(200, QByteArray::number(m_memory));
        }
        if (path == QLatin1String("/fetch-between")) {
            if (request.hasQueryItem(u"block")) {
                int next = 0;
                const auto blocked = co_await m_ctx.blockConcurrencyWhile([this, &next]() -> Task<Status> {
                    next = co_await incrementAroundFetch();
                    co_return Done {};
                });
                if (!blocked)
                    co_return blocked.error();
                co_return HttpResponse::text(200, QByteArray::number(next));
            }
            co_return HttpResponse::text(200, QByteArray::number(co_await incrementAroundFetch()));
        }
        if (path == QLatin1String("/put-no-await")) {
            // put() is not awaited: the response still waits for the write (output gate).
            m_ctx.storage().put(QStringLiteral("x"), QByteArray("1"),
                                { false, request.hasQueryItem(u"unconfirmed") });
            co_return HttpResponse::text(200, "sent");
        }
        if (path == QLatin1String("/coalesce")) {
            m_ctx.storage().put(QStringLiteral("a"), QByteArray("1"));
            m_ctx.storage().put(QStringLiteral("b"), QByteArray("2"));
            m_ctx.storage().remove(QStringLiteral("c"));
            co_return HttpResponse::text(200, "ok");
        }
        co_return HttpResponse::text(404, "no route");
    }

    Task<Result<QJsonValue>> call(QString method, QJsonArray) override
    {
        if (method == QLatin1String("rpcThrow"))
            co_return Error::rangeError(QStringLiteral("rpc boom"));
        if (method == QLatin1String("instance"))
            co_return QJsonValue(qint64(m_ctx.instance()));
        co_return co_await DurableObjectBehaviour::call(method, {});
    }

    struct FixtureUpstream
    {
        static HttpRequest request()
        {
            HttpRequest upstream;
            upstream.url = QUrl(QStringLiteral("https://upstream.invalid/"));
            return upstream;
        }
    };

private:
    Task<int> incrementAroundFetch()
    {
        const auto value = co_await m_ctx.storage().get(QStringLiteral("n"));
        co_await m_ctx.fetch(FixtureUpstream::request(), milliseconds(5));
        const int next = intValue(value.value()) + 1;
        co_await m_ctx.storage().put(QStringLiteral("n"), QByteArray::number(next));
        co_return next;
    }

    DurableObjectState &m_ctx;
    int m_memory = 0;
};

BehaviourFactory counterFactory()
{
    return [](DurableObjectState &ctx) { return std::make_unique<CounterObject>(ctx); };
}

/// Sends `count` requests at the same instant and returns their bodies in arrival order.
QList<QByteArray> fireConcurrently(DurableObjectFixture &fixture, const QString &path, int count)
{
    const DurableObjectStub stub = fixture.stub(QStringLiteral("room-1"));
    std::vector<std::shared_ptr<std::optional<Result<HttpResponse>>>> results;
    for (int i = 0; i < count; ++i)
        results.push_back(startTask(fixture.simulation, stub.fetch(DurableObjectFixture::request(path))));
    QList<QByteArray> bodies;
    for (const auto &result : results) {
        const Result<HttpResponse> response = finishTask(fixture.simulation, result);
        bodies << (response ? response->body : response.error().toString().toUtf8());
    }
    return bodies;
}

std::optional<QByteArray> storedValue(DurableObjectFixture &fixture, const QString &key)
{
    return fixture.object(QStringLiteral("room-1")).storage().get(key).value();
}

} // namespace

class DoGatesTest : public QObject
{
    Q_OBJECT

private slots:
    void inputGateKeepsStorageIncrementsAtomic();
    void fetchOpensInputGate();
    void fetchBetweenStorageLosesUpdate();
    void blockConcurrencyWhilePreventsLostUpdate();
    void outputGateHoldsResponseUntilConfirmed();
    void allowUnconfirmedSendsAtOnce();
    void failedWriteResetsAndDropsResponse();
    void coalescedWritesAreAllOrNothing();
    void rpcExceptionIsRemoteWithoutReset();
};

void DoGatesTest::inputGateKeepsStorageIncrementsAtomic()
{
    DurableObjectFixture fixture(counterFactory());
    const QList<QByteArray> bodies = fireConcurrently(fixture, QStringLiteral("/storage"), 50);

    QList<QByteArray> expected;
    for (int i = 1; i <= 50; ++i)
        expected << QByteArray::number(i);
    QCOMPARE(bodies, expected);
    QCOMPARE(storedValue(fixture, QStringLiteral("n")), QByteArray("50"));
}

void DoGatesTest::fetchOpensInputGate()
{
    DurableObjectFixture fixture(counterFactory());
    const QList<QByteArray> bodies = fireConcurrently(fixture, QStringLiteral("/memory"), 20);

    QCOMPARE(bodies.size(), 20);
    for (const QByteArray &body : bodies)
        QCOMPARE(body, QByteArray("1"));
}

void DoGatesTest::fetchBetweenStorageLosesUpdate()
{
    DurableObjectFixture fixture(counterFactory());
    const QList<QByteArray> bodies = fireConcurrently(fixture, QStringLiteral("/fetch-between"), 2);

    QCOMPARE(bodies, (QList<QByteArray> { "1", "1" }));
    QCOMPARE(storedValue(fixture, QStringLiteral("n")), QByteArray("1"));
}

void DoGatesTest::blockConcurrencyWhilePreventsLostUpdate()
{
    DurableObjectFixture fixture(counterFactory());
    const QList<QByteArray> bodies =
            fireConcurrently(fixture, QStringLiteral("/fetch-between?block"), 2);

    QCOMPARE(bodies, (QList<QByteArray> { "1", "2" }));
    QCOMPARE(storedValue(fixture, QStringLiteral("n")), QByteArray("2"));
}

void DoGatesTest::outputGateHoldsResponseUntilConfirmed()
{
    DurableObjectSettings settings;
    settings.storageCommitLatency = milliseconds(30);
    DurableObjectFixture fixture(counterFactory(), StorageBackend::Sqlite, settings);
    const SimTime start = fixture.simulation.now();
    const Result<HttpResponse> response = runTask(
            fixture.simulation,
            fixture.stub(QStringLiteral("room-1")).fetch(DurableObjectFixture::request(QStringLiteral("/put-no-await"))));

    QVERIFY(response.ok());
    QCOMPARE(response->body, QByteArray("sent"));
    // The request and response cross 2 ms each; the other 30 ms wait for the commit.
    QCOMPARE(fixture.simulation.now() - start, 2 * DurableObjectFixture::kLocalLatency + milliseconds(30));
    QCOMPARE(storedValue(fixture, QStringLiteral("x")), QByteArray("1"));
}

void DoGatesTest::allowUnconfirmedSendsAtOnce()
{
    DurableObjectSettings settings;
    settings.storageCommitLatency = milliseconds(30);
    DurableObjectFixture fixture(counterFactory(), StorageBackend::Sqlite, settings);
    const SimTime start = fixture.simulation.now();
    const Result<HttpResponse> response =
            runTask(fixture.simulation,
                    fixture.stub(QStringLiteral("room-1"))
                            .fetch(DurableObjectFixture::request(QStringLiteral("/put-no-await?unconfirmed"))));

    QVERIFY(response.ok());
    QCOMPARE(fixture.simulation.now() - start, 2 * DurableObjectFixture::kLocalLatency);
}

void DoGatesTest::failedWriteResetsAndDropsResponse()
{
    DurableObjectFixture fixture(counterFactory());
    DurableObject &object = fixture.object(QStringLiteral("room-1"));
    object.injectStorageFailure();
    const DurableObjectStub stub = fixture.stub(QStringLiteral("room-1"));
    const Result<HttpResponse> response =
            runTask(fixture.simulation, stub.fetch(DurableObjectFixture::request(QStringLiteral("/put-no-await"))));

    QVERIFY(!response.ok());
    QCOMPARE(response.error().kind, Error::Kind::Error);
    QVERIFY(response.error().message.startsWith(
            QStringLiteral("Internal error in Durable Object storage write caused object to be reset; reference = ")));
    QVERIFY(response.error().durableObjectReset);
    QCOMPARE(object.state(), ObjectState::Inactive);
    QCOMPARE(storedValue(fixture, QStringLiteral("x")), std::nullopt);
    // The stub is broken; a new stub reaches a new instance.
    const Result<HttpResponse> again =
            runTask(fixture.simulation, stub.fetch(DurableObjectFixture::request(QStringLiteral("/storage"))));
    QCOMPARE(again.error().message, response.error().message);
    const Result<HttpResponse> fresh = runTask(
            fixture.simulation,
            fixture.stub(QStringLiteral("room-1")).fetch(DurableObjectFixture::request(QStringLiteral("/storage"))));
    QCOMPARE(fresh->body, QByteArray("1"));
    QCOMPARE(object.constructorRuns(), quint64(2));
}

void DoGatesTest::coalescedWritesAreAllOrNothing()
{
    DurableObjectFixture fixture(counterFactory());
    DurableObject &object = fixture.object(QStringLiteral("room-1"));
    QVERIFY(object.storage().put(QStringLiteral("c"), QByteArray("3")).ok());
    QVERIFY(object.storage().commitBatch().ok());

    object.injectStorageFailure();
    const Result<HttpResponse> failed = runTask(
            fixture.simulation,
            fixture.stub(QStringLiteral("room-1")).fetch(DurableObjectFixture::request(QStringLiteral("/coalesce"))));
    QVERIFY(!failed.ok());
    QCOMPARE(storedValue(fixture, QStringLiteral("a")), std::nullopt);
    QCOMPARE(storedValue(fixture, QStringLiteral("b")), std::nullopt);
    QCOMPARE(storedValue(fixture, QStringLiteral("c")), QByteArray("3"));

    const Result<HttpResponse> done = runTask(
            fixture.simulation,
            fixture.stub(QStringLiteral("room-1")).fetch(DurableObjectFixture::request(QStringLiteral("/coalesce"))));
    QVERIFY(done.ok());
    QCOMPARE(storedValue(fixture, QStringLiteral("a")), QByteArray("1"));
    QCOMPARE(storedValue(fixture, QStringLiteral("b")), QByteArray("2"));
    QCOMPARE(storedValue(fixture, QStringLiteral("c")), std::nullopt);
    QCOMPARE(object.lastBatch(), object.confirmedBatch());
}

void DoGatesTest::rpcExceptionIsRemoteWithoutReset()
{
    DurableObjectFixture fixture(counterFactory());
    const DurableObjectStub stub = fixture.stub(QStringLiteral("room-1"));
    const Result<QJsonValue> thrown = runTask(fixture.simulation, stub.call(QStringLiteral("rpcThrow")));

    QVERIFY(!thrown.ok());
    QCOMPARE(thrown.error().toString(), QStringLiteral("RangeError: rpc boom"));
    QVERIFY(thrown.error().remote);
    QVERIFY(!thrown.error().durableObjectReset);
    const Result<QJsonValue> instance = runTask(fixture.simulation, stub.call(QStringLiteral("instance")));
    QCOMPARE(instance->toInteger(), 1);
    QCOMPARE(fixture.object(QStringLiteral("room-1")).constructorRuns(), quint64(1));
}

QTEST_GUILESS_MAIN(DoGatesTest)
#include "tst_dogates.moc"
