#pragma once

#include "modelroles.h"
#include "worldtablemodel.h"

#include <deque>

namespace roomscope {

/// The WebSocket frames of one real client, oldest first, as a browser's WebSocket panel lists
/// them: the time since the run started, the direction, the opcode, the payload size and a
/// preview of the payload. Rows follow the client's frame log (RealClient::frames()), so the
/// oldest frames leave when the log drops them. Simulated clients have no frame log, so this
/// model is empty while one of them is chosen.
class FramesModel : public WorldTableModel
{
    Q_OBJECT

public:
    enum Column { TimeColumn, DirectionColumn, OpcodeColumn, SizeColumn, DataColumn, ColumnCount };

    explicit FramesModel(SimulationController *controller, QObject *parent = nullptr);

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(
        int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

    /// Shows the frames of the client with this name (such as "real/1"). A simulated client's
    /// name or an empty one shows no frames. A new run clears the choice.
    void setClient(const QString &name);
    /// The name given to setClient(), empty after a new run started.
    const QString &clientName() const { return m_clientName; }
    /// The chosen real client, or null when the name is not a real client of the current run.
    const RealClient *client() const { return m_client; }
    /// One line about what the table shows, for a label above it: the client, its peer address
    /// and how many frames the log keeps, or what to select to see frames.
    QString summary() const;

    /// The text of an opcode: text, binary, close, ping or pong.
    static QString opcodeName(WebSocketFrame::Opcode opcode);
    /// The arrow of a direction, as browsers show it: ↑ sent by the client, ↓ received by it.
    static QString directionArrow(WebSocketFrame::Direction direction);
    /// The registered name of a WebSocket close code (RFC 6455 section 7.4.1), such as "going
    /// away" for 1001, or an empty string for a code without one.
    static QString closeCodeName(int code);
    /// The highlight of a close code: None for a normal closure (1000), going away (1001) and no
    /// code (0), and Warning for every other code, since each reports a failure.
    static Highlight closeCodeHighlight(int code);
    /// A preview of a frame's payload for a table cell: the close code and reason of a Close
    /// frame, hex bytes of a binary frame, and text for the rest. It ends with "…" when the log
    /// kept only the start of the payload.
    static QString payloadPreview(const WebSocketFrame &frame);

    /// Finds a real client of `world` by name, or returns null.
    static RealClient *findRealClient(const World &world, const QString &name);

Q_SIGNALS:
    /// The chosen client or the text of summary() changed.
    void summaryChanged();

protected:
    void clearRows() override;
    void loadRows(World &world) override;
    void updateRows(World &world) override;

private:
    struct Row
    {
        quint64 sequence = 0; ///< the frame's number in the client's log, from 0
        WebSocketFrame frame;
    };

    /// Copies the frames of m_client that are newer than the last row.
    std::vector<Row> newFrames() const;
    QVariant displayData(const Row &row, int column) const;

    QString m_clientName;
    RealClient *m_client = nullptr;
    std::deque<Row> m_rows;
    quint64 m_framesLogged = 0; ///< RealClient::framesLogged() at the last update
    SimTime m_start = 0;
};

} // namespace roomscope
