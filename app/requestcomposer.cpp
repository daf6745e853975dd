#include "requestcomposer.h"

#include "simulationcontroller.h"
#include "valuetext.h"

#include <QComboBox>
#include <QFontDatabase>
#include <QFormLayout>
#include <QLabel>
#include <QLineEdit>
#include <QLoggingCategory>
#include <QPlainTextEdit>
#include <QPointer>
#include <QPushButton>
#include <QVBoxLayout>

Q_LOGGING_CATEGORY(lcComposer, "roomscope.app.composer", QtWarningMsg)

namespace roomscope {

namespace {

bool routeTakesKey(const QString &route)
{
    return route == QLatin1String("put") || route == QLatin1String("get")
        || route == QLatin1String("broadcast");
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
        QStringLiteral("id"), QStringLiteral("count") });
    m_key = new QLineEdit(this);
    m_key->setObjectName(QStringLiteral("composerKey"));
    m_key->setPlaceholderText(tr("KV key, for example announcement"));
    m_value = new QLineEdit(this);
    m_value->setObjectName(QStringLiteral("composerValue"));
    m_value->setPlaceholderText(tr("value to write"));
    m_from = new QComboBox(this);
    m_from->setObjectName(QStringLiteral("composerFrom"));
    m_from->setToolTip(tr("The location the request enters the Worker from."));
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
    form->addRow(tr("&From:"), m_from);
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(6, 6, 6, 6);
    layout->addLayout(form);
    layout->addWidget(m_send, 0, Qt::AlignRight);
    layout->addWidget(m_status);
    layout->addWidget(m_body, 1);

    connect(m_route, &QComboBox::currentTextChanged, this, &RequestComposer::updateFields);
    connect(m_send, &QPushButton::clicked, this, &RequestComposer::send);
    connect(m_key, &QLineEdit::returnPressed, this, &RequestComposer::send);
    connect(m_value, &QLineEdit::returnPressed, this, &RequestComposer::send);
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
}

bool RequestComposer::send()
{
    World *world = m_controller->world();
    if (!world)
        return false;
    const QString room = m_room->currentText().trimmed();
    const QString route = m_route->currentText();
    const QString key = m_key->text();
    if (room.isEmpty()) {
        showStatus(tr("Enter a room name: the request needs a roomId."), true);
        m_room->setFocus();
        return false;
    }
    if (routeTakesKey(route) && key.isEmpty()) {
        showStatus(tr("Enter a key: /%1 needs one.").arg(route), true);
        m_key->setFocus();
        return false;
    }
    const LocationId from = world->locations().find(m_from->currentText());
    if (from < 0) {
        showStatus(tr("Choose the location the request comes from."), true);
        return false;
    }

    QList<QPair<QString, QString>> query;
    if (routeTakesKey(route))
        query.append({ QStringLiteral("key"), key });
    if (route == QLatin1String("put"))
        query.append({ QStringLiteral("value"), m_value->text() });
    HttpRequest request;
    request.method
        = route == QLatin1String("put") || route == QLatin1String("broadcast") ? "POST" : "GET";
    request.url = roomUrl(route, room, query);

    const quint64 serial = ++m_serial;
    const quint64 generation = m_worldGeneration;
    const SimTime sentAt = world->simulation().now();
    showStatus(tr("Sent %1 /%2 at %3; waiting for the response. While the simulation is paused, "
                  "run or step it to deliver the request.")
                   .arg(QString::fromLatin1(request.method), route,
                       formatRunOffset(sentAt, world->simulation().start())));
    m_body->clear();
    qCDebug(lcComposer) << "sending" << request.method << request.url.toString() << "from" << from;

    QPointer<RequestComposer> self(this);
    m_controller->sendRequest(QString::fromLatin1(kActor), from, std::move(request),
        [self, serial, generation, sentAt](const HttpResponse &response) {
            if (self && self->m_worldGeneration == generation)
                self->showResponse(serial, sentAt, response);
        });
    return true;
}

void RequestComposer::showResponse(quint64 serial, SimTime sentAt, const HttpResponse &response)
{
    if (serial != m_serial)
        return;
    const World *world = m_controller->world();
    if (!world)
        return;
    const SimTime now = world->simulation().now();
    showStatus(
        tr("%1 · latency %2 · received at %3")
            .arg(response.status)
            .arg(formatDuration(now - sentAt), formatRunOffset(now, world->simulation().start())),
        response.status >= 400);
    m_body->setPlainText(QString::fromUtf8(response.body));
}

void RequestComposer::showStatus(const QString &text, bool error)
{
    m_status->setText(text);
    m_status->setStyleSheet(error ? QStringLiteral("color: palette(bright-text); "
                                                   "background-color: #b3261e; padding: 3px;")
                                  : QString());
}

} // namespace roomscope
