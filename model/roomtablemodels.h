#pragma once

#include "durableobject.h"
#include "tracesubscription.h"
#include "worldtablemodel.h"

#include <QColor>

#include <deque>
#include <map>

namespace roomscope {

/// The colour that the room inspector gives a lifecycle state.
QColor objectStateColor(ObjectState state);

/// Base of the room inspector's tables: a WorldTableModel over the Durable Object of one room,
/// chosen by name with setRoom(). While the room's object does not exist, the table is empty.
class RoomTableModel : public WorldTableModel
{
    Q_OBJECT

public:
    explicit RoomTableModel(SimulationController *controller, QObject *parent = nullptr);

    /// Shows the room `name`, a room of World::roomNames(), and resets the model.
    void setRoom(const QString &name);
    const QString &room() const { return m_room; }

protected:
    /// The selected room's object in `world`, or null while it does not exist.
    DurableObject *object(const World &world) const;
    /// Replaces the rows with those of the newly selected room, without emitting row signals.
    /// It is called inside a model reset, with a null `world` when there is no run.
    virtual void loadRoomRows(World *world);

private:
    QString m_room;
};

/// The selected object's lifecycle history (DurableObject::history()): the steps that changed
/// what is in memory, oldest first.
class LifecycleHistoryModel : public RoomTableModel
{
    Q_OBJECT

public:
    enum Column { TimeColumn, StateColumn, ReasonColumn, ColumnCount };

    explicit LifecycleHistoryModel(SimulationController *controller, QObject *parent = nullptr);

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(
        int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

protected:
    void clearRows() override;
    void loadRows(World &world) override;
    void updateRows(World &world) override;

private:
    struct Row
    {
        int step = 0; ///< position in the history, which only grows
        SimTime at = 0;
        ObjectState state = ObjectState::Inactive;
        QString reason;

        bool operator==(const Row &) const = default;
    };

    std::vector<Row> snapshot(const World &world) const;

    std::vector<Row> m_rows;
    SimTime m_start = 0;
};

/// The in-memory fields of the selected object's instance (DurableObjectBehaviour::memoryState()):
/// what a hibernation, eviction or reset loses. Empty while no instance is in memory.
class MemoryStateModel : public RoomTableModel
{
    Q_OBJECT

public:
    enum Column { FieldColumn, ValueColumn, ColumnCount };

    explicit MemoryStateModel(SimulationController *controller, QObject *parent = nullptr);

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(
        int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

protected:
    void clearRows() override;
    void loadRows(World &world) override;
    void updateRows(World &world) override;

private:
    struct Row
    {
        QString field;
        QString value;

        bool operator==(const Row &) const = default;
    };

    std::vector<Row> snapshot(const World &world) const;

    std::vector<Row> m_rows;
};

/// The selected object's KV-style storage entries (storage.list()), in key order, including the
/// writes of a batch that is not committed yet. It lists at most kMaxEntries.
class StorageEntriesModel : public RoomTableModel
{
    Q_OBJECT

public:
    enum Column { KeyColumn, ValueColumn, SizeColumn, ColumnCount };

    /// Entries listed per frame. A larger storage shows its first entries only.
    static constexpr qint64 kMaxEntries = 1000;

    explicit StorageEntriesModel(SimulationController *controller, QObject *parent = nullptr);

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(
        int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

    /// The stored value of `key` as text, or an empty string when the key is not listed.
    QString valueText(const QString &key) const;
    /// True when the storage has more than kMaxEntries entries.
    bool isTruncated() const { return m_truncated; }
    /// The error of the last list(), or an empty string.
    const QString &listError() const { return m_listError; }

protected:
    void clearRows() override;
    void loadRows(World &world) override;
    void updateRows(World &world) override;

private:
    struct Row
    {
        QString key;
        QByteArray value;

        bool operator==(const Row &) const = default;
    };

    std::vector<Row> snapshot(const World &world);

    std::vector<Row> m_rows;
    bool m_truncated = false;
    QString m_listError;
};

/// The server ends of the selected object's WebSockets: state, API, tags, attachment,
/// auto-response and traffic.
class ServerSocketsModel : public RoomTableModel
{
    Q_OBJECT

public:
    enum Column {
        ConnectionColumn,
        ClientColumn,
        StateColumn,
        ApiColumn,
        TagsColumn,
        AttachmentColumn,
        AutoResponseColumn,
        MessagesInColumn,
        MessagesOutColumn,
        BytesInColumn,
        BytesOutColumn,
        ColumnCount
    };

    explicit ServerSocketsModel(SimulationController *controller, QObject *parent = nullptr);

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(
        int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

    static QString stateName(ServerWebSocket::State state);

protected:
    void clearRows() override;
    void loadRows(World &world) override;
    void updateRows(World &world) override;

private:
    struct Row
    {
        quint64 connection = 0;
        QString client;
        ServerWebSocket::State state = ServerWebSocket::State::Open;
        bool hibernatable = false;
        QStringList tags;
        std::optional<QByteArray> attachment;
        std::optional<qint64> autoResponseAtMs;
        quint64 messagesIn = 0;
        quint64 messagesOut = 0;
        qint64 bytesIn = 0;
        qint64 bytesOut = 0;

        bool operator==(const Row &) const = default;
    };

    std::vector<Row> snapshot(const World &world) const;
    QVariant displayData(const Row &row, int column) const;

    std::vector<Row> m_rows;
    SimTime m_start = 0;
};

/// The selected object's alarm events from the trace, oldest first: every alarm.set (set,
/// deleted, or a retry after a failed run, with its error) and alarm.run. A trace sink collects
/// the alarm events of every object from the start of the run, so that selecting a room shows
/// its whole alarm history.
class AlarmEventsModel : public RoomTableModel
{
    Q_OBJECT

public:
    enum Column {
        TimeColumn,
        EventColumn,
        RetryCountColumn,
        ScheduledColumn,
        ErrorColumn,
        ColumnCount
    };

    /// Alarm events kept per object. Older ones are dropped first.
    static constexpr size_t kMaxEventsPerObject = 1000;

    explicit AlarmEventsModel(SimulationController *controller, QObject *parent = nullptr);
    ~AlarmEventsModel() override;

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(
        int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

protected:
    void clearRows() override;
    void loadRows(World &world) override;
    void updateRows(World &world) override;
    void loadRoomRows(World *world) override;

private:
    struct Row
    {
        TraceEvent event;

        /// A traced event never changes, so its sequence number identifies its content.
        bool operator==(const Row &other) const { return event.sequence == other.event.sequence; }
    };

    void record(const TraceEvent &event);
    std::vector<Row> snapshot(const World &world) const;
    QVariant displayData(const TraceEvent &event, int column) const;

    TraceSubscription m_subscription;
    /// Alarm events by actor name ("room lab").
    std::map<QString, std::deque<TraceEvent>> m_events;
    std::vector<Row> m_rows;
    SimTime m_start = 0;
};

} // namespace roomscope
