#include "gatewaycontrol.h"

#include "gateway.h"
#include "highlightdelegate.h"
#include "modelroles.h"
#include "simulationcontroller.h"

#include <QAction>
#include <QCheckBox>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QFormLayout>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QLoggingCategory>
#include <QPushButton>
#include <QRegularExpression>
#include <QSettings>
#include <QSpinBox>
#include <QStyle>
#include <QTimer>
#include <QVBoxLayout>

Q_LOGGING_CATEGORY(lcGatewayControl, "roomscope.app.gatewaycontrol", QtWarningMsg)

namespace roomscope {

namespace {

/// How often the label's counts are redrawn while the gateway runs.
constexpr int kLabelRefreshMs = 250;
/// The largest send queue limit the dialog offers, in KiB: 4 GiB, as `roomscope serve` allows.
constexpr int kMaxSendQueueKib = 4 * 1024 * 1024;
/// The largest timeout or interval the dialog offers: one day, as `roomscope serve` allows.
constexpr int kMaxIntervalMs = 86'400'000;

/// Returns `one` for a count of 1, else `many` with the count in place of %1.
QString countText(qint64 count, const QString &one, const QString &many)
{
    return count == 1 ? one : many.arg(QLocale().toString(count));
}

/// Gateway::start() names command-line options in its fixes; in the GUI the settings dialog
/// sets the same values.
QString guiErrorText(QString message)
{
    message.replace(QStringLiteral("Choose another port with --port, or 0 for any free port."),
        GatewayControl::tr("Choose another port in Simulation > Gateway Settings, or 0 for any "
                           "free port."));
    return message;
}

QStringList splitList(const QString &text)
{
    static const QRegularExpression separators(QStringLiteral("[,\\s]+"));
    return text.split(separators, Qt::SkipEmptyParts);
}

QSpinBox *createSpinBox(int minimum, int maximum, const QString &suffix, QWidget *parent)
{
    auto *spin = new QSpinBox(parent);
    spin->setRange(minimum, maximum);
    spin->setSuffix(suffix);
    spin->setGroupSeparatorShown(true);
    spin->setAlignment(Qt::AlignRight);
    return spin;
}

void setBackground(QLabel *label, Highlight highlight)
{
    QPalette colors = label->palette();
    colors.setColor(QPalette::Window,
        highlight == Highlight::Error ? HighlightDelegate::errorColor(colors)
                                      : HighlightDelegate::warningColor(colors));
    label->setPalette(colors);
    label->setAutoFillBackground(highlight != Highlight::None);
}

} // namespace

GatewayControl::GatewayControl(SimulationController *controller, QWidget *window)
    : QObject(window)
    , m_controller(controller)
    , m_window(window)
{
    loadSettings();

    m_toggle = new QAction(
        window->style()->standardIcon(QStyle::SP_DriveNetIcon), tr("Serve Real &Clients"), this);
    m_toggle->setObjectName(QStringLiteral("gatewayToggle"));
    m_toggle->setCheckable(true);
    m_toggle->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_G));
    m_toggle->setToolTip(tr("Start the loopback gateway, so that curl, wscat and browsers can "
                            "join this run (Ctrl+G)"));
    m_toggle->setStatusTip(tr("Listen for real HTTP and WebSocket clients and run the simulation "
                              "at real time while they are connected."));
    m_settingsAction = new QAction(tr("&Gateway Settings…"), this);
    m_settingsAction->setObjectName(QStringLiteral("gatewaySettings"));
    m_settingsAction->setStatusTip(
        tr("Set the gateway's address, port and limits on connections and messages."));

    m_label = new QLabel(window);
    m_label->setObjectName(QStringLiteral("gatewayLabel"));
    m_label->setContentsMargins(6, 0, 6, 0);
    m_label->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_label->hide();

    m_refresh = new QTimer(this);
    m_refresh->setInterval(kLabelRefreshMs);
    connect(m_refresh, &QTimer::timeout, this, &GatewayControl::updateLabel);

    connect(m_toggle, &QAction::toggled, this, [this](bool checked) {
        if (checked)
            start();
        else
            stop();
    });
    connect(m_settingsAction, &QAction::triggered, this, &GatewayControl::editSettings);
    connect(controller, &SimulationController::runStateChanged, this, &GatewayControl::updateLabel);
    connect(controller, &SimulationController::worldChanged, this, [this] {
        // The gateway closed its connections as the old run ended; the new run serves at once.
        if (m_gateway)
            m_controller->run();
        updateActions();
    });
    updateActions();
}

GatewayControl::~GatewayControl()
{
    stop();
}

void GatewayControl::setSettings(const GatewaySettings &settings)
{
    m_settings = settings;
    saveSettings();
    if (m_gateway) {
        stop();
        start();
    }
}

bool GatewayControl::start()
{
    if (m_gateway)
        return true;
    if (!m_controller->world()) {
        setChecked(false);
        showError(tr("Open a scenario before starting the gateway."));
        return false;
    }
    auto *gateway = new Gateway(*m_controller, m_settings, this);
    const Result<QString> started = gateway->start();
    if (!started) {
        delete gateway;
        qCWarning(lcGatewayControl).noquote()
            << "gateway did not start:" << started.error().message;
        setChecked(false);
        showError(guiErrorText(started.error().message));
        // An older message, such as "stopped", would contradict the label beside it.
        Q_EMIT statusMessage(QString());
        return false;
    }
    m_gateway = gateway;
    m_warning = *started;
    connect(gateway, &Gateway::statusChanged, this, &GatewayControl::updateLabel);

    // Real clients live in wall-clock time, so the run follows it and does not stop at its end.
    m_controller->setKeepRunning(true);
    m_controller->setSpeed(1.0);
    m_controller->run();
    m_refresh->start();
    setChecked(true);
    updateLabel();

    const QStringList rooms = m_controller->world()->roomNames();
    const QString room = rooms.isEmpty() ? QStringLiteral("lobby") : rooms.first();
    const QString webSocketUrl
        = QString(gateway->url()).replace(QLatin1String("http:"), QLatin1String("ws:"));
    Q_EMIT statusMessage(
        tr("Gateway on. Try wscat -c '%2/ws?roomId=%3' or open %1%4")
            .arg(gateway->url(), webSocketUrl, room, QLatin1String(Gateway::kOwnPathPrefix)));
    Q_EMIT runningChanged(true);
    return true;
}

void GatewayControl::stop()
{
    if (!m_gateway) {
        setChecked(false);
        m_label->hide();
        return;
    }
    const QString url = m_gateway->url();
    m_refresh->stop();

    Gateway *gateway = m_gateway;
    m_gateway = nullptr;
    gateway->stop();
    delete gateway;

    m_controller->setKeepRunning(false);
    // Shows the gateway's last log line and the closed clients while the run is paused.
    m_controller->notifyWorldEdited();
    m_warning.clear();
    setChecked(false);
    m_label->hide();
    updateActions();
    Q_EMIT statusMessage(tr("The gateway on %1 stopped and closed its connections.").arg(url));
    Q_EMIT runningChanged(false);
}

QString GatewayControl::statusText() const
{
    if (!m_gateway)
        return {};
    const int webSockets = m_gateway->openWebSockets();
    const int http = m_gateway->openConnections() - webSockets;
    return tr("Gateway %1 · %2, %3 · %4 · %5 refused")
        .arg(m_gateway->url(), countText(webSockets, tr("1 WebSocket"), tr("%1 WebSockets")),
            countText(http, tr("1 HTTP connection"), tr("%1 HTTP connections")),
            countText(qint64(m_gateway->requestsServed()), tr("1 request"), tr("%1 requests")),
            QLocale().toString(qulonglong(m_gateway->refusals())));
}

void GatewayControl::setChecked(bool checked)
{
    const QSignalBlocker blocker(m_toggle);
    m_toggle->setChecked(checked);
}

void GatewayControl::showError(const QString &message)
{
    m_label->setText(tr("Gateway off: %1").arg(message));
    m_label->setToolTip(message);
    setBackground(m_label, Highlight::Error);
    m_label->show();
}

void GatewayControl::updateLabel()
{
    if (!m_gateway)
        return;
    QString text = statusText();
    QString toolTip = tr("Real clients join this run at %1. The demo page is %1%2.")
                          .arg(m_gateway->url(), QLatin1String(Gateway::kOwnPathPrefix));
    Highlight highlight = Highlight::None;
    if (!m_controller->isRunning()) {
        text += tr(" · paused: requests wait for Run");
        highlight = Highlight::Warning;
    }
    if (!m_warning.isEmpty()) {
        toolTip += QLatin1Char('\n') + m_warning;
        highlight = Highlight::Warning;
    }
    m_label->setText(text);
    m_label->setToolTip(toolTip);
    setBackground(m_label, highlight);
    m_label->show();
}

void GatewayControl::updateActions()
{
    m_toggle->setEnabled(m_gateway || m_controller->world());
}

void GatewayControl::editSettings()
{
    QStringList locations;
    if (const World *world = m_controller->world())
        locations = world->locations().names();
    GatewaySettingsDialog dialog(m_settings, locations, m_gateway != nullptr, m_window);
    if (dialog.exec() == QDialog::Accepted)
        setSettings(dialog.settings());
}

void GatewayControl::loadSettings()
{
    const GatewaySettings defaults;
    QSettings stored;
    stored.beginGroup(QLatin1String(kSettingsGroup));
    const QHostAddress address(
        stored.value(QStringLiteral("address"), defaults.address.toString()).toString());
    m_settings.address = address.isNull() ? defaults.address : address;
    const int port = stored.value(QStringLiteral("port"), defaults.port).toInt();
    m_settings.port = port >= 0 && port <= 65535 ? quint16(port) : defaults.port;
    m_settings.allowNonLoopback = stored.value(QStringLiteral("allowNonLoopback"), false).toBool();
    m_settings.allowedOrigins = stored.value(QStringLiteral("allowedOrigins")).toStringList();
    m_settings.allowedHosts = stored.value(QStringLiteral("allowedHosts")).toStringList();
    m_settings.clientLocation = stored.value(QStringLiteral("clientLocation")).toString();

    // A value out of the dialog's range, from an older build or an edited file, falls back to
    // the default.
    const auto number
        = [&stored](const char *key, qint64 fallback, qint64 minimum, qint64 maximum) {
              bool ok = false;
              const qint64 value = stored.value(QLatin1String(key), fallback).toLongLong(&ok);
              return ok && value >= minimum && value <= maximum ? value : fallback;
          };
    m_settings.maxMessageBytes = number(
        "maxMessageBytes", defaults.maxMessageBytes, 1, GatewaySettings::kPlatformMaxMessageBytes);
    m_settings.sendQueueLimitBytes = number(
        "sendQueueLimitBytes", defaults.sendQueueLimitBytes, 1024, qint64(kMaxSendQueueKib) * 1024);
    m_settings.maxConnections
        = int(number("maxConnections", defaults.maxConnections, 1, 1'000'000));
    m_settings.pingIntervalMs
        = int(number("pingIntervalMs", defaults.pingIntervalMs, 10, kMaxIntervalMs));
    m_settings.pingTimeoutMs
        = int(number("pingTimeoutMs", defaults.pingTimeoutMs, 10, kMaxIntervalMs));
    m_settings.httpIdleTimeoutMs
        = int(number("httpIdleTimeoutMs", defaults.httpIdleTimeoutMs, 10, kMaxIntervalMs));
}

void GatewayControl::saveSettings() const
{
    QSettings stored;
    stored.beginGroup(QLatin1String(kSettingsGroup));
    stored.setValue(QStringLiteral("address"), m_settings.address.toString());
    stored.setValue(QStringLiteral("port"), int(m_settings.port));
    stored.setValue(QStringLiteral("allowNonLoopback"), m_settings.allowNonLoopback);
    stored.setValue(QStringLiteral("allowedOrigins"), m_settings.allowedOrigins);
    stored.setValue(QStringLiteral("allowedHosts"), m_settings.allowedHosts);
    stored.setValue(QStringLiteral("clientLocation"), m_settings.clientLocation);
    stored.setValue(QStringLiteral("maxMessageBytes"), m_settings.maxMessageBytes);
    stored.setValue(QStringLiteral("sendQueueLimitBytes"), m_settings.sendQueueLimitBytes);
    stored.setValue(QStringLiteral("maxConnections"), m_settings.maxConnections);
    stored.setValue(QStringLiteral("pingIntervalMs"), m_settings.pingIntervalMs);
    stored.setValue(QStringLiteral("pingTimeoutMs"), m_settings.pingTimeoutMs);
    stored.setValue(QStringLiteral("httpIdleTimeoutMs"), m_settings.httpIdleTimeoutMs);
}

GatewaySettingsDialog::GatewaySettingsDialog(const GatewaySettings &settings,
    const QStringList &locations, bool gatewayRunning, QWidget *parent)
    : QDialog(parent)
{
    setObjectName(QStringLiteral("gatewaySettingsDialog"));
    setWindowTitle(tr("Gateway Settings"));

    m_address = new QLineEdit(this);
    m_address->setObjectName(QStringLiteral("gatewayAddress"));
    m_address->setToolTip(tr("The IP address to listen on: 127.0.0.1 or ::1 keep the gateway to "
                             "this machine"));
    m_port = createSpinBox(0, 65535, QString(), this);
    m_port->setObjectName(QStringLiteral("gatewayPort"));
    m_port->setGroupSeparatorShown(false);
    m_port->setSpecialValueText(tr("any free port"));
    m_port->setToolTip(tr("8787 is the port wrangler dev uses; 0 picks a free port"));
    m_allowNonLoopback = new QCheckBox(tr("Allow a non-loopback address"), this);
    m_allowNonLoopback->setObjectName(QStringLiteral("gatewayAllowNonLoopback"));
    m_allowNonLoopback->setToolTip(tr("Any machine that can reach the address can then send "
                                      "requests to the simulation and join its rooms; nothing "
                                      "authenticates them."));
    m_origins = new QLineEdit(this);
    m_origins->setPlaceholderText(tr("none besides the gateway's own, such as "
                                     "http://localhost:5173"));
    m_origins->setToolTip(tr("Origins, separated by commas or spaces, of other pages that may "
                             "call the gateway from a browser"));
    m_hosts = new QLineEdit(this);
    m_hosts->setPlaceholderText(tr("none besides localhost and the listen address"));
    m_hosts->setToolTip(tr("Host names, separated by commas or spaces, that requests may name in "
                           "their Host header besides localhost and the listen address"));
    m_location = new QComboBox(this);
    m_location->addItem(locations.isEmpty()
            ? tr("The scenario's first location")
            : tr("The scenario's first location (%1)").arg(locations.first()),
        QString());
    for (const QString &name : locations)
        m_location->addItem(name, name);
    if (!settings.clientLocation.isEmpty() && !locations.contains(settings.clientLocation))
        m_location->addItem(
            tr("%1 (not in this scenario)").arg(settings.clientLocation), settings.clientLocation);
    m_location->setToolTip(tr("The location whose Worker real clients reach"));

    m_maxMessage
        = createSpinBox(1, int(GatewaySettings::kPlatformMaxMessageBytes), tr(" bytes"), this);
    m_maxMessage->setToolTip(tr("A larger message from a client closes its socket with 1009 "
                                "(message too big); the platform's limit is 32 MiB"));
    m_sendQueue = createSpinBox(1, kMaxSendQueueKib, tr(" KiB"), this);
    m_sendQueue->setToolTip(tr("A client whose unsent bytes would pass this reads too slowly and "
                               "is closed with 1008 (policy violation)"));
    m_maxConnections = createSpinBox(1, 1'000'000, QString(), this);
    m_maxConnections->setToolTip(tr("TCP connections open at once, HTTP and WebSocket together; "
                                    "more are answered with 503"));
    m_pingInterval = createSpinBox(10, kMaxIntervalMs, tr(" ms"), this);
    m_pingInterval->setToolTip(tr("How often an idle WebSocket is pinged"));
    m_pingTimeout = createSpinBox(10, kMaxIntervalMs, tr(" ms"), this);
    m_pingTimeout->setToolTip(tr("A WebSocket that answers no ping within this is dropped as "
                                 "half-open"));
    m_idleTimeout = createSpinBox(10, kMaxIntervalMs, tr(" ms"), this);
    m_idleTimeout->setToolTip(tr("An HTTP connection with no request in progress is closed after "
                                 "this"));

    m_error = new QLabel(this);
    m_error->setObjectName(QStringLiteral("gatewaySettingsError"));
    m_error->setWordWrap(true);
    m_error->setContentsMargins(6, 4, 6, 4);
    setBackground(m_error, Highlight::Error);
    m_error->hide();

    m_buttons = new QDialogButtonBox(
        QDialogButtonBox::Ok | QDialogButtonBox::Cancel | QDialogButtonBox::RestoreDefaults, this);
    if (gatewayRunning)
        m_buttons->button(QDialogButtonBox::Ok)->setText(tr("Restart Gateway"));

    // Wide enough for the placeholders and the error text.
    m_address->setMinimumWidth(fontMetrics().averageCharWidth() * 44);
    auto *form = new QFormLayout;
    form->addRow(tr("Listen &address:"), m_address);
    form->addRow(tr("&Port:"), m_port);
    form->addRow(QString(), m_allowNonLoopback);
    form->addRow(tr("Allowed &origins:"), m_origins);
    form->addRow(tr("Allowed &hosts:"), m_hosts);
    form->addRow(tr("Clients join &from:"), m_location);
    form->addRow(tr("Max &message size:"), m_maxMessage);
    form->addRow(tr("&Send queue limit:"), m_sendQueue);
    form->addRow(tr("Max &connections:"), m_maxConnections);
    form->addRow(tr("P&ing interval:"), m_pingInterval);
    form->addRow(tr("Ping &timeout:"), m_pingTimeout);
    form->addRow(tr("HTTP i&dle timeout:"), m_idleTimeout);
    auto *layout = new QVBoxLayout(this);
    layout->addLayout(form);
    if (gatewayRunning) {
        auto *note = new QLabel(
            tr("The gateway is running. Restarting it with new settings closes its connections."),
            this);
        note->setWordWrap(true);
        layout->addWidget(note);
    }
    layout->addWidget(m_error);
    layout->addWidget(m_buttons);

    connect(m_buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(m_buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    connect(m_buttons->button(QDialogButtonBox::RestoreDefaults), &QPushButton::clicked, this,
        [this] { showSettings(GatewaySettings()); });
    connect(m_address, &QLineEdit::textChanged, this, &GatewaySettingsDialog::validate);
    connect(m_allowNonLoopback, &QCheckBox::toggled, this, &GatewaySettingsDialog::validate);

    showSettings(settings);
}

void GatewaySettingsDialog::showSettings(const GatewaySettings &settings)
{
    m_address->setText(settings.address.toString());
    m_port->setValue(settings.port);
    m_allowNonLoopback->setChecked(settings.allowNonLoopback);
    m_origins->setText(settings.allowedOrigins.join(QStringLiteral(", ")));
    m_hosts->setText(settings.allowedHosts.join(QStringLiteral(", ")));
    m_location->setCurrentIndex(std::max(0, m_location->findData(settings.clientLocation)));
    m_maxMessage->setValue(int(settings.maxMessageBytes));
    m_sendQueue->setValue(
        int(std::clamp<qint64>(settings.sendQueueLimitBytes / 1024, 1, kMaxSendQueueKib)));
    m_maxConnections->setValue(settings.maxConnections);
    m_pingInterval->setValue(settings.pingIntervalMs);
    m_pingTimeout->setValue(settings.pingTimeoutMs);
    m_idleTimeout->setValue(settings.httpIdleTimeoutMs);
    validate();
}

GatewaySettings GatewaySettingsDialog::settings() const
{
    GatewaySettings settings;
    settings.address = QHostAddress(m_address->text().trimmed());
    settings.port = quint16(m_port->value());
    settings.allowNonLoopback = m_allowNonLoopback->isChecked();
    settings.allowedOrigins = splitList(m_origins->text());
    settings.allowedHosts = splitList(m_hosts->text());
    settings.clientLocation = m_location->currentData().toString();
    settings.maxMessageBytes = m_maxMessage->value();
    settings.sendQueueLimitBytes = qint64(m_sendQueue->value()) * 1024;
    settings.maxConnections = m_maxConnections->value();
    settings.pingIntervalMs = m_pingInterval->value();
    settings.pingTimeoutMs = m_pingTimeout->value();
    settings.httpIdleTimeoutMs = m_idleTimeout->value();
    return settings;
}

QString GatewaySettingsDialog::validationError() const
{
    const QString text = m_address->text().trimmed();
    const QHostAddress address(text);
    if (address.isNull())
        return tr("\"%1\" is not an IP address. Give one such as 127.0.0.1 or ::1.").arg(text);
    if (!address.isLoopback() && !m_allowNonLoopback->isChecked())
        return tr("%1 is not a loopback address, so other machines could reach the simulation. "
                  "Listen on 127.0.0.1, or check \"Allow a non-loopback address\" to accept the "
                  "risk.")
            .arg(address.toString());
    return {};
}

void GatewaySettingsDialog::validate()
{
    const QString error = validationError();
    m_error->setText(error);
    m_error->setVisible(!error.isEmpty());
    m_buttons->button(QDialogButtonBox::Ok)->setEnabled(error.isEmpty());
}

} // namespace roomscope
