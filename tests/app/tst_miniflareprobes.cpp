// Parity with Miniflare: every probe of tests/fixtures/miniflare/probes.json, recorded from
// Miniflare by record.sh, is sent to worker.mjs served by Roomscope's real gateway in the local
// profile, and the result must match Miniflare's. The probes build on each other, because the
// list probes read the keys that earlier probes wrote. So the rows run in file order against one
// gateway, and a single row run alone may fail.

#include "gatewayfixture.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRegularExpression>
#include <QSet>
#include <QTest>

using namespace roomscope;
using namespace roomscope::testing;

namespace {

/// The maximum time for one probe, in milliseconds. The 25 MiB value probes are the slowest.
constexpr int kProbeWaitMs = 60'000;

QString fixturePath(const QString &fileName)
{
    return qEnvironmentVariable("ROOMSCOPE_SOURCE_DIR") + QStringLiteral("/tests/fixtures/miniflare/")
        + fileName;
}

/// A JSON value as compact text, with the members of objects sorted by name.
QString jsonText(const QJsonValue &value)
{
    const QByteArray array = QJsonDocument(QJsonArray { value }).toJson(QJsonDocument::Compact);
    return QString::fromUtf8(array.mid(1, array.size() - 2));
}

/// `text` with every 10-digit number, a Unix time in seconds, replaced by <epoch>.
QString maskEpochs(QString text)
{
    static const QRegularExpression epoch(QStringLiteral("(?<![0-9])[0-9]{10}(?![0-9])"));
    return text.replace(epoch, QStringLiteral("<epoch>"));
}

bool isIdHex(const QString &text)
{
    static const QRegularExpression hex(QStringLiteral("^[0-9a-f]{64}$"));
    return hex.match(text).hasMatch();
}

} // namespace

class MiniflareProbesTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();

    void probeMatchesMiniflare_data();
    void probeMatchesMiniflare();

private:
    /// Sends `body` to POST /__probe and returns the parsed response, or sets `problem`.
    QJsonObject sendProbe(const QJsonObject &body, QString *problem);
    /// Checks a result in the idHex modes and records the ID under its name.
    void checkId(const QString &op, const QJsonArray &args, const QString &hex);

    GatewayFixture m_gateway;
    QJsonArray m_probes;
    /// The IDs that Roomscope returned, by the name they were made from.
    QMap<QString, QString> m_idsByName;
    QSet<QString> m_seenIds;
};

void MiniflareProbesTest::initTestCase()
{
    QFile file(fixturePath(QStringLiteral("probes.json")));
    QVERIFY2(file.open(QIODevice::ReadOnly), qPrintable(file.fileName() + QStringLiteral(": ") + file.errorString()));
    m_probes = QJsonDocument::fromJson(file.readAll()).object().value(QStringLiteral("probes")).toArray();
    QVERIFY(!m_probes.isEmpty());

    m_gateway.controller.setProfileOverride(QStringLiteral("local"));
    WorkerOptions bindings;
    bindings.kvBinding = QStringLiteral("KV");
    bindings.objectsBinding = QStringLiteral("ROOMS=Room");
    m_gateway.controller.setWorkerOptions(bindings);
    const QString started = m_gateway.startScenario(fixturePath(QStringLiteral("worker.mjs")));
    QVERIFY2(started.isEmpty(), qPrintable(started));
}

QJsonObject MiniflareProbesTest::sendProbe(const QJsonObject &body, QString *problem)
{
    HttpClient client;
    if (!client.connectTo(m_gateway.port())) {
        *problem = QStringLiteral("cannot connect to the gateway");
        return {};
    }
    client.send(httpRequestBytes("POST", "/__probe",
                                 { m_gateway.hostHeader(), "Content-Type: application/json" },
                                 QJsonDocument(body).toJson(QJsonDocument::Compact)));
    const std::optional<HttpReply> reply = client.waitForReply(kProbeWaitMs);
    if (!reply) {
        *problem = QStringLiteral("no response within %1 ms").arg(kProbeWaitMs);
        return {};
    }
    QJsonParseError parseError;
    const QJsonDocument received = QJsonDocument::fromJson(reply->body, &parseError);
    if (!received.isObject()) {
        *problem = QStringLiteral("the response is not a JSON object (status %1): %2")
                           .arg(reply->status)
                           .arg(QString::fromUtf8(reply->body.left(300)));
        return {};
    }
    return received.object();
}

void MiniflareProbesTest::checkId(const QString &op, const QJsonArray &args, const QString &hex)
{
    QVERIFY2(isIdHex(hex), qPrintable(QStringLiteral("not 64 lowercase hex digits: ") + hex));
    if (op == QLatin1String("newUniqueId")) {
        QVERIFY2(!m_seenIds.contains(hex), qPrintable(QStringLiteral("a unique ID repeats: ") + hex));
        m_seenIds.insert(hex);
        return;
    }
    // idFromName, getByName and ctx.id inside the object: one name, one ID.
    const QString name = args.at(0).toString();
    if (m_idsByName.contains(name)) {
        QCOMPARE(hex, m_idsByName.value(name));
        return;
    }
    QVERIFY2(!m_seenIds.contains(hex), qPrintable(QStringLiteral("two names share the ID ") + hex));
    m_idsByName.insert(name, hex);
    m_seenIds.insert(hex);
}

void MiniflareProbesTest::probeMatchesMiniflare_data()
{
    QTest::addColumn<QJsonObject>("probe");
    for (const QJsonValue &probe : std::as_const(m_probes)) {
        const QJsonObject object = probe.toObject();
        QTest::newRow(qPrintable(object.value(QStringLiteral("label")).toString())) << object;
    }
}

void MiniflareProbesTest::probeMatchesMiniflare()
{
    QFETCH(QJsonObject, probe);
    const QString compare = probe.value(QStringLiteral("compare")).toString();

    if (probe.contains(QStringLiteral("http"))) {
        const QByteArray target = probe.value(QStringLiteral("http")).toString().toUtf8();
        const std::optional<HttpReply> reply = m_gateway.fetch(m_gateway.get(target));
        QVERIFY2(reply, "no response from the gateway");
        QCOMPARE(reply->status, probe.value(QStringLiteral("status")).toInt());
        QString body = QString::fromUtf8(reply->body);
        if (compare == QLatin1String("firstLine"))
            body = body.section(QLatin1Char('\n'), 0, 0);
        QCOMPARE(body, probe.value(QStringLiteral("body")).toString());
        return;
    }

    const QString op = probe.value(QStringLiteral("op")).toString();
    QJsonArray args = probe.value(QStringLiteral("args")).toArray();
    QString expectedIdOfName;
    if (compare == QLatin1String("upperIdOfName")) {
        const QString name = probe.value(QStringLiteral("idName")).toString();
        QVERIFY2(m_idsByName.contains(name), "the row that makes the ID of this name did not run");
        expectedIdOfName = m_idsByName.value(name);
        args = QJsonArray { expectedIdOfName.toUpper() };
    }

    QString problem;
    const QJsonObject received = sendProbe(QJsonObject { { QStringLiteral("op"), op },
                                                       { QStringLiteral("args"), args } },
                                         &problem);
    QVERIFY2(problem.isEmpty(), qPrintable(problem));

    const bool expectedOk = probe.value(QStringLiteral("ok")).toBool();
    QCOMPARE(received.value(QStringLiteral("ok")).toBool(), expectedOk);

    if (!expectedOk) {
        const QJsonObject expected = probe.value(QStringLiteral("error")).toObject();
        const QJsonObject actual = received.value(QStringLiteral("error")).toObject();
        QString message = actual.value(QStringLiteral("message")).toString();
        QString expectedMessage = expected.value(QStringLiteral("message")).toString();
        if (compare == QLatin1String("epoch")) {
            message = maskEpochs(message);
            expectedMessage = maskEpochs(expectedMessage);
        }
        QCOMPARE(actual.value(QStringLiteral("name")).toString(),
                 expected.value(QStringLiteral("name")).toString());
        QCOMPARE(message, expectedMessage);
        // The other recorded properties, such as the constructor's name and the remote flag of a
        // Durable Object's errors.
        for (auto it = expected.begin(); it != expected.end(); ++it) {
            if (it.key() == QLatin1String("name") || it.key() == QLatin1String("message"))
                continue;
            const QString property = it.key() + QLatin1Char('=');
            QCOMPARE(property + jsonText(actual.value(it.key())), property + jsonText(it.value()));
        }
        return;
    }

    const QJsonValue result = received.value(QStringLiteral("result"));
    const QJsonValue expected = probe.value(QStringLiteral("result"));
    if (compare == QLatin1String("idHex")) {
        checkId(op, args, result.toString());
    } else if (compare == QLatin1String("idHexFields")) {
        QJsonObject fields = result.toObject();
        checkId(op, args, fields.take(QStringLiteral("id")).toString());
        QJsonObject expectedFields = expected.toObject();
        expectedFields.remove(QStringLiteral("id"));
        QCOMPARE(jsonText(fields), jsonText(expectedFields));
    } else if (compare == QLatin1String("upperIdOfName")) {
        QCOMPARE(result.toString(), expectedIdOfName);
    } else if (compare == QLatin1String("epoch")) {
        QCOMPARE(maskEpochs(jsonText(result)), maskEpochs(jsonText(expected)));
    } else {
        QCOMPARE(compare, QStringLiteral("exact"));
        QCOMPARE(jsonText(result), jsonText(expected));
    }
}

QTEST_GUILESS_MAIN(MiniflareProbesTest)
#include "tst_miniflareprobes.moc"
