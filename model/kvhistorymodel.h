#pragma once

#include "simtime.h"
#include "tracesubscription.h"

#include <QAbstractTableModel>
#include <QPointer>

#include <deque>
#include <map>

namespace roomscope {

class Simulation;
class SimulationController;

/// The write history of one KV key, oldest first: every put and delete that reached the central
/// store, accepted or rejected with 429, from Workers and from the inspector. A trace sink keeps
/// the writes of every key from the moment the model is attached, so that selecting a key shows
/// its history at once.
class KvHistoryModel : public QAbstractTableModel
{
    Q_OBJECT

public:
    enum Column {
        TimeColumn,
        WriterColumn,
        LocationColumn,
        OperationColumn,
        ValueColumn,
        ResultColumn,
        ColumnCount
    };

    /// Writes kept per key; older ones are dropped first.
    static constexpr int kMaxWritesPerKey = 1000;

    explicit KvHistoryModel(QObject *parent = nullptr);

    /// Records the writes of the controller's current world and follows its changes.
    void setController(SimulationController *controller);
    /// Records the writes traced by `simulation` from now on; null stops and clears. The
    /// simulation must outlive the model or be replaced first.
    void setSimulation(Simulation *simulation);

    /// Shows the history of `key`.
    void setKey(const QString &key);
    const QString &key() const { return m_key; }

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(
        int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
    struct Write
    {
        SimTime time = 0;
        QString actor;
        QString location;
        bool isDelete = false;
        int status = 0;
        qint64 version = 0;
        QByteArray value;
    };

    void record(const TraceEvent &event);
    QVariant displayData(const Write &write, int column) const;

    QPointer<SimulationController> m_controller;
    TraceSubscription m_subscription;
    SimTime m_start = 0;
    // NOTE: the number of keys is not bounded; a run that writes millions of distinct keys keeps
    // a history entry for each.
    // A std::map, because m_shown points into it and its elements never move.
    std::map<QString, std::deque<Write>> m_writes;
    QString m_key;
    const std::deque<Write> *m_shown = nullptr;
};

} // namespace roomscope
