#pragma once

#include "http.h"
#include "simtime.h"

#include <QWidget>

#include <optional>
#include <vector>

class QComboBox;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QPushButton;
class QSpinBox;

namespace roomscope {

class SimulationController;

/// Builds a request to a room: put, get, broadcast, id, count, or any path such as
/// /count-memory. It sends the request through the simulated Worker from a chosen location with
/// the actor "composer", and shows the response's status, body and latency when it arrives in
/// virtual time. A concurrent count above 1 sends that many identical requests at the same
/// instant and lists every response body.
class RequestComposer : public QWidget
{
    Q_OBJECT

public:
    static constexpr const char *kActor = "composer";
    /// The largest number of identical requests one Send fires at once.
    static constexpr int kMaxConcurrent = 100;

    explicit RequestComposer(SimulationController *controller, QWidget *parent = nullptr);

    /// Sends the request the fields describe; returns false and shows why when a field is invalid.
    bool send();

private:
    /// A response of the latest batch, in the order its request was sent.
    struct Received
    {
        int status = 0;
        QByteArray body;
        SimTime at = 0;
    };

    void reloadWorld();
    void updateRooms();
    void updateFields();
    /// The request the fields describe, once send() has checked them.
    HttpRequest buildRequest(const QString &route, const QString &room) const;
    void showResponse(quint64 serial, int index, const HttpResponse &response);
    void showSingleResponse(const Received &received);
    void showResponses();
    void showStatus(const QString &text, bool error = false);

    SimulationController *m_controller;
    QComboBox *m_room = nullptr;
    QComboBox *m_route = nullptr;
    QLineEdit *m_key = nullptr;
    QLineEdit *m_value = nullptr;
    QComboBox *m_path = nullptr;
    QComboBox *m_from = nullptr;
    QSpinBox *m_concurrent = nullptr;
    QPushButton *m_send = nullptr;
    QLabel *m_status = nullptr;
    QPlainTextEdit *m_body = nullptr;
    /// Serial number of the latest Send. Responses to earlier ones are not shown.
    quint64 m_serial = 0;
    /// The latest Send: when it went out and the responses so far, by request number.
    SimTime m_sentAt = 0;
    std::vector<std::optional<Received>> m_received;
    /// Counts world replacements, so that a response from an earlier run is ignored.
    quint64 m_worldGeneration = 0;
};

} // namespace roomscope
