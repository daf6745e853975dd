#pragma once

#include "gatewaysettings.h"

#include <QDialog>
#include <QObject>

class QAction;
class QCheckBox;
class QComboBox;
class QDialogButtonBox;
class QLabel;
class QLineEdit;
class QSpinBox;
class QTimer;

namespace roomscope {

class Gateway;
class SimulationController;

/// The GUI's switch for the loopback gateway. It has a checkable action that starts and stops a
/// Gateway on the controller's run, a settings dialog, and a status bar label. The label shows
/// the gateway's URL and counts, or the error that kept it from starting.
///
/// While the gateway is on, the controller runs at real time (speed 1) past the end of the
/// scenario, as `roomscope serve` runs it. A new run started from the File menu runs at once, so
/// that real clients do not wait for the Run button.
class GatewayControl : public QObject
{
    Q_OBJECT

public:
    /// The QSettings group that keeps the settings between sessions.
    static constexpr const char *kSettingsGroup = "gateway";

    /// `window` is the parent of the settings dialog.
    GatewayControl(SimulationController *controller, QWidget *window);
    /// Stops the gateway, so delete this before the controller.
    ~GatewayControl() override;

    /// Starts the gateway when checked and stops it when unchecked.
    QAction *toggleAction() const { return m_toggle; }
    /// Opens the settings dialog.
    QAction *settingsAction() const { return m_settingsAction; }
    /// The status bar label. It is hidden while the gateway is off and no error is shown.
    QLabel *statusLabel() const { return m_label; }

    /// The running gateway, or null while it is off.
    Gateway *gateway() const { return m_gateway; }
    bool isRunning() const { return m_gateway != nullptr; }
    const GatewaySettings &settings() const { return m_settings; }
    /// Replaces the settings and saves them for the next session. A running gateway restarts
    /// with them, which closes its connections.
    void setSettings(const GatewaySettings &settings);

    /// Starts the gateway and runs the controller. Returns false when it cannot listen, and then
    /// the status label shows the error.
    bool start();
    /// Stops the gateway, closing every real client's connection with 1001, and lets the run end
    /// as it would without it.
    void stop();

    /// The label's text while the gateway runs: "Gateway http://127.0.0.1:8787 · 1 WebSocket,
    /// 0 HTTP connections · 3 requests · 0 refused".
    QString statusText() const;
    /// Opens the settings dialog, and applies its settings when it is accepted.
    void editSettings();

Q_SIGNALS:
    /// A transient message for the status bar: the gateway started or stopped. An empty text
    /// clears the previous message.
    void statusMessage(const QString &text);
    /// The gateway started or stopped.
    void runningChanged(bool running);

private:
    void setChecked(bool checked);
    void showError(const QString &message);
    void updateLabel();
    void updateActions();
    void loadSettings();
    void saveSettings() const;

    SimulationController *m_controller;
    QWidget *m_window;
    GatewaySettings m_settings;
    Gateway *m_gateway = nullptr;
    QAction *m_toggle = nullptr;
    QAction *m_settingsAction = nullptr;
    QLabel *m_label = nullptr;
    /// The timer that redraws the counts, which change without a signal (requests served).
    QTimer *m_refresh = nullptr;
    /// A warning from start() (a non-loopback address), kept in the label's tooltip.
    QString m_warning;
};

/// The gateway settings dialog: listen address and port, the Host and Origin allow lists, the
/// location real clients join from, and the guard limits. It starts from the given settings,
/// offers GatewaySettings' defaults with Restore Defaults, and accepts only a valid address.
class GatewaySettingsDialog : public QDialog
{
    Q_OBJECT

public:
    /// `locations` are the names the client location may take; the first is the default.
    GatewaySettingsDialog(const GatewaySettings &settings, const QStringList &locations,
        bool gatewayRunning, QWidget *parent = nullptr);

    /// The settings as the fields show them; valid when isValid() is true.
    GatewaySettings settings() const;
    /// The reason the fields cannot be accepted, or an empty string when they can.
    QString validationError() const;
    bool isValid() const { return validationError().isEmpty(); }

    QLineEdit *addressEdit() const { return m_address; }
    QSpinBox *portSpin() const { return m_port; }
    QCheckBox *nonLoopbackCheck() const { return m_allowNonLoopback; }

private:
    void showSettings(const GatewaySettings &settings);
    void validate();

    QLineEdit *m_address = nullptr;
    QSpinBox *m_port = nullptr;
    QCheckBox *m_allowNonLoopback = nullptr;
    QLineEdit *m_origins = nullptr;
    QLineEdit *m_hosts = nullptr;
    QComboBox *m_location = nullptr;
    QSpinBox *m_maxMessage = nullptr;
    QSpinBox *m_sendQueue = nullptr;
    QSpinBox *m_maxConnections = nullptr;
    QSpinBox *m_pingInterval = nullptr;
    QSpinBox *m_pingTimeout = nullptr;
    QSpinBox *m_idleTimeout = nullptr;
    QLabel *m_error = nullptr;
    QDialogButtonBox *m_buttons = nullptr;
};

} // namespace roomscope
