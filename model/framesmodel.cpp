#include "framesmodel.h"

#include "valuetext.h"

#include <QColor>
#include <QLocale>

namespace roomscope {

namespace {

/// Payload bytes that a binary frame's preview shows in hex.
constexpr qsizetype kHexPreviewBytes = 24;

} // namespace

FramesModel::FramesModel(SimulationController *controller, QObject *parent)
    : WorldTableModel(controller, parent)
{
    attachToController();
    // A new run has other clients under the same names, so the choice does not carry over.
    if (controller)
        connect(
            controller, &SimulationController::worldChanged, this, &FramesModel::summaryChanged);
}

int FramesModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size());
}

int FramesModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

RealClient *FramesModel::findRealClient(const World &world, const QString &name)
{
    const std::vector<std::unique_ptr<RealClient>> &clients = world.realClients();
    // World::addRealClient() names the clients "real/1", "real/2", ... in order, so the number
    // is the position; the name check keeps this right should the naming change.
    if (name.startsWith(QLatin1String("real/"))) {
        bool ok = false;
        const qsizetype number = name.mid(5).toLongLong(&ok);
        if (ok && number >= 1 && number <= qsizetype(clients.size())
            && clients[size_t(number - 1)]->name() == name)
            return clients[size_t(number - 1)].get();
    }
    for (const std::unique_ptr<RealClient> &client : clients) {
        if (client->name() == name)
            return client.get();
    }
    return nullptr;
}

void FramesModel::setClient(const QString &name)
{
    if (name == m_clientName)
        return;
    beginResetModel();
    m_rows.clear();
    m_framesLogged = 0;
    m_clientName = name;
    m_client = nullptr;
    if (World *current = world())
        loadRows(*current);
    endResetModel();
    Q_EMIT summaryChanged();
}

QString FramesModel::summary() const
{
    if (m_clientName.isEmpty())
        return tr("Select a real client (Kind \"real\") to see its WebSocket frames.");
    if (!m_client)
        return tr("%1 is a simulated client. Frames are logged for real clients, which join "
                  "through the gateway.")
            .arg(m_clientName);
    const QLocale locale;
    const quint64 logged = m_client->framesLogged();
    QString text = tr("Frames of %1 (%2)").arg(m_client->name(), m_client->peer());
    if (logged == 0)
        return tr("%1: none yet").arg(text);
    if (quint64(m_rows.size()) < logged)
        return tr("%1: the last %2 of %3")
            .arg(text, locale.toString(qulonglong(m_rows.size())),
                locale.toString(qulonglong(logged)));
    return logged == 1 ? tr("%1: 1 frame").arg(text)
                       : tr("%1: %2 frames").arg(text, locale.toString(qulonglong(logged)));
}

QString FramesModel::opcodeName(WebSocketFrame::Opcode opcode)
{
    switch (opcode) {
    case WebSocketFrame::Opcode::Text:
        return QStringLiteral("text");
    case WebSocketFrame::Opcode::Binary:
        return QStringLiteral("binary");
    case WebSocketFrame::Opcode::Close:
        return QStringLiteral("close");
    case WebSocketFrame::Opcode::Ping:
        return QStringLiteral("ping");
    case WebSocketFrame::Opcode::Pong:
        return QStringLiteral("pong");
    }
    return {};
}

QString FramesModel::directionArrow(WebSocketFrame::Direction direction)
{
    return direction == WebSocketFrame::Direction::FromClient ? QStringLiteral("↑")
                                                              : QStringLiteral("↓");
}

QString FramesModel::closeCodeName(int code)
{
    switch (code) {
    case 1000:
        return tr("normal closure");
    case 1001:
        return tr("going away");
    case 1002:
        return tr("protocol error");
    case 1003:
        return tr("unsupported data");
    case 1005:
        return tr("no status received");
    case 1006:
        return tr("abnormal closure");
    case 1007:
        return tr("invalid frame payload data");
    case 1008:
        return tr("policy violation");
    case 1009:
        return tr("message too big");
    case 1010:
        return tr("mandatory extension");
    case 1011:
        return tr("internal error");
    case 1015:
        return tr("TLS handshake");
    default:
        return {};
    }
}

Highlight FramesModel::closeCodeHighlight(int code)
{
    return code == 0 || code == 1000 || code == 1001 ? Highlight::None : Highlight::Warning;
}

QString FramesModel::payloadPreview(const WebSocketFrame &frame)
{
    switch (frame.opcode) {
    case WebSocketFrame::Opcode::Close: {
        QString text
            = frame.closeCode == 0 ? tr("no status code") : QString::number(frame.closeCode);
        if (!frame.head.isEmpty())
            text += QLatin1Char(' ') + previewValue(frame.head);
        return text;
    }
    case WebSocketFrame::Opcode::Binary: {
        QString hex = QString::fromLatin1(frame.head.left(kHexPreviewBytes).toHex(' '));
        if (frame.size > kHexPreviewBytes)
            hex += QStringLiteral(" …");
        return hex;
    }
    case WebSocketFrame::Opcode::Text:
    case WebSocketFrame::Opcode::Ping:
    case WebSocketFrame::Opcode::Pong:
        break;
    }
    QString text = previewValue(frame.head);
    if (frame.head.size() < frame.size && !text.endsWith(QStringLiteral("…")))
        text += QStringLiteral("…");
    return text;
}

QVariant FramesModel::data(const QModelIndex &index, int role) const
{
    if (!hasIndex(index.row(), index.column(), index.parent()))
        return {};
    const Row &row = m_rows[size_t(index.row())];
    const WebSocketFrame &frame = row.frame;
    const bool fromClient = frame.direction == WebSocketFrame::Direction::FromClient;
    switch (role) {
    case Qt::DisplayRole:
        return displayData(row, index.column());
    case SortRole:
        return index.column() == TimeColumn ? QVariant(row.sequence)
                                            : displayData(row, index.column());
    case RawValueRole:
        return frame.head;
    case ValueTitleRole: {
        const QString format
            = fromClient ? tr("%1 frame from %2 at %3") : tr("%1 frame to %2 at %3");
        QString opcode = opcodeName(frame.opcode);
        opcode[0] = opcode[0].toUpper();
        QString title = format.arg(opcode, m_clientName, formatRunOffset(frame.at, m_start));
        if (frame.head.size() < frame.size)
            title += tr(" (the first %1 of %2 bytes)").arg(frame.head.size()).arg(frame.size);
        return title;
    }
    case HighlightRole:
        return QVariant::fromValue(frame.opcode == WebSocketFrame::Opcode::Close
                ? closeCodeHighlight(frame.closeCode)
                : Highlight::None);
    case Qt::ForegroundRole:
        // The colours of a browser's WebSocket panel: green for sent, red for received. Both
        // are mid-tones, legible on light and dark bases.
        if (index.column() == DirectionColumn)
            return fromClient ? QColor(0x2e, 0x9e, 0x5b) : QColor(0xd9, 0x4a, 0x3d);
        return {};
    case Qt::ToolTipRole:
        switch (Column(index.column())) {
        case TimeColumn:
            return formatClock(frame.at);
        case DirectionColumn:
            return fromClient ? tr("Sent by the client to the Durable Object")
                              : tr("Sent by the Durable Object or the gateway to the client");
        case DataColumn:
            if (frame.opcode == WebSocketFrame::Opcode::Close && frame.closeCode != 0) {
                const QString name = closeCodeName(frame.closeCode);
                return name.isEmpty() ? QString::number(frame.closeCode)
                                      : tr("%1 (%2)").arg(frame.closeCode).arg(name);
            }
            return frame.head.size() < frame.size ? tr("The log keeps the first %1 of %2 bytes.")
                                                        .arg(frame.head.size())
                                                        .arg(frame.size)
                                                  : QVariant();
        default:
            return {};
        }
    case Qt::TextAlignmentRole:
        if (index.column() == TimeColumn || index.column() == SizeColumn)
            return QVariant(Qt::AlignRight | Qt::AlignVCenter);
        if (index.column() == DirectionColumn)
            return QVariant(Qt::AlignCenter);
        return {};
    default:
        return {};
    }
}

QVariant FramesModel::displayData(const Row &row, int column) const
{
    switch (Column(column)) {
    case TimeColumn:
        return formatOffset(row.frame.at, m_start);
    case DirectionColumn:
        return directionArrow(row.frame.direction);
    case OpcodeColumn:
        return opcodeName(row.frame.opcode);
    case SizeColumn:
        return row.frame.size;
    case DataColumn:
        return payloadPreview(row.frame);
    case ColumnCount:
        break;
    }
    return {};
}

QVariant FramesModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal)
        return QAbstractTableModel::headerData(section, orientation, role);
    if (role == Qt::ToolTipRole && section == SizeColumn)
        return tr("Payload bytes; a Close frame counts its 2-byte code");
    if (role != Qt::DisplayRole)
        return QAbstractTableModel::headerData(section, orientation, role);
    switch (Column(section)) {
    case TimeColumn:
        return tr("Time (s)");
    case DirectionColumn:
        return QString();
    case OpcodeColumn:
        return tr("Opcode");
    case SizeColumn:
        return tr("Size");
    case DataColumn:
        return tr("Data");
    case ColumnCount:
        break;
    }
    return {};
}

std::vector<FramesModel::Row> FramesModel::newFrames() const
{
    std::vector<Row> rows;
    if (!m_client)
        return rows;
    const std::deque<WebSocketFrame> &frames = m_client->frames();
    const quint64 logged = m_client->framesLogged();
    const quint64 firstKept = logged - quint64(frames.size());
    const quint64 from
        = m_rows.empty() ? firstKept : std::max(firstKept, m_rows.back().sequence + 1);
    rows.reserve(size_t(logged - from));
    for (quint64 sequence = from; sequence < logged; ++sequence)
        rows.push_back({ sequence, frames[size_t(sequence - firstKept)] });
    return rows;
}

void FramesModel::clearRows()
{
    m_rows.clear();
    m_framesLogged = 0;
    m_client = nullptr;
    m_clientName.clear();
}

void FramesModel::loadRows(World &world)
{
    m_start = world.simulation().start();
    m_client = m_clientName.isEmpty() ? nullptr : findRealClient(world, m_clientName);
    if (!m_client)
        return;
    for (Row &row : newFrames())
        m_rows.push_back(std::move(row));
    m_framesLogged = m_client->framesLogged();
}

void FramesModel::updateRows(World &world)
{
    Q_UNUSED(world);
    // A closing connection trims its log without logging a frame, so the sizes are compared too.
    if (!m_client
        || (m_client->framesLogged() == m_framesLogged
            && m_client->frames().size() == m_rows.size()))
        return;
    const std::deque<WebSocketFrame> &frames = m_client->frames();
    const quint64 firstKept = m_client->framesLogged() - quint64(frames.size());

    // The log drops its oldest frames as new ones come and when the connection closes.
    qsizetype dropped = 0;
    while (dropped < qsizetype(m_rows.size()) && m_rows[size_t(dropped)].sequence < firstKept)
        ++dropped;
    if (dropped > 0) {
        beginRemoveRows({}, 0, int(dropped) - 1);
        m_rows.erase(m_rows.begin(), m_rows.begin() + dropped);
        endRemoveRows();
    }

    std::vector<Row> incoming = newFrames();
    if (!incoming.empty()) {
        const int first = int(m_rows.size());
        beginInsertRows({}, first, first + int(incoming.size()) - 1);
        std::move(incoming.begin(), incoming.end(), std::back_inserter(m_rows));
        endInsertRows();
    }
    m_framesLogged = m_client->framesLogged();
    Q_EMIT summaryChanged();
}

} // namespace roomscope
