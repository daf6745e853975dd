#pragma once

#include "simtime.h"

#include <QWidget>

class QComboBox;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QPushButton;

namespace roomscope {

class SimulationController;
struct HttpResponse;

/// Builds a request to a room (put, get, broadcast, id, count), sends it through the simulated
/// Worker from a chosen location with the actor "composer", and shows the response's status,
/// body and latency when it arrives in virtual time.
class RequestComposer : public QWidget
{
    Q_OBJECT

public:
    static constexpr const char *kActor = "composer";

    explicit RequestComposer(SimulationController *controller, QWidget *parent = nullptr);

    /// Sends the request the fields describe; returns false and shows why when a field is invalid.
    bool send();

private:
    void reloadWorld();
    void updateRooms();
    void updateFields();
    void showResponse(quint64 serial, SimTime sentAt, const HttpResponse &response);
    void showStatus(const QString &text, bool error = false);

    SimulationController *m_controller;
    QComboBox *m_room = nullptr;
    QComboBox *m_route = nullptr;
    QLineEdit *m_key = nullptr;
    QLineEdit *m_value = nullptr;
    QComboBox *m_from = nullptr;
    QPushButton *m_send = nullptr;
    QLabel *m_status = nullptr;
    QPlainTextEdit *m_body = nullptr;
    /// Serial number of the latest request; responses to earlier requests are not shown.
    quint64 m_serial = 0;
    /// Counts world replacements, so that a response from an earlier run is ignored.
    quint64 m_worldGeneration = 0;
};

} // namespace roomscope
