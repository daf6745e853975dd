// Alarms of the Durable Object runtime, set through ctx.storage with setAlarm, getAlarm and
// deleteAlarm. The tests cover when the handler runs, its retries with exponential backoff, the
// billing counters and alarms set at or before the current time. They also cover deleteAll()
// under both compatibility dates and alarms that construct a new instance of a hibernated object.

#include "dofixture.h"

#include <QTest>

#include <algorithm>
#include <iterator>
#include <optional>
#include <vector>

using namespace roomscope;
using namespace roomscope::testing;

namespace QTest {
template<> inline char *toString(const std::optional<qint64> &value)
{
    return value ? toString(QByteArray::number(*value)) : qstrdup("null");
}
} // namespace QTest

namespace {

const QString kRoom = QStringLiteral("room-1");
/// The fixture's clock starts at 2026-01-01T00:00:00Z.
constexpr qint64 kStartMs = 1'767'225'600'000;

const QString kTimeNotPositive
    = QStringLiteral("setAlarm() cannot be called with an alarm time <= 0");
const QString kHandlerMissing = QStringLiteral(
    "Your Durable Object class must have an alarm() handler in order to call setAlarm()");

/// One run of the alarm handler, as the handler saw it.
struct AlarmRun
{
    SimTime at = 0;
    int retryCount = 0;
    bool isRetry = false;
    quint64 instance = 0;
    std::optional<QString> idName;
    /// What getAlarm() gave inside the handler, when the script reads it.
    std::optional<qint64> alarmInHandler;
};

/// What the alarm handler does, which each test sets, and the runs it recorded.
struct AlarmScript
{
    /// How many of the first runs fail; -1 makes every run fail.
    int failingRuns = 0;
    bool readAlarm = false;
    bool deleteAlarmBeforeFailing = false;
    bool deleteAll = false;
    /// Increments the stored "counter" and re-arms the alarm at Date.now() until the counter
    /// reaches this value; 0 leaves the counter alone.
    int rearmUntil = 0;
    std::vector<AlarmRun> runs;
};

qint64 epochMs(SimTime t)
{
    return t / kMicrosecondsPerMillisecond;
}

QByteArray alarmText(const std::optional<qint64> &alarm)
{
    return alarm ? QByteArray::number(*alarm) : QByteArray("null");
}

/// A class with routes that call the alarm API, and an alarm handler that follows a script.
///   /set?at=MS or /set?offset=MS  setAlarm(MS) or setAlarm(Date.now() + MS); the body is the
///                                 handler's Date.now(), or getAlarm() afterwards with `&read`
///   /get                          getAlarm()
///   /delete                       deleteAlarm()
///   /put?key=K&value=V            put(K, V)
///   /delete-all                   deleteAll()
class AlarmObject : public DurableObjectBehaviour
{
public:
    AlarmObject(DurableObjectState &ctx, AlarmScript &script, bool hasHandler)
        : m_ctx(ctx)
        , m_script(script)
        , m_hasHandler(hasHandler)
    {
    }

    bool hasAlarmHandler() const override { return m_hasHandler; }

    Task<Result<HttpResponse>> fetch(HttpRequest request) override
    {
        StorageApi &storage = m_ctx.storage();
        const QString path = request.url.path();
        if (path == QLatin1String("/set")) {
            const qint64 now = epochMs(m_ctx.simulation().now());
            const qint64 at = request.hasQueryItem(u"at")
                ? request.queryItem(u"at").toLongLong()
                : now + request.queryItem(u"offset").toLongLong();
            const Status set = co_await storage.setAlarm(at);
            if (!set)
                co_return set.error();
            if (!request.hasQueryItem(u"read"))
                co_return HttpResponse::text(200, QByteArray::number(now));
            const Result<std::optional<qint64>> alarm = co_await storage.getAlarm();
            if (!alarm)
                co_return alarm.error();
            co_return HttpResponse::text(200, alarmText(*alarm));
        }
        if (path == QLatin1String("/get")) {
            const Result<std::optional<qint64>> alarm = co_await storage.getAlarm();
            if (!alarm)
                co_return alarm.error();
            co_return HttpResponse::text(200, alarmText(*alarm));
        }
        if (path == QLatin1String("/delete")) {
            if (const Status deleted = co_await storage.deleteAlarm(); !deleted)
                co_return deleted.error();
            co_return HttpResponse::text(200, "deleted");
        }
        if (path == QLatin1String("/put")) {
            const Status put = co_await storage.put(
                request.queryItem(u"key"), request.queryItem(u"value").toUtf8());
            if (!put)
                co_return put.error();
            co_return HttpResponse::text(200, "stored");
        }
        if (path == QLatin1String("/delete-all")) {
            if (const Status deleted = co_await storage.deleteAll(); !deleted)
                co_return deleted.error();
            co_return HttpResponse::text(200, "deleted");
        }
        co_return HttpResponse::text(404, "no route");
    }

    Task<Status> alarm(AlarmInfo info) override
    {
        StorageApi &storage = m_ctx.storage();
        AlarmRun run;
        run.at = m_ctx.simulation().now();
        run.retryCount = info.retryCount;
        run.isRetry = info.isRetry;
        run.instance = m_ctx.instance();
        run.idName = m_ctx.id().name();

        if (m_script.readAlarm) {
            const Result<std::optional<qint64>> alarm = co_await storage.getAlarm();
            if (!alarm)
                co_return alarm.error();
            run.alarmInHandler = *alarm;
        }
        if (m_script.rearmUntil > 0) {
            const Result<std::optional<QByteArray>> counter
                = co_await storage.get(QStringLiteral("counter"));
            if (!counter)
                co_return counter.error();
            const int next = counter->value_or("0").toInt() + 1;
            if (const Status put
                = co_await storage.put(QStringLiteral("counter"), QByteArray::number(next));
                !put)
                co_return put.error();
            if (next < m_script.rearmUntil) {
                const Status set = co_await storage.setAlarm(epochMs(m_ctx.simulation().now()));
                if (!set)
                    co_return set.error();
            }
        }
        if (m_script.deleteAll) {
            if (const Status deleted = co_await storage.deleteAll(); !deleted)
                co_return deleted.error();
        }

        m_script.runs.push_back(run);
        const int number = int(m_script.runs.size());
        if (m_script.failingRuns < 0 || number <= m_script.failingRuns) {
            if (m_script.deleteAlarmBeforeFailing) {
                if (const Status deleted = co_await storage.deleteAlarm(); !deleted)
                    co_return deleted.error();
            }
            co_return Error::error(QStringLiteral("alarm run %1 failed").arg(number));
        }
        co_return Done {};
    }

private:
    DurableObjectState &m_ctx;
    AlarmScript &m_script;
    bool m_hasHandler;
};

BehaviourFactory alarmFactory(AlarmScript &script, bool hasHandler = true)
{
    return [&script, hasHandler](DurableObjectState &ctx) {
        return std::make_unique<AlarmObject>(ctx, script, hasHandler);
    };
}

DurableObjectSettings settingsForDate(QDate date)
{
    DurableObjectSettings settings;
    settings.compatibilityDate = date;
    settings.compatibility = CompatibilityFlags::forDate(date);
    return settings;
}

Result<HttpResponse> send(DurableObjectFixture &fixture, const QString &pathAndQuery)
{
    return runTask(
        fixture.simulation, fixture.stub(kRoom).fetch(DurableObjectFixture::request(pathAndQuery)));
}

/// Sends a request that must succeed and returns its body.
QByteArray bodyOf(DurableObjectFixture &fixture, const QString &pathAndQuery)
{
    const Result<HttpResponse> response = send(fixture, pathAndQuery);
    if (!response)
        qFatal("%s failed: %s", qPrintable(pathAndQuery), qPrintable(response.error().toString()));
    return response->body;
}

QString setAt(qint64 epochMilliseconds)
{
    return QStringLiteral("/set?at=%1").arg(epochMilliseconds);
}

/// When a request sent now reaches the object: one hop inside LHR.
SimTime arrivalTime(const DurableObjectFixture &fixture)
{
    return fixture.simulation.now() + DurableObjectFixture::kLocalLatency;
}

} // namespace

class DoAlarmsTest : public QObject
{
    Q_OBJECT

private slots:
    // Checks of setAlarm() and getAlarm().
    void setAlarmRejectsTimeNotPositive_data();
    void setAlarmRejectsTimeNotPositive();
    void setAlarmNeedsHandler();
    void getAlarmReturnsTimeSet_data();
    void getAlarmReturnsTimeSet();
    void setAlarmReplacesEarlier_data();
    void setAlarmReplacesEarlier();
    void deleteAlarmCancels();

    // Runs and retries.
    void pastAlarmFiresAtOnce_data();
    void pastAlarmFiresAtOnce();
    void pastAlarmStoredAsNow();
    void failedRunsRetryWithBackoff_data();
    void failedRunsRetryWithBackoff();
    void getAlarmNullInsideHandler();
    void getAlarmHoldsRetryTime();
    void deleteAlarmInFailingHandlerStopsRetries();
    void setAlarmBilledAsOneRow();
    void handlerRearmsAtNow();

    // deleteAll(), hibernation and the inspector's action.
    void deleteAllAndPendingAlarm_data();
    void deleteAllAndPendingAlarm();
    void deleteAllInsideHandler_data();
    void deleteAllInsideHandler();
    void alarmWakesHibernatedObject();
    void fireAlarmNow();
    void fireAlarmNowWithoutAlarm();
};

void DoAlarmsTest::setAlarmRejectsTimeNotPositive_data()
{
    QTest::addColumn<qint64>("at");

    QTest::newRow("zero") << qint64(0);
    QTest::newRow("minus one") << qint64(-1);
    QTest::newRow("minus a day") << qint64(-86'400'000);
}

void DoAlarmsTest::setAlarmRejectsTimeNotPositive()
{
    QFETCH(qint64, at);
    AlarmScript script;
    DurableObjectFixture fixture(alarmFactory(script));
    DurableObject &object = fixture.object(kRoom);

    const Result<HttpResponse> response = send(fixture, setAt(at));

    QVERIFY(!response.ok());
    QCOMPARE(response.error().kind, Error::Kind::TypeError);
    QCOMPARE(response.error().message, kTimeNotPositive);
    QVERIFY(response.error().remote);
    QCOMPARE(object.alarmTimeMs(), std::nullopt);
    QCOMPARE(object.rowsWritten(), quint64(0));
    QCOMPARE(bodyOf(fixture, QStringLiteral("/get")), QByteArray("null"));
}

void DoAlarmsTest::setAlarmNeedsHandler()
{
    AlarmScript script;
    DurableObjectFixture fixture(
        alarmFactory(script, false), StorageBackend::Sqlite, {}, QStringLiteral("NoAlarm"));
    DurableObject &object = fixture.object(kRoom);

    const Result<HttpResponse> response = send(fixture, setAt(kStartMs + 60'000));

    QVERIFY(!response.ok());
    QCOMPARE(response.error().kind, Error::Kind::TypeError);
    QCOMPARE(response.error().message, kHandlerMissing);
    QCOMPARE(object.alarmTimeMs(), std::nullopt);
    QCOMPARE(object.rowsWritten(), quint64(0));
    // The time is checked first.
    const Result<HttpResponse> zero = send(fixture, setAt(0));
    QCOMPARE(zero.error().message, kTimeNotPositive);
    // getAlarm() and deleteAlarm() need no handler.
    QCOMPARE(bodyOf(fixture, QStringLiteral("/get")), QByteArray("null"));
    QCOMPARE(bodyOf(fixture, QStringLiteral("/delete")), QByteArray("deleted"));
}

void DoAlarmsTest::getAlarmReturnsTimeSet_data()
{
    QTest::addColumn<qint64>("at");

    QTest::newRow("in an hour") << kStartMs + 3'600'000;
    QTest::newRow("in a minute") << kStartMs + 60'000;
    QTest::newRow("2100-01-01") << qint64(4'102'444'800'000);
}

void DoAlarmsTest::getAlarmReturnsTimeSet()
{
    QFETCH(qint64, at);
    AlarmScript script;
    DurableObjectFixture fixture(alarmFactory(script));

    QCOMPARE(bodyOf(fixture, QStringLiteral("/get")), QByteArray("null"));
    bodyOf(fixture, setAt(at));

    QCOMPARE(bodyOf(fixture, QStringLiteral("/get")), QByteArray::number(at));
    QCOMPARE(fixture.object(kRoom).alarmTimeMs(), std::optional<qint64>(at));
    QVERIFY(script.runs.empty());
}

void DoAlarmsTest::setAlarmReplacesEarlier_data()
{
    QTest::addColumn<qint64>("firstOffsetMs");
    QTest::addColumn<qint64>("secondOffsetMs");

    QTest::newRow("earlier replaced by later") << qint64(10'000) << qint64(60'000);
    QTest::newRow("later replaced by earlier") << qint64(60'000) << qint64(10'000);
}

void DoAlarmsTest::setAlarmReplacesEarlier()
{
    QFETCH(qint64, firstOffsetMs);
    QFETCH(qint64, secondOffsetMs);
    AlarmScript script;
    DurableObjectFixture fixture(alarmFactory(script));
    const qint64 second = kStartMs + secondOffsetMs;

    bodyOf(fixture, setAt(kStartMs + firstOffsetMs));
    bodyOf(fixture, setAt(second));
    QCOMPARE(bodyOf(fixture, QStringLiteral("/get")), QByteArray::number(second));

    fixture.simulation.runUntil(fixture.simulation.now() + seconds(120));
    QCOMPARE(script.runs.size(), size_t(1));
    QCOMPARE(script.runs[0].at, second * kMicrosecondsPerMillisecond);
    QCOMPARE(fixture.object(kRoom).alarmRuns(), quint64(1));
}

void DoAlarmsTest::deleteAlarmCancels()
{
    AlarmScript script;
    DurableObjectFixture fixture(alarmFactory(script));
    DurableObject &object = fixture.object(kRoom);

    bodyOf(fixture, setAt(kStartMs + 10'000));
    QCOMPARE(bodyOf(fixture, QStringLiteral("/delete")), QByteArray("deleted"));

    QCOMPARE(bodyOf(fixture, QStringLiteral("/get")), QByteArray("null"));
    fixture.simulation.runUntil(fixture.simulation.now() + seconds(60));
    QVERIFY(script.runs.empty());
    QCOMPARE(object.alarmRuns(), quint64(0));
    // Both calls are billed as writes.
    QCOMPARE(object.rowsWritten(), quint64(2));
}

void DoAlarmsTest::pastAlarmFiresAtOnce_data()
{
    QTest::addColumn<qint64>("offsetMs"); // from the handler's Date.now()

    QTest::newRow("Date.now()") << qint64(0);
    QTest::newRow("one second ago") << qint64(-1000);
    QTest::newRow("five seconds ago") << qint64(-5000);
}

void DoAlarmsTest::pastAlarmFiresAtOnce()
{
    QFETCH(qint64, offsetMs);
    AlarmScript script;
    DurableObjectFixture fixture(alarmFactory(script));
    const SimTime arrival = arrivalTime(fixture);

    const QByteArray handlerNow = bodyOf(fixture, QStringLiteral("/set?offset=%1").arg(offsetMs));

    QCOMPARE(handlerNow, QByteArray::number(epochMs(arrival)));
    // The alarm runs at the instant it was set, while the response waits for the write.
    QCOMPARE(script.runs.size(), size_t(1));
    QCOMPARE(script.runs[0].at, arrival);
    QCOMPARE(script.runs[0].retryCount, 0);
    QCOMPARE(script.runs[0].isRetry, false);
    fixture.simulation.runUntil(fixture.simulation.now() + seconds(60));
    QCOMPARE(fixture.object(kRoom).alarmRuns(), quint64(1));
    QCOMPARE(bodyOf(fixture, QStringLiteral("/get")), QByteArray("null"));
}

void DoAlarmsTest::pastAlarmStoredAsNow()
{
    AlarmScript script;
    DurableObjectFixture fixture(alarmFactory(script));
    const SimTime arrival = arrivalTime(fixture);

    // getAlarm() right after setAlarm(Date.now() - 5000) gives Date.now(), as workerd stores it.
    const QByteArray stored = bodyOf(fixture, QStringLiteral("/set?offset=-5000&read"));

    QCOMPARE(stored, QByteArray::number(epochMs(arrival)));
    // getAlarm() closed the input gate, so the alarm ran once the read completed.
    QCOMPARE(script.runs.size(), size_t(1));
    QCOMPARE(script.runs[0].at, arrival + fixture.ns->settings().storageReadLatency);
}

void DoAlarmsTest::failedRunsRetryWithBackoff_data()
{
    QTest::addColumn<int>("failingRuns");
    QTest::addColumn<QList<int>>("gapsSeconds"); // from one run's failure to the next run

    QTest::newRow("fails the first 3 runs") << 3 << QList<int> { 2, 4, 8 };
    QTest::newRow("always fails") << -1 << QList<int> { 2, 4, 8, 16, 32, 64 };
}

void DoAlarmsTest::failedRunsRetryWithBackoff()
{
    QFETCH(int, failingRuns);
    QFETCH(QList<int>, gapsSeconds);
    AlarmScript script;
    script.failingRuns = failingRuns;
    DurableObjectFixture fixture(alarmFactory(script));
    DurableObject &object = fixture.object(kRoom);
    const qint64 firstAt = kStartMs + 1000;

    bodyOf(fixture, setAt(firstAt));
    fixture.simulation.runUntil(fixture.simulation.now() + seconds(600));

    const size_t expectedRuns = size_t(gapsSeconds.size()) + 1;
    QCOMPARE(script.runs.size(), expectedRuns);
    QCOMPARE(script.runs[0].at, firstAt * kMicrosecondsPerMillisecond);
    for (size_t i = 0; i < expectedRuns; ++i) {
        QCOMPARE(script.runs[i].retryCount, int(i));
        QCOMPARE(script.runs[i].isRetry, i > 0);
    }
    // The handler fails as soon as it starts, so each gap is the delay after a failure.
    for (qsizetype i = 0; i < gapsSeconds.size(); ++i)
        QCOMPARE(
            script.runs[size_t(i) + 1].at - script.runs[size_t(i)].at, seconds(gapsSeconds[i]));
    QCOMPARE(object.alarmRuns(), quint64(expectedRuns));
    QCOMPARE(object.alarmRetryCount(), 0);
    QCOMPARE(object.alarmTimeMs(), std::nullopt);
    QCOMPARE(bodyOf(fixture, QStringLiteral("/get")), QByteArray("null"));
}

void DoAlarmsTest::getAlarmNullInsideHandler()
{
    AlarmScript script;
    script.readAlarm = true;
    DurableObjectFixture fixture(alarmFactory(script));
    const qint64 at = kStartMs + 1000;

    bodyOf(fixture, setAt(at));
    QCOMPARE(bodyOf(fixture, QStringLiteral("/get")), QByteArray::number(at));
    fixture.simulation.runUntil(fixture.simulation.now() + seconds(10));

    QCOMPARE(script.runs.size(), size_t(1));
    QCOMPARE(script.runs[0].alarmInHandler, std::nullopt);
    QCOMPARE(bodyOf(fixture, QStringLiteral("/get")), QByteArray("null"));
}

void DoAlarmsTest::getAlarmHoldsRetryTime()
{
    AlarmScript script;
    script.failingRuns = 1;
    DurableObjectFixture fixture(alarmFactory(script));
    DurableObject &object = fixture.object(kRoom);
    const qint64 at = kStartMs + 1000;

    bodyOf(fixture, setAt(at));
    fixture.simulation.runUntil(at * kMicrosecondsPerMillisecond);
    QCOMPARE(script.runs.size(), size_t(1));
    QCOMPARE(object.alarmRetryCount(), 1);

    // The first run failed at once, so the retry is due 2 s after it.
    QCOMPARE(bodyOf(fixture, QStringLiteral("/get")), QByteArray::number(at + 2000));
    fixture.simulation.runUntil(fixture.simulation.now() + seconds(10));
    QCOMPARE(script.runs.size(), size_t(2));
    QCOMPARE(script.runs[1].at, (at + 2000) * kMicrosecondsPerMillisecond);
    QCOMPARE(object.alarmRetryCount(), 0);
    QCOMPARE(bodyOf(fixture, QStringLiteral("/get")), QByteArray("null"));
}

void DoAlarmsTest::deleteAlarmInFailingHandlerStopsRetries()
{
    AlarmScript script;
    script.failingRuns = -1;
    script.deleteAlarmBeforeFailing = true;
    DurableObjectFixture fixture(alarmFactory(script));
    DurableObject &object = fixture.object(kRoom);

    bodyOf(fixture, setAt(kStartMs + 1000));
    fixture.simulation.runUntil(fixture.simulation.now() + seconds(600));

    QCOMPARE(script.runs.size(), size_t(1));
    QCOMPARE(object.alarmRuns(), quint64(1));
    QCOMPARE(object.alarmRetryCount(), 0);
    QCOMPARE(bodyOf(fixture, QStringLiteral("/get")), QByteArray("null"));
}

void DoAlarmsTest::setAlarmBilledAsOneRow()
{
    AlarmScript script;
    DurableObjectFixture fixture(alarmFactory(script));
    DurableObject &object = fixture.object(kRoom);

    bodyOf(fixture, setAt(kStartMs + 1000));
    QCOMPARE(object.rowsWritten(), quint64(1));
    QCOMPARE(object.alarmRuns(), quint64(0));

    fixture.simulation.runUntil(fixture.simulation.now() + seconds(10));
    QCOMPARE(object.alarmRuns(), quint64(1));
    QCOMPARE(object.rowsWritten(), quint64(1));
    // alarmRuns() counts the run, and requestsHandled() counts only the HTTP request.
    QCOMPARE(object.requestsHandled(), quint64(1));

    bodyOf(fixture, setAt(kStartMs + 60'000));
    fixture.simulation.runUntil(fixture.simulation.now() + seconds(60));
    QCOMPARE(object.rowsWritten(), quint64(2));
    QCOMPARE(object.alarmRuns(), quint64(2));
}

void DoAlarmsTest::handlerRearmsAtNow()
{
    AlarmScript script;
    script.rearmUntil = 5;
    DurableObjectFixture fixture(alarmFactory(script));
    DurableObject &object = fixture.object(kRoom);
    const qint64 firstAt = kStartMs + 1000;

    bodyOf(fixture, setAt(firstAt));
    fixture.simulation.runUntil(fixture.simulation.now() + seconds(60));

    // One run per setAlarm(): the request's and four re-arms from inside alarm().
    QCOMPARE(script.runs.size(), size_t(5));
    QCOMPARE(object.alarmRuns(), quint64(5));
    QCOMPARE(
        object.storage().get(QStringLiteral("counter")).value(), std::optional<QByteArray>("5"));
    // Each run reads the counter, so the next one starts one read latency later.
    const SimDuration readLatency = fixture.ns->settings().storageReadLatency;
    for (size_t i = 0; i < script.runs.size(); ++i) {
        QCOMPARE(script.runs[i].at,
            firstAt * kMicrosecondsPerMillisecond + SimDuration(i) * readLatency);
        QCOMPARE(script.runs[i].retryCount, 0);
    }
    QCOMPARE(object.alarmTimeMs(), std::nullopt);
}

void DoAlarmsTest::deleteAllAndPendingAlarm_data()
{
    QTest::addColumn<QDate>("compatibilityDate");
    QTest::addColumn<bool>("alarmKept");

    QTest::newRow("2026-02-23 keeps the alarm") << QDate(2026, 2, 23) << true;
    QTest::newRow("2026-02-24 deletes the alarm") << QDate(2026, 2, 24) << false;
}

void DoAlarmsTest::deleteAllAndPendingAlarm()
{
    QFETCH(QDate, compatibilityDate);
    QFETCH(bool, alarmKept);
    AlarmScript script;
    DurableObjectFixture fixture(
        alarmFactory(script), StorageBackend::Sqlite, settingsForDate(compatibilityDate));
    DurableObject &object = fixture.object(kRoom);
    const qint64 at = kStartMs + 60'000;

    bodyOf(fixture, QStringLiteral("/put?key=a&value=1"));
    bodyOf(fixture, setAt(at));
    QCOMPARE(bodyOf(fixture, QStringLiteral("/delete-all")), QByteArray("deleted"));

    QCOMPARE(object.storage().list({}).value().size(), size_t(0));
    QCOMPARE(bodyOf(fixture, QStringLiteral("/get")),
        alarmKept ? QByteArray::number(at) : QByteArray("null"));
    fixture.simulation.runUntil(fixture.simulation.now() + seconds(120));
    QCOMPARE(script.runs.size(), size_t(alarmKept ? 1 : 0));
    QCOMPARE(object.alarmRuns(), quint64(alarmKept ? 1 : 0));
}

void DoAlarmsTest::deleteAllInsideHandler_data()
{
    QTest::addColumn<QDate>("compatibilityDate");

    QTest::newRow("2026-02-23") << QDate(2026, 2, 23);
    QTest::newRow("2026-02-24") << QDate(2026, 2, 24);
}

void DoAlarmsTest::deleteAllInsideHandler()
{
    QFETCH(QDate, compatibilityDate);
    AlarmScript script;
    script.deleteAll = true;
    DurableObjectFixture fixture(
        alarmFactory(script), StorageBackend::Sqlite, settingsForDate(compatibilityDate));
    DurableObject &object = fixture.object(kRoom);

    bodyOf(fixture, QStringLiteral("/put?key=a&value=1"));
    bodyOf(fixture, setAt(kStartMs + 1000));
    fixture.simulation.runUntil(fixture.simulation.now() + seconds(600));

    QCOMPARE(script.runs.size(), size_t(1));
    QCOMPARE(object.alarmRuns(), quint64(1));
    QCOMPARE(object.alarmRetryCount(), 0);
    QCOMPARE(object.alarmTimeMs(), std::nullopt);
    QCOMPARE(object.storage().list({}).value().size(), size_t(0));
    QCOMPARE(object.lastBatch(), object.confirmedBatch());
}

void DoAlarmsTest::alarmWakesHibernatedObject()
{
    AlarmScript script;
    DurableObjectFixture fixture(alarmFactory(script));
    DurableObject &object = fixture.object(kRoom);
    const qint64 at = kStartMs + 60'000;

    bodyOf(fixture, setAt(at));
    fixture.simulation.runUntil(at * kMicrosecondsPerMillisecond - 1);
    QCOMPARE(object.state(), ObjectState::Hibernated);
    QCOMPARE(object.constructorRuns(), quint64(1));
    QVERIFY(!object.isInMemory());

    fixture.simulation.runUntil(at * kMicrosecondsPerMillisecond);
    QCOMPARE(script.runs.size(), size_t(1));
    QCOMPARE(script.runs[0].at, at * kMicrosecondsPerMillisecond);
    QCOMPARE(script.runs[0].instance, quint64(2));
    // The alarm has no caller; the new instance's ctx.id still carries the object's name.
    QCOMPARE(script.runs[0].idName, std::optional<QString>(kRoom));
    QCOMPARE(object.constructorRuns(), quint64(2));
    const auto wake = std::find_if(
        object.history().begin(), object.history().end(), [](const LifecycleChange &change) {
            return change.reason == QLatin1String("constructor again");
        });
    QVERIFY(wake != object.history().end());
    QCOMPARE(wake->at, at * kMicrosecondsPerMillisecond);
    QCOMPARE(wake->state, ObjectState::Active);
    QCOMPARE(std::prev(wake)->state, ObjectState::Hibernated);
}

void DoAlarmsTest::fireAlarmNow()
{
    AlarmScript script;
    DurableObjectFixture fixture(alarmFactory(script));
    DurableObject &object = fixture.object(kRoom);

    bodyOf(fixture, setAt(kStartMs + 3'600'000));
    fixture.simulation.runUntil(fixture.simulation.now() + seconds(5));
    const SimTime firedAt = fixture.simulation.now();

    QVERIFY(object.fireAlarmNow());
    QCOMPARE(object.alarmTimeMs(), std::optional<qint64>(epochMs(firedAt)));
    fixture.simulation.runUntil(firedAt);
    QCOMPARE(script.runs.size(), size_t(1));
    QCOMPARE(script.runs[0].at, firedAt);
    // The hour-later time was replaced, so nothing runs then.
    fixture.simulation.runUntil(firedAt + seconds(7200));
    QCOMPARE(script.runs.size(), size_t(1));
    QCOMPARE(object.alarmTimeMs(), std::nullopt);
}

void DoAlarmsTest::fireAlarmNowWithoutAlarm()
{
    AlarmScript script;
    DurableObjectFixture fixture(alarmFactory(script));
    DurableObject &object = fixture.object(kRoom);
    bodyOf(fixture, QStringLiteral("/put?key=a&value=1"));

    QVERIFY(!object.fireAlarmNow());
    fixture.simulation.runUntil(fixture.simulation.now() + seconds(60));
    QVERIFY(script.runs.empty());
    QCOMPARE(object.alarmRuns(), quint64(0));
}

QTEST_GUILESS_MAIN(DoAlarmsTest)
#include "tst_doalarms.moc"
