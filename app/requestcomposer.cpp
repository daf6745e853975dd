#include "requestcomposer.h"

#include "simulationcontroller.h"
#include "valuetext.h"

#include <QComboBox>
#include <QFontDatabase>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QLoggingCategory>
#include <QPlainTextEdit>
#include <QPointer>
#include <QPushButton>
#include <QSpinBox>
#include <QVBoxLayout>

#include <map>

Q_LOGGING_CATEGORY(lcComposer, "roomscope.app.composer", QtWarningMsg)

namespace roomscope {

namespace {

bool routeTakesKey(const QString &route)
{
    return route == QLatin1String("put") || route == QLatin1String("get")
        || route == QLatin1String("broadcast");
}

/// The route that sends the path typed in the Path field.
const QString kPathRoute = QStringLiteral("path");

bool isPathRoute(const QString &route)
{
    return route == kPathRoute;
}

/// Paths of the lab class that the Path field offers. Any other path can be typed.
QStringList suggestedPaths()
{
    return { QStringLiteral("/count-memory"), QStringLiteral("/count-storage"),
        QStringLiteral("/count-fetch-between"), QStringLiteral("/count-fetch-between?block"),
        QStringLiteral("/alarm?in=2s&fail=3"), QStringLiteral("/state") };
}

} // namespace

RequestComposer::RequestComposer(SimulationController *controller, QWidget *parent)
    : QWidget(parent)
    , m_controller(controller)
{
    m_room = new QComboBox(this);
    m_room->setObjectName(QStringLiteral("composerRoom"));
    m_room->setEditable(true);
    m_room->setInsertPolicy(QComboBox::NoInsert);
    m_room->setToolTip(tr("The roomId: a room of the scenario, or any name to create a new room."));
    m_route = new QComboBox(this);
    m_route->setObjectName(QStringLiteral("composerRoute"));
    m_route->addItems({ QStringLiteral("put"), QStringLiteral("get"), QStringLiteral("broadcast"),
        QStringLiteral("id"), QStringLiteral("count"), kPathRoute });
    m_route->setToolTip(tr("A route of the kv-room class, or \"path\" to send the path typed "
                           "below, such as /count-memory for the lab class."));
    m_key = new QLineEdit(this);
    m_key->setObjectName(QStringLiteral("composerKey"));
    m_key->setPlaceholderText(tr("KV key, for example announcement"));
    m_value = new QLineEdit(this);
    m_value->setObjectName(QStringLiteral("composerValue"));
    m_value->setPlaceholderText(tr("value to write"));
    m_path = new QComboBox(this);
    m_path->setObjectName(QStringLiteral("composerPath"));
    m_path->setEditable(true);
    m_path->setInsertPolicy(QComboBox::NoInsert);
    m_path->addItems(suggestedPaths());
    m_path->setToolTip(tr("The path and query of the \"path\" route, for example "
                          "/alarm?in=2s&fail=3. The composer adds the roomId."));
    m_from = new QComboBox(this);
    m_from->setObjectName(QStringLiteral("composerFrom"));
    m_from->setToolTip(tr("The location the request enters the Worker from."));
    m_concurrent = new QSpinBox(this);
    m_concurrent->setObjectName(QStringLiteral("composerConcurrent"));
    m_concurrent->setRange(1, kMaxConcurrent);
    m_concurrent->setValue(1);
    m_concurrent->setToolTip(tr("How many identical requests Send fires at the same instant of "
                                "virtual time, from 1 to %1.")
                                 .arg(kMaxConcurrent));
    m_send = new QPushButton(tr("Send"), this);
    m_send->setObjectName(QStringLiteral("composerSend"));
    m_send->setDefault(true);

    m_status = new QLabel(this);
    m_status->setObjectName(QStringLiteral("composerStatus"));
    m_status->setWordWrap(true);
    m_status->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_body = new QPlainTextEdit(this);
    m_body->setObjectName(QStringLiteral("composerBody"));
    m_body->setReadOnly(true);
    m_body->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    m_body->setPlaceholderText(tr("The response body appears here."));
    m_body->setMaximumBlockCount(2000);

    auto *form = new QFormLayout;
    form->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);
    form->addRow(tr("&Room:"), m_room);
    form->addRow(tr("R&oute:"), m_route);
    form->addRow(tr("&Key:"), m_key);
    form->addRow(tr("&Value:"), m_value);
    form->addRow(tr("&Path:"), m_path);
    form->addRow(tr("&From:"), m_from);
    // Send shares the last row, so that the response body keeps the height.
    auto *sendRow = new QHBoxLayout;
    sendRow->addWidget(m_concurrent);
    sendRow->addStretch(1);
    sendRow->addWidget(m_send);
    auto *concurrentLabel = new QLabel(tr("&Concurrent:"), this);
    concurrentLabel->setBuddy(m_concurrent);
    form->addRow(concurrentLabel, sendRow);
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(6, 6, 6, 6);
    layout->addLayout(form);
    layout->addWidget(m_status);
    layout->addWidget(m_body, 1);

    connect(m_route, &QComboBox::currentTextChanged, this, &RequestComposer::updateFields);
    connect(m_send, &QPushButton::clicked, this, &RequestComposer::send);
    connect(m_key, &QLineEdit::returnPressed, this, &RequestComposer::send);
    connect(m_value, &QLineEdit::returnPressed, this, &RequestComposer::send);
    connect(m_path->lineEdit(), &QLineEdit::returnPressed, this, &RequestComposer::send);
    connect(m_controller, &SimulationController::worldChanged, this, &RequestComposer::reloadWorld);
    connect(m_controller, &SimulationController::advanced, this, &RequestComposer::updateRooms);
    reloadWorld();
    updateFields();
}

void RequestComposer::reloadWorld()
{
    ++m_worldGeneration;
    // The room starts at the new run's first room: a name typed for the previous run could
    // create a room that the new scenario does not have. The location carries over when the
    // new run has it.
    const QString from = m_from->currentText();
    m_room->clear();
    m_from->clear();
    showStatus(QString());
    m_body->clear();
    const World *world = m_controller->world();
    setEnabled(world != nullptr);
    if (!world)
        return;
    m_room->addItems(world->roomNames());
    m_from->addItems(world->locations().names());
    if (m_room->count() > 0) {
        m_room->setCurrentIndex(0);
        m_room->setEditText(m_room->itemText(0));
    }
    const int fromIndex = m_from->findText(from);
    if (fromIndex >= 0)
        m_from->setCurrentIndex(fromIndex);
    // The lab class handles paths such as /count-memory rather than the kv-room routes.
    if (world->scenario().roomBehaviour == QLatin1String("lab"))
        m_route->setCurrentText(kPathRoute);
}

void RequestComposer::updateRooms()
{
    const World *world = m_controller->world();
    if (!world)
        return;
    const QStringList names = world->roomNames();
    if (names.size() == m_room->count())
        return;
    // Rooms are only ever added, after the scenario's; keep what the user typed.
    const QString typed = m_room->currentText();
    for (qsizetype i = m_room->count(); i < names.size(); ++i)
        m_room->addItem(names.at(i));
    m_room->setCurrentText(typed);
}

void RequestComposer::updateFields()
{
    const QString route = m_route->currentText();
    m_key->setEnabled(routeTakesKey(route));
    m_value->setEnabled(route == QLatin1String("put"));
    m_path->setEnabled(isPathRoute(route));
}

HttpRequest RequestComposer::buildRequest(const QString &route, const QString &room) const
{
    HttpRequest request;
    if (isPathRoute(route)) {
        // "/alarm?in=2s&fail=3" becomes /alarm?roomId=<room>&in=2s&fail=3, as a workload's path.
        const QString path = m_path->currentText().trimmed();
        const qsizetype question = path.indexOf(QLatin1Char('?'));
        request.method = "GET";
        request.url = roomUrl(path.mid(1, question < 0 ? -1 : question - 1), room);
        if (question >= 0 && question + 1 < path.size())
            request.url.setQuery(request.url.query(QUrl::FullyEncoded) + QLatin1Char('&')
                    + path.mid(question + 1),
                QUrl::TolerantMode);
        return request;
    }
    QList<QPair<QString, QString>> query;
    if (routeTakesKey(route))
        query.append({ QStringLiteral("key"), m_key->text() });
    if (route == QLatin1String("put"))
        query.append({ QStringLiteral("value"), m_value->text() });
    request.method
        = route == QLatin1String("put") || route == QLatin1String("broadcast") ? "POST" : "GET";
    request.url = roomUrl(route, room, query);
    return request;
}

bool RequestComposer::send()
{
    World *world = m_controller->world();
    if (!world)
        return false;
    const QString room = m_room->currentText().trimmed();
    const QString route = m_route->currentText();
    if (room.isEmpty()) {
        showStatus(tr("Enter a room name: the request needs a roomId."), true);
        m_room->setFocus();
        return false;
    }
    if (routeTakesKey(route) && m_key->text().isEmpty()) {
        showStatus(tr("Enter a key: /%1 needs one.").arg(route), true);
        m_key->setFocus();
        return false;
    }
    if (isPathRoute(route) && !m_path->currentText().trimmed().startsWith(QLatin1Char('/'))) {
        showStatus(tr("Enter a path that starts with /, for example /count-memory."), true);
        m_path->setFocus();
        return false;
    }
    const LocationId from = world->locations().find(m_from->currentText());
    if (from < 0) {
        showStatus(tr("Choose the location the request comes from."), true);
        return false;
    }

    const HttpRequest request = buildRequest(route, room);
    const int count = m_concurrent->value();
    const quint64 serial = ++m_serial;
    const quint64 generation = m_worldGeneration;
    m_sentAt = world->simulation().now();
    m_received.assign(size_t(count), std::nullopt);
    const QString target
        = isPathRoute(route) ? m_path->currentText().trimmed() : QLatin1Char('/') + route;
    const QString sent = count == 1
        ? tr("Sent %1 %2").arg(QString::fromLatin1(request.method), target)
        : tr("Sent %1 × %2 %3").arg(count).arg(QString::fromLatin1(request.method), target);
    const QString waiting = count == 1
        ? tr("%1 at %2; waiting for the response. While the simulation is paused, run or step "
             "it to deliver the request.")
        : tr("%1 at %2; waiting for the responses. While the simulation is paused, run or step "
             "it to deliver the requests.");
    showStatus(waiting.arg(sent, formatRunOffset(m_sentAt, world->simulation().start())));
    m_body->clear();
    qCDebug(lcComposer) << "sending" << count << request.method << request.url.toString()
                        << "from" << from;

    // Every copy starts at the same instant of virtual time: the simulation does not move
    // between these calls.
    QPointer<RequestComposer> self(this);
    for (int index = 0; index < count; ++index) {
        m_controller->sendRequest(QString::fromLatin1(kActor), from, request,
            [self, serial, generation, index](const HttpResponse &response) {
                if (self && self->m_worldGeneration == generation)
                    self->showResponse(serial, index, response);
            });
    }
    return true;
}

void RequestComposer::showResponse(quint64 serial, int index, const HttpResponse &response)
{
    if (serial != m_serial || index < 0 || size_t(index) >= m_received.size())
        return;
    const World *world = m_controller->world();
    if (!world)
        return;
    Received received { response.status, response.body, world->simulation().now() };
    if (m_received.size() == 1) {
        showSingleResponse(received);
        return;
    }
    m_received[size_t(index)] = std::move(received);
    showResponses();
}

void RequestComposer::showSingleResponse(const Received &received)
{
    const SimTime start = m_controller->world()->simulation().start();
    const QString latency = formatDuration(received.at - m_sentAt);
    showStatus(tr("%1 · latency %2 · received at %3")
                   .arg(received.status)
                   .arg(latency, formatRunOffset(received.at, start)),
        received.status >= 400);
    m_body->setPlainText(QString::fromUtf8(received.body));
}

void RequestComposer::showResponses()
{
    const SimTime start = m_controller->world()->simulation().start();
    QStringList lines;
    std::map<int, int> statusCounts;
    int arrived = 0;
    SimDuration fastest = 0;
    SimDuration slowest = 0;
    SimTime last = m_sentAt;
    const int width = int(QString::number(m_received.size()).size());
    for (size_t i = 0; i < m_received.size(); ++i) {
        const QString number = QStringLiteral("#%1").arg(i + 1, width, 10, QLatin1Char('0'));
        if (!m_received[i]) {
            lines << tr("%1 waiting").arg(number);
            continue;
        }
        const Received &received = *m_received[i];
        const SimDuration latency = received.at - m_sentAt;
        fastest = arrived == 0 ? latency : std::min(fastest, latency);
        slowest = std::max(slowest, latency);
        last = std::max(last, received.at);
        ++arrived;
        ++statusCounts[received.status];
        // One line per response: line breaks in a body show as \n.
        lines << QStringLiteral("%1 %2 %3")
                     .arg(number)
                     .arg(received.status)
                     .arg(previewValue(received.body.trimmed(), 0));
    }
    QStringList statuses;
    bool failed = false;
    for (const auto &[status, count] : statusCounts) {
        statuses << tr("%1 ×%2").arg(status).arg(count);
        failed = failed || status >= 400;
    }
    const int total = int(m_received.size());
    const QString latency = fastest == slowest
        ? formatDuration(fastest)
        : tr("%1 to %2").arg(formatDuration(fastest), formatDuration(slowest));
    showStatus(tr("%1 of %2 responses · %3 · latency %4 · last received at %5")
                   .arg(arrived)
                   .arg(total)
                   .arg(statuses.join(QStringLiteral(", ")), latency,
                       formatRunOffset(last, start)),
        failed);
    m_body->setPlainText(lines.join(QLatin1Char('\n')));
}

void RequestComposer::showStatus(const QString &text, bool error)
{
    m_status->setText(text);
    m_status->setStyleSheet(error ? QStringLiteral("color: palette(bright-text); "
                                                   "background-color: #b3261e; padding: 3px;")
                                  : QString());
}

} // namespace roomscope
